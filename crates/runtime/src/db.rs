//! Database connections: SQLite files for the embedded setup, PostgreSQL
//! (one schema per service) in production.

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use tracing::info;

use crate::config::DatabaseConfig;

/// Connects, creating the SQLite file's folder or the PostgreSQL schema, and runs `M`'s migrations.
pub async fn connect_and_migrate<M: MigratorTrait>(
    config: &DatabaseConfig,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect(config).await?;
    if config.is_postgres() {
        // Replicas starting together take turns: the session-level advisory
        // lock lives on the one connection of this single-connection pool.
        let mut single = config.clone();
        single.max_connections = 1;
        single.min_connections = 1;
        let session = connect(&single).await?;
        session
            .execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .await
            .context("failed to take the migration lock")?;
        let migrated = M::up(&session, None).await;
        session
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .await
            .ok();
        session.close().await.ok();
        migrated.context("failed to run migrations")?;
    } else {
        M::up(&db, None).await.context("failed to run migrations")?;
    }
    Ok(db)
}

/// Advisory-lock key that serialises migrations within one database.
const MIGRATION_LOCK: i64 = 0x6368_6973_6f00;

/// Opens a pool sized by `config`.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DatabaseConnection> {
    let url = config.url.expose_secret();
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create database folder {}", dir.display()))?;
    }
    let schema = config.schema.as_deref().filter(|_| config.is_postgres());
    if let Some(schema) = schema {
        let admin = Database::connect(base_options(config).max_connections(1).to_owned())
            .await
            .context("failed to connect to the database")?;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .context("failed to create the service's schema")?;
        admin.close().await.ok();
    }
    let mut options = base_options(config);
    if let Some(schema) = schema {
        options.set_schema_search_path(schema.to_owned());
    }
    let db = Database::connect(options)
        .await
        .context("failed to connect to the database")?;
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed while one writer commits.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    info!(backend = ?db.get_database_backend(), schema = schema.unwrap_or("-"), "database connected");
    Ok(db)
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN IMMEDIATE`, waiting its turn: a deferred transaction that reads
/// first would fail with "database is locked" when another write committed
/// in between. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

fn base_options(config: &DatabaseConfig) -> ConnectOptions {
    let mut options = ConnectOptions::new(config.url.expose_secret().to_owned());
    options
        .max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .acquire_timeout(config.acquire_timeout())
        .connect_timeout(config.acquire_timeout())
        .sqlx_logging(false);
    options
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn finds_the_sqlite_file() {
        assert_eq!(
            sqlite_path("sqlite://data/registry.db?mode=rwc"),
            Some("data/registry.db")
        );
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/x"), None);
    }
}
