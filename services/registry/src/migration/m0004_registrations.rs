#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(super) enum RegistrationRequests {
    Table,
    Id,
    Code,
    AdminUnitCode,
    Name,
    NameEn,
    Kind,
    ParentCode,
    ValidFrom,
    ProvinceCode,
    ContactName,
    ContactEmail,
    ContactPhone,
    Note,
    Status,
    Reason,
    DecidedBy,
    DecidedAt,
    ClientId,
    FiledFrom,
    FiledAt,
}

/// Registration requests agencies file without a token, for an officer to decide.
pub(super) struct M0004Registrations;

impl MigrationName for M0004Registrations {
    fn name(&self) -> &str {
        "m0004_registrations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004Registrations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegistrationRequests::Table)
                    .if_not_exists()
                    .col(string_len(RegistrationRequests::Id, 36).primary_key())
                    .col(string_len(RegistrationRequests::Code, 32))
                    .col(string_len_null(RegistrationRequests::AdminUnitCode, 8))
                    .col(string_len(RegistrationRequests::Name, 512))
                    .col(string_len_null(RegistrationRequests::NameEn, 512))
                    .col(string_len(RegistrationRequests::Kind, 32))
                    .col(string_len_null(RegistrationRequests::ParentCode, 32))
                    .col(date(RegistrationRequests::ValidFrom))
                    .col(string_len(RegistrationRequests::ProvinceCode, 8))
                    .col(string_len(RegistrationRequests::ContactName, 255))
                    .col(string_len(RegistrationRequests::ContactEmail, 254))
                    .col(string_len_null(RegistrationRequests::ContactPhone, 32))
                    .col(string_len_null(RegistrationRequests::Note, 2048))
                    .col(string_len(RegistrationRequests::Status, 16))
                    .col(string_len_null(RegistrationRequests::Reason, 2048))
                    .col(string_len_null(RegistrationRequests::DecidedBy, 64))
                    .col(timestamp_with_time_zone_null(
                        RegistrationRequests::DecidedAt,
                    ))
                    .col(string_len_null(RegistrationRequests::ClientId, 64))
                    .col(string_len(RegistrationRequests::FiledFrom, 64))
                    .col(timestamp_with_time_zone(RegistrationRequests::FiledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_registrations_status_province")
                    .table(RegistrationRequests::Table)
                    .col(RegistrationRequests::Status)
                    .col(RegistrationRequests::ProvinceCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_registrations_code")
                    .table(RegistrationRequests::Table)
                    .col(RegistrationRequests::Code)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RegistrationRequests::Table).to_owned())
            .await
    }
}
