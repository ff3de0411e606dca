//! Tables the aggregation service owns.

pub mod fact {
    use sea_orm::entity::prelude::*;

    /// The current value of one data element for one agency and period,
    /// copied from the submission feed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub data_element: String,
        /// The form that reported it; a new version of the same form's
        /// report replaces the agency's facts for the period.
        pub form: String,
        /// Distribution key for Citus.
        pub province_code: String,
        /// A count, a scaled decimal, or 1/0 for a yes/no answer.
        pub value: i64,
        pub report_id: String,
        pub report_version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod feed_cursor {
    use sea_orm::entity::prelude::*;

    /// The last feed sequence number applied, committed with the facts it produced.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "feed_cursors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub feed: String,
        pub last_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agency_tree {
    use sea_orm::entity::prelude::*;

    /// This service's copy of the organisation tree: one row per version of
    /// each agency, kept current from the registry's agency feed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_tree")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub valid_from: Date,
        /// Exclusive end; `None` for the current version.
        pub valid_to: Option<Date>,
        pub parent_code: Option<String>,
        pub province_code: String,
        pub admin_unit_code: Option<String>,
        /// `AgencyKind` and `AdminLevel` by name.
        pub kind: String,
        pub level: String,
        /// The agency's current name (the same on every row).
        pub name: String,
        /// Agencies it handed over to in a merger or split, comma-separated
        /// (the same on every row).
        pub successors: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod catalogue_definition {
    use sea_orm::entity::prelude::*;

    /// A catalogue definition as the submission feed carried it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalogue_definitions")]
    pub struct Model {
        /// `data_element`, `indicator`, `rule` or `form`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Protobuf bytes of the definition.
        pub payload: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod report_state {
    use sea_orm::entity::prelude::*;

    /// Where one agency's report for a form and period stands, for
    /// completeness: received (with the days late of its first submission)
    /// or returned awaiting a revision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_states")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub form: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agency_code: String,
        pub province_code: String,
        /// `received` or `returned`.
        pub state: String,
        pub days_late: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
