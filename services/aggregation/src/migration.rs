//! Schema migrations; the same code serves SQLite and PostgreSQL.
#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Facts),
            Box::new(M0002AgencyTree),
            Box::new(M0003ReportingCore),
            Box::new(M0004AgencyKinds),
            Box::new(M0005AnswersFromMemory),
        ]
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
    Form,
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
    Kind,
    Level,
    Name,
    Successors,
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

#[derive(DeriveIden)]
enum CatalogueDefinitions {
    Table,
    Kind,
    Code,
    Payload,
}

/// The submission service's reporting core: typed values from report forms,
/// and the catalogue learned from the feed instead of asked for.
///
/// Facts are derived data and the submission feed restarted with the new
/// schema (pre-release: no deployment holds skeleton reports), so the old
/// facts and the feed cursor go, and the follower rebuilds from seq 0.
struct M0003ReportingCore;

impl MigrationName for M0003ReportingCore {
    fn name(&self) -> &str {
        "m0003_reporting_core"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003ReportingCore {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The index first, by name, then the table: on SQLite a pooled
        // connection could still see the old index after the table drop and
        // refuse the new one (seen intermittently); the new index also gets
        // its own name.
        m.drop_index(
            Index::drop()
                .name("idx_facts_province_period_element")
                .table(Facts::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Facts::Table).to_owned())
            .await?;
        m.exec_stmt(
            Query::delete()
                .from_table(FeedCursors::Table)
                .and_where(Expr::col(FeedCursors::Feed).eq("submission"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Facts::Table)
                .col(string_len(Facts::AgencyCode, 32))
                .col(string_len(Facts::Period, 16))
                .col(string_len(Facts::DataElement, 64))
                .col(string_len(Facts::Form, 64))
                .col(string_len(Facts::ProvinceCode, 8))
                // The stored integer: a count, a scaled decimal, or 1/0 for yes/no.
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
                .name("idx_facts_by_province")
                .table(Facts::Table)
                .col(Facts::ProvinceCode)
                .col(Facts::Period)
                .col(Facts::DataElement)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogueDefinitions::Table)
                .col(string_len(CatalogueDefinitions::Kind, 16))
                .col(string_len(CatalogueDefinitions::Code, 64))
                // The definition as the feed carried it (protobuf bytes).
                .col(blob(CatalogueDefinitions::Payload))
                .primary_key(
                    Index::create()
                        .col(CatalogueDefinitions::Kind)
                        .col(CatalogueDefinitions::Code),
                )
                .to_owned(),
        )
        .await
    }
}

/// The tree copy keeps each agency's kind and level, so answers can be
/// given for groups ("the district committees of a province"). The copy is
/// derived data: its rows go and the registry feed is replayed from 0,
/// which fills the new columns.
struct M0004AgencyKinds;

impl MigrationName for M0004AgencyKinds {
    fn name(&self) -> &str {
        "m0004_agency_kinds"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004AgencyKinds {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table(AgencyTree::Table).to_owned())
            .await?;
        m.exec_stmt(
            Query::delete()
                .from_table(FeedCursors::Table)
                .and_where(Expr::col(FeedCursors::Feed).eq("registry"))
                .to_owned(),
        )
        .await?;
        // Two statements: SQLite adds one column per ALTER TABLE.
        for column in [AgencyTree::Kind, AgencyTree::Level] {
            m.alter_table(
                Table::alter()
                    .table(AgencyTree::Table)
                    .add_column(string_len(column, 32).default(""))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ReportStates {
    Table,
    Form,
    Period,
    AgencyCode,
    ProvinceCode,
    State,
    DaysLate,
}

/// Names and lineage in the tree copy (the registry feed is replayed to
/// fill them), and where each report stands, for completeness (the
/// submission feed is replayed to fill it: facts are replaced, never added,
/// so replaying them is harmless).
struct M0005AnswersFromMemory;

impl MigrationName for M0005AnswersFromMemory {
    fn name(&self) -> &str {
        "m0005_answers_from_memory"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005AnswersFromMemory {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table(AgencyTree::Table).to_owned())
            .await?;
        m.exec_stmt(Query::delete().from_table(FeedCursors::Table).to_owned())
            .await?;
        for column in [AgencyTree::Name, AgencyTree::Successors] {
            m.alter_table(
                Table::alter()
                    .table(AgencyTree::Table)
                    .add_column(text(column).default(""))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(ReportStates::Table)
                .col(string_len(ReportStates::Form, 64))
                .col(string_len(ReportStates::Period, 16))
                .col(string_len(ReportStates::AgencyCode, 32))
                .col(string_len(ReportStates::ProvinceCode, 8))
                .col(string_len(ReportStates::State, 16))
                .col(integer(ReportStates::DaysLate))
                .primary_key(
                    Index::create()
                        .col(ReportStates::Form)
                        .col(ReportStates::Period)
                        .col(ReportStates::AgencyCode),
                )
                .to_owned(),
        )
        .await
    }
}
