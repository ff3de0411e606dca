//! Schema migrations; the same code serves SQLite and PostgreSQL.
#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::prelude::*;

mod m0001_agencies;
mod m0002_history;
mod m0003_clients;
mod m0004_registrations;
mod m0005_signing_keys;
mod m0006_agency_feed;
mod m0007_roles;

use m0001_agencies::M0001Agencies;
use m0002_history::M0002History;
use m0003_clients::M0003Clients;
use m0004_registrations::M0004Registrations;
use m0005_signing_keys::M0005SigningKeys;
use m0006_agency_feed::M0006AgencyFeed;
use m0007_roles::M0007Roles;

/// Every migration, oldest first; their names match those already applied.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Agencies),
            Box::new(M0002History),
            Box::new(M0003Clients),
            Box::new(M0004Registrations),
            Box::new(M0005SigningKeys),
            Box::new(M0006AgencyFeed),
            Box::new(M0007Roles),
        ]
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};

    use super::*;

    /// A database made before versions and clients existed upgrades with its data.
    #[tokio::test]
    async fn upgrades_keep_agencies_and_credentials() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.unwrap();
        Migrator::up(&db, Some(1)).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO agencies (code, admin_unit_code, name, name_search, name_sort, kind, level, \
             province_code, valid_from, created_at) VALUES ('000.00.00.H51', '51', 'Tỉnh Quảng Ngãi', \
             'tinh quang ngai', '0001', 'provincial_committee', 'province', '51', '1989-07-01', \
             '2024-01-01 00:00:00+00:00')",
        )
        .await
        .unwrap();
        db.execute_unprepared(
            "INSERT INTO credentials (client_id, secret_hash, agency_code, created_at) \
             VALUES ('agency-1', '$argon2id$x', '000.00.00.H51', '2024-01-01 00:00:00+00:00')",
        )
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();
        let one = |sql: &str| {
            let db = &db;
            let sql = sql.to_owned();
            async move {
                db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let version = one("SELECT code, valid_from, valid_to FROM agency_versions").await;
        assert_eq!(
            version.try_get::<String>("", "code").unwrap(),
            "000.00.00.H51"
        );
        assert_eq!(
            version.try_get::<Option<String>>("", "valid_to").unwrap(),
            None
        );
        let client =
            one("SELECT role, agency_code FROM clients WHERE client_id = 'agency-1'").await;
        assert_eq!(
            client.try_get::<String>("", "role").unwrap(),
            "agency_reporter"
        );
        let secret =
            one("SELECT secret_hash FROM client_secrets WHERE client_id = 'agency-1'").await;
        assert_eq!(
            secret.try_get::<String>("", "secret_hash").unwrap(),
            "$argon2id$x"
        );
        // Back to before m0003: the newest secret returns to `credentials`.
        let applied = Migrator::migrations().len() as u32;
        Migrator::down(&db, Some(applied - 2)).await.unwrap();
        let back = one("SELECT secret_hash FROM credentials WHERE client_id = 'agency-1'").await;
        assert_eq!(
            back.try_get::<String>("", "secret_hash").unwrap(),
            "$argon2id$x"
        );
    }
}
