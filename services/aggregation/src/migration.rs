//! Schema migrations; the same code serves SQLite and PostgreSQL.
#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001Facts), Box::new(M0002AgencyTree)]
    }
}

#[derive(DeriveIden)]
enum Facts {
    Table,
    AgencyCode,
    Period,
    DataElement,
    ProvinceCode,
    Value,
    ReportId,
    ReportVersion,
}

#[derive(DeriveIden)]
enum FeedCursors {
    Table,
    Feed,
    LastSeq,
}

struct M0001Facts;

impl MigrationName for M0001Facts {
    fn name(&self) -> &str {
        "m0001_facts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Facts {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Facts::Table)
                .col(string_len(Facts::AgencyCode, 32))
                .col(string_len(Facts::Period, 16))
                .col(string_len(Facts::DataElement, 64))
                .col(string_len(Facts::ProvinceCode, 8))
                .col(big_integer(Facts::Value))
                .col(string_len(Facts::ReportId, 36))
                .col(integer(Facts::ReportVersion))
                .primary_key(
                    Index::create()
                        .col(Facts::AgencyCode)
                        .col(Facts::Period)
                        .col(Facts::DataElement),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_facts_province_period_element")
                .table(Facts::Table)
                .col(Facts::ProvinceCode)
                .col(Facts::Period)
                .col(Facts::DataElement)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FeedCursors::Table)
                .col(string_len(FeedCursors::Feed, 32).primary_key())
                .col(big_integer(FeedCursors::LastSeq))
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum AgencyTree {
    Table,
    Code,
    ValidFrom,
    ValidTo,
    ParentCode,
    ProvinceCode,
    AdminUnitCode,
}

struct M0002AgencyTree;

impl MigrationName for M0002AgencyTree {
    fn name(&self) -> &str {
        "m0002_agency_tree"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002AgencyTree {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AgencyTree::Table)
                .col(string_len(AgencyTree::Code, 32))
                .col(date(AgencyTree::ValidFrom))
                .col(date_null(AgencyTree::ValidTo))
                .col(string_len_null(AgencyTree::ParentCode, 32))
                .col(string_len(AgencyTree::ProvinceCode, 8))
                .col(string_len_null(AgencyTree::AdminUnitCode, 8))
                .primary_key(
                    Index::create()
                        .col(AgencyTree::Code)
                        .col(AgencyTree::ValidFrom),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_agency_tree_admin_unit")
                .table(AgencyTree::Table)
                .col(AgencyTree::AdminUnitCode)
                .to_owned(),
        )
        .await
    }
}
