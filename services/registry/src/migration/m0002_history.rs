#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_agencies::Agencies;

#[derive(DeriveIden)]
pub(super) enum AgencyVersions {
    Table,
    Id,
    Code,
    AdminUnitCode,
    Name,
    NameEn,
    NameSearch,
    NameSort,
    Kind,
    Level,
    ParentCode,
    ProvinceCode,
    ValidFrom,
    ValidTo,
    ReorganisationId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Reorganisations {
    Table,
    Id,
    EffectiveDate,
    LegalBasis,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
pub(super) enum LineageLinks {
    Table,
    Id,
    ReorganisationId,
    PredecessorCode,
    SuccessorCode,
    Kind,
}

#[derive(DeriveIden)]
pub(super) enum AgencyHistory {
    RetiredBy,
}

/// Validity over time: a version row per name/parent/province span, the
/// reorganisations that start or end them, and merge/split lineage.
pub(super) struct M0002History;

impl MigrationName for M0002History {
    fn name(&self) -> &str {
        "m0002_history"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002History {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgencyVersions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AgencyVersions::Id))
                    .col(string_len(AgencyVersions::Code, 32))
                    .col(string_len_null(AgencyVersions::AdminUnitCode, 8))
                    .col(string_len(AgencyVersions::Name, 512))
                    .col(string_len_null(AgencyVersions::NameEn, 512))
                    .col(string_len(AgencyVersions::NameSearch, 512))
                    .col(string_len(AgencyVersions::NameSort, 4096))
                    .col(string_len(AgencyVersions::Kind, 32))
                    .col(string_len(AgencyVersions::Level, 16))
                    .col(string_len_null(AgencyVersions::ParentCode, 32))
                    .col(string_len(AgencyVersions::ProvinceCode, 8))
                    .col(date(AgencyVersions::ValidFrom))
                    .col(date_null(AgencyVersions::ValidTo))
                    .col(big_integer_null(AgencyVersions::ReorganisationId))
                    .col(timestamp_with_time_zone(AgencyVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_agency_versions_code",
                vec![AgencyVersions::Code, AgencyVersions::ValidFrom],
            ),
            (
                "idx_agency_versions_province_sort",
                vec![AgencyVersions::ProvinceCode, AgencyVersions::NameSort],
            ),
            (
                "idx_agency_versions_parent",
                vec![AgencyVersions::ParentCode],
            ),
            (
                "idx_agency_versions_reorganisation",
                vec![AgencyVersions::ReorganisationId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AgencyVersions::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // Every agency so far has had one version: its current row.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO agency_versions (code, admin_unit_code, name, name_en, name_search, \
                 name_sort, kind, level, parent_code, province_code, valid_from, valid_to, created_at) \
                 SELECT code, admin_unit_code, name, name_en, name_search, name_sort, kind, level, \
                 parent_code, province_code, valid_from, valid_to, created_at FROM agencies ORDER BY id",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .add_column(big_integer_null(AgencyHistory::RetiredBy))
                    .to_owned(),
            )
            .await?;
        // QĐ 124/2004 codes name one unit nationwide and are never reused.
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_admin_unit_code")
                    .table(Agencies::Table)
                    .col(Agencies::AdminUnitCode)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reorganisations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Reorganisations::Id))
                    .col(date(Reorganisations::EffectiveDate))
                    .col(string_len(Reorganisations::LegalBasis, 512))
                    .col(string_len_null(Reorganisations::Note, 2048))
                    .col(string_len(Reorganisations::RecordedBy, 64))
                    .col(timestamp_with_time_zone(Reorganisations::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LineageLinks::Table)
                    .if_not_exists()
                    .col(big_pk_auto(LineageLinks::Id))
                    .col(big_integer(LineageLinks::ReorganisationId))
                    .col(string_len(LineageLinks::PredecessorCode, 32))
                    .col(string_len(LineageLinks::SuccessorCode, 32))
                    .col(string_len(LineageLinks::Kind, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_predecessor")
                    .table(LineageLinks::Table)
                    .col(LineageLinks::PredecessorCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_successor")
                    .table(LineageLinks::Table)
                    .col(LineageLinks::SuccessorCode)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LineageLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Reorganisations::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_agencies_admin_unit_code")
                    .table(Agencies::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .drop_column(AgencyHistory::RetiredBy)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AgencyVersions::Table).to_owned())
            .await
    }
}
