//! The reporting core: catalogue definitions, reports with every version,
//! unlocks, idempotency keys, the audit log, the copy of the agency tree and
//! the feed outbox.
//!
//! It drops the skeleton's tables first. chiso is not released yet and no
//! deployment holds skeleton reports (the skeleton stored test data only),
//! so nothing is carried over.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum Skeleton {
    Reports,
    ReportValues,
    ChangeFeed,
    FeedHead,
    DataElements,
    Indicators,
}

/// The four definition tables share one shape: the `Raw*` JSON as written.
#[derive(DeriveIden, Clone, Copy)]
#[allow(clippy::enum_variant_names)] // the column is called `definition`
pub(super) enum Definition {
    DataElements,
    Indicators,
    ValidationRules,
    Forms,
    Code,
    Definition,
    Retired,
    RetiredAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum CatalogueVersion {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    Form,
    Period,
    AgencyCode,
    ProvinceCode,
    Version,
    Status,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReportVersions {
    Table,
    ReportId,
    Version,
    ProvinceCode,
    Status,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    SubmittedBy,
    ReceivedOn,
    DaysLate,
    ReviewedBy,
    ReviewedAt,
    ReviewComment,
    KeyId,
    Signature,
    SignedAt,
}

#[derive(DeriveIden)]
enum ReportValues {
    Table,
    ReportId,
    Version,
    DataElement,
    ProvinceCode,
    Value,
}

#[derive(DeriveIden)]
enum Unlocks {
    Table,
    Form,
    Period,
    AgencyCode,
    ProvinceCode,
    Reason,
    Until,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Subject,
    Method,
    Key,
    RequestHash,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ReportId,
    Item,
    Form,
    Period,
    AgencyCode,
    ProvinceCode,
    Action,
    Actor,
    ActorRole,
    Address,
    RequestId,
    At,
    Version,
    StatusBefore,
    StatusAfter,
    ValuesBefore,
    ValuesAfter,
    Comment,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Code,
    ValidFrom,
    ValidTo,
    Kind,
    Level,
    ProvinceCode,
}

#[derive(DeriveIden)]
enum AgencyFeedCursor {
    Table,
    Id,
    LastSeq,
}

#[derive(DeriveIden)]
pub(super) enum FeedOutbox {
    Table,
    Id,
    Seq,
    At,
    Payload,
}

#[derive(DeriveIden)]
pub(super) enum FeedHead {
    Table,
    Id,
    LastSeq,
}

pub struct M0003ReportingCore;

impl MigrationName for M0003ReportingCore {
    fn name(&self) -> &str {
        "m0003_reporting_core"
    }
}

fn index(name: &str, table: impl IntoIden) -> IndexCreateStatement {
    Index::create().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0003ReportingCore {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Skeleton::Reports,
            Skeleton::ReportValues,
            Skeleton::ChangeFeed,
            Skeleton::FeedHead,
            Skeleton::DataElements,
            Skeleton::Indicators,
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }

        for table in [
            Definition::DataElements,
            Definition::Indicators,
            Definition::ValidationRules,
            Definition::Forms,
        ] {
            m.create_table(
                Table::create()
                    .table(table)
                    .col(string_len(Definition::Code, 64).primary_key())
                    .col(text(Definition::Definition))
                    .col(boolean(Definition::Retired).default(false))
                    .col(timestamp_with_time_zone_null(Definition::RetiredAt))
                    .col(timestamp_with_time_zone(Definition::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(CatalogueVersion::Table)
                .col(integer(CatalogueVersion::Id).primary_key())
                .col(big_integer(CatalogueVersion::Version))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(CatalogueVersion::Table)
                .columns([CatalogueVersion::Id, CatalogueVersion::Version])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Reports::Table)
                .col(string_len(Reports::Id, 36).primary_key())
                .col(string_len(Reports::Form, 64))
                .col(string_len(Reports::Period, 16))
                .col(string_len(Reports::AgencyCode, 32))
                .col(string_len(Reports::ProvinceCode, 8))
                .col(integer(Reports::Version))
                .col(string_len(Reports::Status, 16))
                .col(big_integer(Reports::Revision))
                .col(timestamp_with_time_zone(Reports::CreatedAt))
                .col(timestamp_with_time_zone(Reports::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // One report per form, period and agency: the race between two first
        // saves ends here.
        m.create_index(
            index("uq_reports_form_period_agency", Reports::Table)
                .col(Reports::Form)
                .col(Reports::Period)
                .col(Reports::AgencyCode)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_reports_agency", Reports::Table)
                .col(Reports::AgencyCode)
                .col(Reports::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_reports_province", Reports::Table)
                .col(Reports::ProvinceCode)
                .col(Reports::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReportVersions::Table)
                .col(string_len(ReportVersions::ReportId, 36))
                .col(integer(ReportVersions::Version))
                .col(string_len(ReportVersions::ProvinceCode, 8))
                .col(string_len(ReportVersions::Status, 16))
                .col(timestamp_with_time_zone(ReportVersions::CreatedAt))
                .col(timestamp_with_time_zone(ReportVersions::UpdatedAt))
                .col(timestamp_with_time_zone_null(ReportVersions::SubmittedAt))
                .col(string_len_null(ReportVersions::SubmittedBy, 128))
                .col(date_null(ReportVersions::ReceivedOn))
                .col(integer(ReportVersions::DaysLate))
                .col(string_len_null(ReportVersions::ReviewedBy, 128))
                .col(timestamp_with_time_zone_null(ReportVersions::ReviewedAt))
                .col(text_null(ReportVersions::ReviewComment))
                .col(string_len_null(ReportVersions::KeyId, 64))
                .col(string_len_null(ReportVersions::Signature, 128))
                .col(timestamp_with_time_zone_null(ReportVersions::SignedAt))
                .primary_key(
                    Index::create()
                        .col(ReportVersions::ReportId)
                        .col(ReportVersions::Version),
                )
                .to_owned(),
        )
        .await?;

        // Values as the stored integer (counts, scaled decimals, yes/no as
        // 1/0); the province is the distribution key under Citus.
        m.create_table(
            Table::create()
                .table(ReportValues::Table)
                .col(string_len(ReportValues::ReportId, 36))
                .col(integer(ReportValues::Version))
                .col(string_len(ReportValues::DataElement, 64))
                .col(string_len(ReportValues::ProvinceCode, 8))
                .col(big_integer(ReportValues::Value))
                .primary_key(
                    Index::create()
                        .col(ReportValues::ReportId)
                        .col(ReportValues::Version)
                        .col(ReportValues::DataElement),
                )
                .to_owned(),
        )
        .await?;
        // "Does any report hold a value of this element?" before a value-type change.
        m.create_index(
            index("ix_report_values_element", ReportValues::Table)
                .col(ReportValues::DataElement)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Unlocks::Table)
                .col(string_len(Unlocks::Form, 64))
                .col(string_len(Unlocks::Period, 16))
                .col(string_len(Unlocks::AgencyCode, 32))
                .col(string_len(Unlocks::ProvinceCode, 8))
                .col(text(Unlocks::Reason))
                .col(timestamp_with_time_zone(Unlocks::Until))
                .col(string_len(Unlocks::GrantedBy, 128))
                .col(timestamp_with_time_zone(Unlocks::GrantedAt))
                .primary_key(
                    Index::create()
                        .col(Unlocks::Form)
                        .col(Unlocks::Period)
                        .col(Unlocks::AgencyCode),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(string_len(IdempotencyKeys::Subject, 128))
                .col(string_len(IdempotencyKeys::Method, 64))
                .col(string_len(IdempotencyKeys::Key, 128))
                .col(string_len(IdempotencyKeys::RequestHash, 64))
                .col(blob(IdempotencyKeys::Response))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Subject)
                        .col(IdempotencyKeys::Method)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(string_len_null(AuditLog::ReportId, 36))
                .col(string_len(AuditLog::Item, 96))
                .col(string_len(AuditLog::Form, 64))
                .col(string_len(AuditLog::Period, 16))
                .col(string_len(AuditLog::AgencyCode, 32))
                .col(string_len(AuditLog::ProvinceCode, 8))
                .col(string_len(AuditLog::Action, 32))
                .col(string_len(AuditLog::Actor, 128))
                .col(string_len(AuditLog::ActorRole, 32))
                .col(string_len(AuditLog::Address, 128))
                .col(string_len(AuditLog::RequestId, 128))
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(integer(AuditLog::Version))
                .col(string_len_null(AuditLog::StatusBefore, 16))
                .col(string_len_null(AuditLog::StatusAfter, 16))
                .col(text_null(AuditLog::ValuesBefore))
                .col(text_null(AuditLog::ValuesAfter))
                .col(text(AuditLog::Comment))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_audit_report", AuditLog::Table)
                .col(AuditLog::ReportId)
                .col(AuditLog::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_audit_agency", AuditLog::Table)
                .col(AuditLog::AgencyCode)
                .col(AuditLog::Id)
                .to_owned(),
        )
        .await?;

        // The registry's agency versions, as the agency feed delivers them:
        // who had to report in which period.
        m.create_table(
            Table::create()
                .table(Agencies::Table)
                .col(string_len(Agencies::Code, 32))
                .col(date(Agencies::ValidFrom))
                .col(date_null(Agencies::ValidTo))
                .col(string_len(Agencies::Kind, 32))
                .col(string_len(Agencies::Level, 16))
                .col(string_len(Agencies::ProvinceCode, 8))
                .primary_key(Index::create().col(Agencies::Code).col(Agencies::ValidFrom))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_agencies_province", Agencies::Table)
                .col(Agencies::ProvinceCode)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AgencyFeedCursor::Table)
                .col(integer(AgencyFeedCursor::Id).primary_key())
                .col(big_integer(AgencyFeedCursor::LastSeq))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AgencyFeedCursor::Table)
                .columns([AgencyFeedCursor::Id, AgencyFeedCursor::LastSeq])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await?;

        // Writers append unnumbered rows; the sequencer numbers them.
        m.create_table(
            Table::create()
                .table(FeedOutbox::Table)
                .col(big_pk_auto(FeedOutbox::Id))
                .col(big_integer_null(FeedOutbox::Seq))
                .col(timestamp_with_time_zone(FeedOutbox::At))
                .col(blob(FeedOutbox::Payload))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_feed_outbox_seq", FeedOutbox::Table)
                .col(FeedOutbox::Seq)
                .unique()
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
