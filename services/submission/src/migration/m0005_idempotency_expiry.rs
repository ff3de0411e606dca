//! Idempotency keys expire: an index on when each was stored, so the
//! hourly sweep deletes old keys without reading the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    CreatedAt,
}

pub struct M0005IdempotencyExpiry;

impl MigrationName for M0005IdempotencyExpiry {
    fn name(&self) -> &str {
        "m0005_idempotency_expiry"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005IdempotencyExpiry {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_idempotency_keys_created_at")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::CreatedAt)
                .to_owned(),
        )
        .await
    }
}
