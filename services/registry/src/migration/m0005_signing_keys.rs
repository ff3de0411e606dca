#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(super) enum SigningKeys {
    Table,
    Id,
    KeyId,
    AgencyCode,
    PublicKey,
    Label,
    RegisteredBy,
    RegisteredAt,
    RevokedAt,
    RevokedBy,
    RevocationReason,
}

/// Ed25519 public keys agencies sign reports with; revoked keys stay, so
/// signatures made before the revocation remain verifiable.
pub(super) struct M0005SigningKeys;

impl MigrationName for M0005SigningKeys {
    fn name(&self) -> &str {
        "m0005_signing_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005SigningKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SigningKeys::Id))
                    .col(string_len_uniq(SigningKeys::KeyId, 64))
                    .col(string_len(SigningKeys::AgencyCode, 32))
                    .col(string_len_uniq(SigningKeys::PublicKey, 64))
                    .col(string_len_null(SigningKeys::Label, 255))
                    .col(string_len(SigningKeys::RegisteredBy, 64))
                    .col(timestamp_with_time_zone(SigningKeys::RegisteredAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RevokedAt))
                    .col(string_len_null(SigningKeys::RevokedBy, 64))
                    .col(string_len_null(SigningKeys::RevocationReason, 2048))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_agency")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::AgencyCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}
