//! The skeleton's tables (four elements, one status); m0003 replaces them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(super) enum DataElements {
    Table,
    Code,
    Name,
    NameEn,
}

#[derive(DeriveIden)]
pub(super) enum Indicators {
    Table,
    Code,
    Name,
    NameEn,
    Numerator,
    Denominator,
    Factor,
    Unit,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    AgencyCode,
    ProvinceCode,
    Period,
    Version,
    Status,
    SubmittedBy,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum ReportValues {
    Table,
    ReportId,
    DataElement,
    ProvinceCode,
    Value,
}

#[derive(DeriveIden)]
enum ChangeFeed {
    Table,
    Seq,
    Kind,
    ReportId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeedHead {
    Table,
    Id,
    LastSeq,
}

pub struct M0001Reports;

impl MigrationName for M0001Reports {
    fn name(&self) -> &str {
        "m0001_reports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Reports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DataElements::Table)
                .col(string_len(DataElements::Code, 64).primary_key())
                .col(string_len(DataElements::Name, 512))
                .col(string_len_null(DataElements::NameEn, 512))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Indicators::Table)
                .col(string_len(Indicators::Code, 64).primary_key())
                .col(string_len(Indicators::Name, 512))
                .col(string_len_null(Indicators::NameEn, 512))
                .col(string_len(Indicators::Numerator, 64))
                .col(string_len_null(Indicators::Denominator, 64))
                .col(double(Indicators::Factor))
                .col(string_len(Indicators::Unit, 32))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Reports::Table)
                .col(string_len(Reports::Id, 36).primary_key())
                .col(string_len(Reports::AgencyCode, 32))
                .col(string_len(Reports::ProvinceCode, 8))
                .col(string_len(Reports::Period, 16))
                .col(integer(Reports::Version))
                .col(string_len(Reports::Status, 16))
                .col(string_len(Reports::SubmittedBy, 128))
                .col(timestamp_with_time_zone(Reports::SubmittedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_reports_agency_period_version")
                .table(Reports::Table)
                .col(Reports::AgencyCode)
                .col(Reports::Period)
                .col(Reports::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReportValues::Table)
                .col(string_len(ReportValues::ReportId, 36))
                .col(string_len(ReportValues::DataElement, 64))
                .col(string_len(ReportValues::ProvinceCode, 8))
                .col(big_integer(ReportValues::Value))
                .primary_key(
                    Index::create()
                        .col(ReportValues::ReportId)
                        .col(ReportValues::DataElement),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ChangeFeed::Table)
                .col(big_integer(ChangeFeed::Seq).primary_key())
                .col(string_len(ChangeFeed::Kind, 32))
                .col(string_len(ChangeFeed::ReportId, 36))
                .col(timestamp_with_time_zone(ChangeFeed::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FeedHead::Table)
                .col(integer(FeedHead::Id).primary_key())
                .col(big_integer(FeedHead::LastSeq))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(FeedHead::Table)
                .columns([FeedHead::Id, FeedHead::LastSeq])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await
    }
}
