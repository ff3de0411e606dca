#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_agencies::Credentials;

#[derive(DeriveIden)]
pub(super) enum Clients {
    Table,
    Id,
    ClientId,
    Role,
    AgencyCode,
    ProvinceCode,
    Label,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
pub(super) enum ClientSecrets {
    Table,
    Id,
    ClientId,
    SecretHash,
    CreatedAt,
    ExpiresAt,
}

/// Clients of any role (agencies and province officers), each with one or
/// more secrets so a rotated secret can keep working for a grace period.
/// Replaces `credentials`, whose rows become agency clients.
pub(super) struct M0003Clients;

impl MigrationName for M0003Clients {
    fn name(&self) -> &str {
        "m0003_clients"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Clients {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Clients::Id))
                    .col(string_len_uniq(Clients::ClientId, 64))
                    .col(string_len(Clients::Role, 32))
                    .col(string_len_null(Clients::AgencyCode, 32))
                    .col(string_len_null(Clients::ProvinceCode, 8))
                    .col(string_len_null(Clients::Label, 255))
                    .col(string_len(Clients::CreatedBy, 64))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone_null(Clients::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_clients_agency")
                    .table(Clients::Table)
                    .col(Clients::AgencyCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClientSecrets::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ClientSecrets::Id))
                    .col(string_len(ClientSecrets::ClientId, 64))
                    .col(string_len(ClientSecrets::SecretHash, 256))
                    .col(timestamp_with_time_zone(ClientSecrets::CreatedAt))
                    .col(timestamp_with_time_zone_null(ClientSecrets::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_client_secrets_client")
                    .table(ClientSecrets::Table)
                    .col(ClientSecrets::ClientId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO clients (client_id, role, agency_code, created_by, created_at, revoked_at) \
             SELECT client_id, 'agency', agency_code, 'admin', created_at, revoked_at FROM credentials ORDER BY id",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO client_secrets (client_id, secret_hash, created_at) \
             SELECT client_id, secret_hash, created_at FROM credentials ORDER BY id",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
        // Agency clients keep their newest secret; officers did not exist before.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO credentials (client_id, secret_hash, agency_code, created_at, revoked_at) \
                 SELECT c.client_id, s.secret_hash, c.agency_code, c.created_at, c.revoked_at \
                 FROM clients c JOIN client_secrets s ON s.client_id = c.client_id \
                 WHERE c.role = 'agency' AND s.id = (SELECT MAX(id) FROM client_secrets x WHERE x.client_id = c.client_id)",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ClientSecrets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}
