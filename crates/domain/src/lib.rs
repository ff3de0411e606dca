//! Domain types shared by every chiso service.
//!
//! Raw strings from the edges (REST bodies, protobuf messages, CSV rows)
//! become these types only through `parse`, so code past the edge never
//! handles an unchecked code, period or count.

pub mod agency;
pub mod catalogue;
pub mod codes;
pub mod completeness;
pub mod contact;
pub mod credentials;
pub mod date;
pub mod error;
pub mod form;
pub mod indicator;
pub mod period;
pub mod plan;
pub mod ranking;
pub mod registration;
pub mod reorganisation;
pub mod report;
pub mod role;
pub mod sample;
pub mod seed;
pub mod signature;
pub mod text;
pub mod tree;
pub mod value;

pub use agency::{
    AdminLevel, AgencyKind, AgencyVersion, AgencyView, LineageKind, LineageLink, NewAgency,
    RawAgency,
};
pub use catalogue::{
    Catalogue, DataElement, Indicator, NoValue, Ratio, RawCatalogue, RuleFailure, Totals,
    ValidationRule, Value,
};
pub use codes::{
    AdminUnitCode, AgencyCode, DataElementCode, FormCode, IndicatorCode, PlanCode, RankingCode,
    RuleCode, SubIndexCode,
};
pub use completeness::{Completeness, Received, completeness};
pub use contact::Email;
pub use date::{DateError, parse_date, today};
pub use error::{FieldError, FieldErrors};
pub use form::{Form, RawForm, ReportingAgency};
pub use indicator::{Aggregate, AggregateError, AggregateQuery, aggregate};
pub use period::{PeriodCode, PeriodError, PeriodType, PeriodTypeError};
pub use plan::{Plan, RawPlan, Target, TargetGroup};
pub use ranking::{
    AgencyStanding, Fraction, Ranking, RankingResult, RankingVersion, RawRanking, Standing,
    UnrankedReason,
};
pub use registration::RegistrationStatus;
pub use report::{
    LifecycleAction, ReportKey, ReportStatus, ReportValues, ReportVersion, Transition,
    parse_values, transition,
};
pub use role::Role;
pub use text::VnName;
pub use tree::{AgencyHistory, TreeVersion};
pub use value::Count;
