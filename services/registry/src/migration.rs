//! Schema migrations; the same code serves SQLite and PostgreSQL.
#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

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
        ]
    }
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Code,
    AdminUnitCode,
    Name,
    NameEn,
    NameSearch,
    NameSort,
    Kind,
    Level,
    ParentCode,
    ProvinceCode,
    ValidFrom,
    ValidTo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    ClientId,
    SecretHash,
    AgencyCode,
    CreatedAt,
    RevokedAt,
}

struct M0001Agencies;

impl MigrationName for M0001Agencies {
    fn name(&self) -> &str {
        "m0001_agencies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Agencies {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Agencies::Id))
                    .col(string_len_uniq(Agencies::Code, 32))
                    .col(string_len_null(Agencies::AdminUnitCode, 8))
                    .col(string_len(Agencies::Name, 512))
                    .col(string_len_null(Agencies::NameEn, 512))
                    .col(string_len(Agencies::NameSearch, 512))
                    .col(string_len(Agencies::NameSort, 4096))
                    .col(string_len(Agencies::Kind, 32))
                    .col(string_len(Agencies::Level, 16))
                    .col(string_len_null(Agencies::ParentCode, 32))
                    .col(string_len(Agencies::ProvinceCode, 8))
                    .col(date(Agencies::ValidFrom))
                    .col(date_null(Agencies::ValidTo))
                    .col(timestamp_with_time_zone(Agencies::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_province_sort")
                    .table(Agencies::Table)
                    .col(Agencies::ProvinceCode)
                    .col(Agencies::NameSort)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_parent")
                    .table(Agencies::Table)
                    .col(Agencies::ParentCode)
                    .to_owned(),
            )
            .await?;
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Agencies::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AgencyVersions {
    Table,
    Id,
    Code,
    AdminUnitCode,
    Name,
    NameEn,
    NameSearch,
    NameSort,
    Kind,
    Level,
    ParentCode,
    ProvinceCode,
    ValidFrom,
    ValidTo,
    ReorganisationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Reorganisations {
    Table,
    Id,
    EffectiveDate,
    LegalBasis,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum LineageLinks {
    Table,
    Id,
    ReorganisationId,
    PredecessorCode,
    SuccessorCode,
    Kind,
}

#[derive(DeriveIden)]
enum AgencyHistory {
    RetiredBy,
}

/// Validity over time: a version row per name/parent/province span, the
/// reorganisations that start or end them, and merge/split lineage.
struct M0002History;

impl MigrationName for M0002History {
    fn name(&self) -> &str {
        "m0002_history"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002History {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgencyVersions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AgencyVersions::Id))
                    .col(string_len(AgencyVersions::Code, 32))
                    .col(string_len_null(AgencyVersions::AdminUnitCode, 8))
                    .col(string_len(AgencyVersions::Name, 512))
                    .col(string_len_null(AgencyVersions::NameEn, 512))
                    .col(string_len(AgencyVersions::NameSearch, 512))
                    .col(string_len(AgencyVersions::NameSort, 4096))
                    .col(string_len(AgencyVersions::Kind, 32))
                    .col(string_len(AgencyVersions::Level, 16))
                    .col(string_len_null(AgencyVersions::ParentCode, 32))
                    .col(string_len(AgencyVersions::ProvinceCode, 8))
                    .col(date(AgencyVersions::ValidFrom))
                    .col(date_null(AgencyVersions::ValidTo))
                    .col(big_integer_null(AgencyVersions::ReorganisationId))
                    .col(timestamp_with_time_zone(AgencyVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_agency_versions_code",
                vec![AgencyVersions::Code, AgencyVersions::ValidFrom],
            ),
            (
                "idx_agency_versions_province_sort",
                vec![AgencyVersions::ProvinceCode, AgencyVersions::NameSort],
            ),
            (
                "idx_agency_versions_parent",
                vec![AgencyVersions::ParentCode],
            ),
            (
                "idx_agency_versions_reorganisation",
                vec![AgencyVersions::ReorganisationId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AgencyVersions::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // Every agency so far has had one version: its current row.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO agency_versions (code, admin_unit_code, name, name_en, name_search, \
                 name_sort, kind, level, parent_code, province_code, valid_from, valid_to, created_at) \
                 SELECT code, admin_unit_code, name, name_en, name_search, name_sort, kind, level, \
                 parent_code, province_code, valid_from, valid_to, created_at FROM agencies ORDER BY id",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .add_column(big_integer_null(AgencyHistory::RetiredBy))
                    .to_owned(),
            )
            .await?;
        // QĐ 124/2004 codes name one unit nationwide and are never reused.
        manager
            .create_index(
                Index::create()
                    .name("idx_agencies_admin_unit_code")
                    .table(Agencies::Table)
                    .col(Agencies::AdminUnitCode)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reorganisations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Reorganisations::Id))
                    .col(date(Reorganisations::EffectiveDate))
                    .col(string_len(Reorganisations::LegalBasis, 512))
                    .col(string_len_null(Reorganisations::Note, 2048))
                    .col(string_len(Reorganisations::RecordedBy, 64))
                    .col(timestamp_with_time_zone(Reorganisations::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LineageLinks::Table)
                    .if_not_exists()
                    .col(big_pk_auto(LineageLinks::Id))
                    .col(big_integer(LineageLinks::ReorganisationId))
                    .col(string_len(LineageLinks::PredecessorCode, 32))
                    .col(string_len(LineageLinks::SuccessorCode, 32))
                    .col(string_len(LineageLinks::Kind, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_predecessor")
                    .table(LineageLinks::Table)
                    .col(LineageLinks::PredecessorCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lineage_successor")
                    .table(LineageLinks::Table)
                    .col(LineageLinks::SuccessorCode)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LineageLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Reorganisations::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_agencies_admin_unit_code")
                    .table(Agencies::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .drop_column(AgencyHistory::RetiredBy)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AgencyVersions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Clients {
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
enum ClientSecrets {
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
struct M0003Clients;

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

#[derive(DeriveIden)]
enum RegistrationRequests {
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
struct M0004Registrations;

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

#[derive(DeriveIden)]
enum SigningKeys {
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
struct M0005SigningKeys;

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

#[derive(DeriveIden)]
enum AgencyEvents {
    Table,
    Seq,
    AgencyCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AgencyFeedHead {
    Table,
    Id,
    LastSeq,
}

/// The agency change feed, seeded with one entry per existing agency so a
/// consumer starting from 0 gets the whole tree.
struct M0006AgencyFeed;

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
        assert_eq!(client.try_get::<String>("", "role").unwrap(), "agency");
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
