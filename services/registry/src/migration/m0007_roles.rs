#![allow(elided_lifetimes_in_paths)] // MigrationTrait fixes the signature

use sea_orm_migration::{prelude::*, schema::*};

use super::m0003_clients::Clients;

#[derive(DeriveIden)]
enum Grants {
    Grants,
}

/// The roles of issue 11: agency clients are `agency_reporter` now (the
/// name tokens and REST bodies carry), and integrators read the provinces
/// listed in `grants` (comma-separated 2-digit codes).
pub(super) struct M0007Roles;

impl MigrationName for M0007Roles {
    fn name(&self) -> &str {
        "m0007_roles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007Roles {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .add_column(string_len_null(Grants::Grants, 255))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE clients SET role = 'agency_reporter' WHERE role = 'agency'")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Viewers and integrators did not exist before: their credentials end.
        db.execute_unprepared(
            "DELETE FROM client_secrets WHERE client_id IN \
             (SELECT client_id FROM clients WHERE role IN ('viewer', 'integrator'))",
        )
        .await?;
        db.execute_unprepared("DELETE FROM clients WHERE role IN ('viewer', 'integrator')")
            .await?;
        db.execute_unprepared("UPDATE clients SET role = 'agency' WHERE role = 'agency_reporter'")
            .await?;
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .drop_column(Grants::Grants)
                .to_owned(),
        )
        .await
    }
}
