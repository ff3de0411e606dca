//! Tables the registry owns.

pub mod agency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agencies")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub code: String,
        pub admin_unit_code: Option<String>,
        pub name: String,
        pub name_en: Option<String>,
        /// Folded name for diacritic-insensitive search.
        pub name_search: String,
        /// Byte-ordered Vietnamese collation key.
        pub name_sort: String,
        pub kind: String,
        pub level: String,
        pub parent_code: Option<String>,
        /// Distribution key for Citus; every agency belongs to one province.
        pub province_code: String,
        pub valid_from: Date,
        pub valid_to: Option<Date>,
        pub created_at: DateTimeUtc,
        /// The reorganisation that retired the agency, if one did.
        pub retired_by: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod client {
    use sea_orm::entity::prelude::*;

    /// Whoever authenticates with a client id: an agency or a province officer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clients")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub client_id: String,
        /// `agency_reporter`, `province_officer`, `viewer` or `integrator`.
        pub role: String,
        /// The agency an agency client acts for.
        pub agency_code: Option<String>,
        /// The province an officer acts in (agencies take their agency's current province).
        pub province_code: Option<String>,
        /// Who or what the credentials are for, e.g. an officer's name.
        pub label: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
        /// The provinces an integrator reads, comma-separated 2-digit codes.
        pub grants: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod client_secret {
    use sea_orm::entity::prelude::*;

    /// One secret of a client; a rotated secret expires after a grace period.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "client_secrets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub client_id: String,
        /// Argon2id PHC string; the secret itself is never stored.
        pub secret_hash: String,
        pub created_at: DateTimeUtc,
        /// No longer accepted from this instant; `None` until the secret is rotated.
        pub expires_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency_version {
    use sea_orm::entity::prelude::*;

    /// One span of an agency's life with the same name, parent and province.
    /// An agency is active on D when one of its versions covers D.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_versions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub admin_unit_code: Option<String>,
        pub name: String,
        pub name_en: Option<String>,
        pub name_search: String,
        pub name_sort: String,
        pub kind: String,
        pub level: String,
        pub parent_code: Option<String>,
        pub province_code: String,
        pub valid_from: Date,
        /// Exclusive end; `None` while the version is current.
        pub valid_to: Option<Date>,
        /// The reorganisation that started this version; `None` when the agency was registered.
        pub reorganisation_id: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reorganisation {
    use sea_orm::entity::prelude::*;

    /// A reorganisation decision: its effective date and legal basis.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reorganisations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub effective_date: Date,
        /// Decision number, e.g. `Nghị quyết 202/2025/QH15`.
        pub legal_basis: String,
        pub note: Option<String>,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lineage_link {
    use sea_orm::entity::prelude::*;

    /// A predecessor handed over to a successor in a merge or split.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lineage_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub reorganisation_id: i64,
        pub predecessor_code: String,
        pub successor_code: String,
        /// `merge` or `split`.
        pub kind: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod registration {
    use sea_orm::entity::prelude::*;

    /// A request to register an agency, filed without a token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registration_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub code: String,
        pub admin_unit_code: Option<String>,
        pub name: String,
        pub name_en: Option<String>,
        pub kind: String,
        pub parent_code: Option<String>,
        pub valid_from: Date,
        /// The province the agency would join: who may decide.
        pub province_code: String,
        pub contact_name: String,
        pub contact_email: String,
        pub contact_phone: Option<String>,
        pub note: Option<String>,
        /// `pending`, `approved` or `rejected`.
        pub status: String,
        /// Why it was rejected.
        pub reason: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeUtc>,
        /// The client issued on approval.
        pub client_id: Option<String>,
        /// The address it was filed from, as the rate limit saw it.
        pub filed_from: String,
        pub filed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod signing_key {
    use sea_orm::entity::prelude::*;

    /// An Ed25519 public key an agency signs its reports with.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub key_id: String,
        pub agency_code: String,
        /// Standard base64 of the 32 key bytes.
        #[sea_orm(unique)]
        pub public_key: String,
        pub label: Option<String>,
        pub registered_by: String,
        pub registered_at: DateTimeUtc,
        /// Signatures made from this instant on are not accepted.
        pub revoked_at: Option<DateTimeUtc>,
        pub revoked_by: Option<String>,
        pub revocation_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency_event {
    use sea_orm::entity::prelude::*;

    /// The agency change feed: one entry per agency touched by a write,
    /// numbered from `agency_feed_head` inside the writing transaction.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub agency_code: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
