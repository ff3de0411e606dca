#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(super) enum AgencyEvents {
    Table,
    Seq,
    AgencyCode,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum AgencyFeedHead {
    Table,
    Id,
    LastSeq,
}

/// The agency change feed, seeded with one entry per existing agency so a
/// consumer starting from 0 gets the whole tree.
pub(super) struct M0006AgencyFeed;

impl MigrationName for M0006AgencyFeed {
    fn name(&self) -> &str {
        "m0006_agency_feed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006AgencyFeed {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AgencyEvents::Table)
                .col(big_integer(AgencyEvents::Seq).primary_key())
                .col(string_len(AgencyEvents::AgencyCode, 32))
                .col(timestamp_with_time_zone(AgencyEvents::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AgencyFeedHead::Table)
                .col(integer(AgencyFeedHead::Id).primary_key())
                .col(big_integer(AgencyFeedHead::LastSeq))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO agency_events (seq, agency_code, created_at) \
             SELECT ROW_NUMBER() OVER (ORDER BY id), code, CURRENT_TIMESTAMP FROM agencies",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO agency_feed_head (id, last_seq) SELECT 1, COUNT(*) FROM agencies",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AgencyFeedHead::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AgencyEvents::Table).to_owned())
            .await
    }
}
