#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(super) enum Agencies {
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
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Credentials {
    Table,
    Id,
    ClientId,
    SecretHash,
    AgencyCode,
    CreatedAt,
    RevokedAt,
}

pub(super) struct M0001Agencies;

impl MigrationName for M0001Agencies {
    fn name(&self) -> &str {
        "m0001_agencies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Agencies {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Agencies::Id))
                    .col(string_len_uniq(Agencies::Code, 32))
                    .col(string_len_null(Agencies::AdminUnitCode, 8))
                    .col(string_len(Agencies::Name, 512))
                    .col(string_len_null(Agencies::NameEn, 512))
                    .col(string_len(Agencies::NameSearch, 512))
                    .col(string_len(Agencies::NameSort, 4096))
                    .col(string_len(Agencies::Kind, 32))
                    .col(string_len(Agencies::Level, 16))
                    .col(string_len_null(Agencies::ParentCode, 32))
                    .col(string_len(Agencies::ProvinceCode, 8))
                    .col(date(Agencies::ValidFrom))
                    .col(date_null(Agencies::ValidTo))
                    .col(timestamp_with_time_zone(Agencies::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_province_sort")
                    .table(Agencies::Table)
                    .col(Agencies::ProvinceCode)
                    .col(Agencies::NameSort)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_parent")
                    .table(Agencies::Table)
                    .col(Agencies::ParentCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Credentials::Id))
                    .col(string_len_uniq(Credentials::ClientId, 64))
                    .col(string_len(Credentials::SecretHash, 256))
                    .col(string_len(Credentials::AgencyCode, 32))
                    .col(timestamp_with_time_zone(Credentials::CreatedAt))
                    .col(timestamp_with_time_zone_null(Credentials::RevokedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Agencies::Table).to_owned())
            .await
    }
}
