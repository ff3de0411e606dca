//! Schema migrations; the same code serves SQLite and PostgreSQL.
#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::prelude::*;

mod m0001_reports;
mod m0002_seed_catalogue;
mod m0003_reporting_core;
mod m0004_seed_definitions;
mod m0005_idempotency_expiry;

/// Every migration, oldest first; their names match those already applied.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_reports::M0001Reports),
            Box::new(m0002_seed_catalogue::M0002SeedCatalogue),
            Box::new(m0003_reporting_core::M0003ReportingCore),
            Box::new(m0004_seed_definitions::M0004SeedDefinitions),
            Box::new(m0005_idempotency_expiry::M0005IdempotencyExpiry),
        ]
    }
}
