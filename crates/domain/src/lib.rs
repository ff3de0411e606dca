//! Domain types shared by every chiso service.
//!
//! Raw strings from the edges (REST bodies, protobuf messages, CSV rows)
//! become these types only through `parse`, so code past the edge never
//! handles an unchecked code, period or count.

pub mod agency;
pub mod codes;
pub mod contact;
pub mod credentials;
pub mod date;
pub mod error;
pub mod period;
pub mod registration;
pub mod reorganisation;
pub mod role;
pub mod text;
pub mod tree;
pub mod value;

pub use agency::{
    AdminLevel, AgencyKind, AgencyVersion, AgencyView, LineageKind, LineageLink, NewAgency,
    RawAgency,
};
pub use codes::{AdminUnitCode, AgencyCode, DataElementCode, IndicatorCode};
pub use contact::Email;
pub use date::{DateError, parse_date, today};
pub use error::{FieldError, FieldErrors};
pub use period::{PeriodCode, PeriodType};
pub use registration::RegistrationStatus;
pub use role::Role;
pub use text::VnName;
pub use value::Count;
