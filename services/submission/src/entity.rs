//! Tables the submission service owns.

/// The four definition tables share one shape: the `Raw*` JSON as written.
macro_rules! definition_table {
    ($module:ident, $table:literal, $what:literal) => {
        #[doc = concat!("Stored ", $what, " definitions.")]
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub code: String,
                /// The definition as written (`Raw*` as JSON).
                pub definition: String,
                pub retired: bool,
                pub retired_at: Option<DateTimeUtc>,
                pub updated_at: DateTimeUtc,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

definition_table!(data_element, "data_elements", "data element");
definition_table!(indicator, "indicators", "indicator");
definition_table!(validation_rule, "validation_rules", "validation rule");
definition_table!(form, "forms", "report form");

pub mod report {
    use sea_orm::entity::prelude::*;

    /// One report per form, period and agency; points at its current version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub form: String,
        pub period: String,
        pub agency_code: String,
        pub province_code: String,
        /// The current version.
        pub version: i32,
        /// The current version's status, kept here so lists need no join.
        pub status: String,
        /// Counts every write: the etag, and the compare-and-set guard.
        pub revision: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod report_version {
    use sea_orm::entity::prelude::*;

    /// One version of a report: its state, review and signature.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub report_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub province_code: String,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub submitted_at: Option<DateTimeUtc>,
        pub submitted_by: Option<String>,
        pub received_on: Option<Date>,
        pub days_late: i32,
        pub reviewed_by: Option<String>,
        pub reviewed_at: Option<DateTimeUtc>,
        pub review_comment: Option<String>,
        pub key_id: Option<String>,
        pub signature: Option<String>,
        pub signed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod report_value {
    use sea_orm::entity::prelude::*;

    /// One value of one version, as the stored integer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_values")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub report_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub data_element: String,
        pub province_code: String,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unlock {
    use sea_orm::entity::prelude::*;

    /// A province officer's leave to change a locked report until a time.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unlocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub form: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_code: String,
        pub province_code: String,
        pub reason: String,
        pub until: DateTimeUtc,
        pub granted_by: String,
        pub granted_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency_key {
    use sea_orm::entity::prelude::*;

    /// The first answer to a write, kept to replay it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub method: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// Hex SHA-256 of the method and the request without its key.
        pub request_hash: String,
        /// The encoded protobuf answer.
        pub response: Vec<u8>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit {
    use sea_orm::entity::prelude::*;

    /// Who changed what, when, from where.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub report_id: Option<String>,
        /// For catalogue changes: `data_element/officials`; empty for reports.
        pub item: String,
        pub form: String,
        pub period: String,
        pub agency_code: String,
        pub province_code: String,
        pub action: String,
        pub actor: String,
        pub actor_role: String,
        pub address: String,
        pub request_id: String,
        pub at: DateTimeUtc,
        pub version: i32,
        pub status_before: Option<String>,
        pub status_after: Option<String>,
        /// `{code: text}` JSON.
        pub values_before: Option<String>,
        pub values_after: Option<String>,
        pub comment: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency {
    use sea_orm::entity::prelude::*;

    /// One version of an agency, copied from the registry's agency feed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agencies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub valid_from: Date,
        pub valid_to: Option<Date>,
        pub kind: String,
        pub level: String,
        pub province_code: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    /// The change feed: rows written unnumbered by writers, numbered by the sequencer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "feed_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub seq: Option<i64>,
        pub at: DateTimeUtc,
        /// An encoded `ChangeEvent` without its `seq`.
        pub payload: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
