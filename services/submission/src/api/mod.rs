//! gRPC surface of the submission service: each method decodes, asks the
//! policy, calls the service layer and answers.

mod catalogue;
mod complete;
mod feed;
mod forms;
mod import;
mod reports;

use std::sync::Arc;

use chiso_domain::{
    AdminUnitCode, FieldErrors, Form, ReportKey, ReportingAgency, date::vietnam_offset,
};
use chiso_proto::convert::submission::ReportKeyRequest;
use chiso_runtime::{
    ServiceError, ServiceResult,
    auth::Principal,
    feed::Follow,
    peer::{ProxyNet, grpc_client_address},
    policy::{Action, Resource, Scope},
};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tonic::Request;

pub use catalogue::CatalogueApi;
pub use feed::FeedApi;
pub use forms::FormApi;
pub use reports::ReportApi;

use crate::{
    audit::Actor,
    catalogue::{Cache, Definitions},
    follower,
    idempotency::IdempotencyKey,
    keys::Keys,
};

/// Metadata key carrying the request id of the whole call chain.
pub const REQUEST_ID: &str = "x-request-id";

/// State shared by the submission service's gRPC services.
pub struct Submission {
    pub db: DatabaseConnection,
    pub cache: Arc<Cache>,
    /// What open feed streams follow.
    pub follow: Follow,
    /// Wakes the sequencer after a commit that wrote feed events.
    pub sequencer: Arc<Notify>,
    pub keys: Keys,
    /// The agency copy in memory.
    pub agencies: follower::AgencyCopy,
    /// Peers whose `x-forwarded-for` names the client (the gateway).
    pub trusted_proxies: Vec<ProxyNet>,
}

impl Submission {
    /// Who writes, from where, under which request id. The address is the
    /// caller's, or the client a trusted proxy names, so an audit entry
    /// never records an address a caller merely claimed.
    fn actor<T>(
        &self,
        request: &Request<T>,
        principal: Principal,
        idem: Option<&IdempotencyKey>,
    ) -> Actor {
        let address = grpc_client_address(request, &self.trusted_proxies)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let request_id = request
            .metadata()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or_else(|| idem.map(|k| k.request_id().to_owned()))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Actor {
            principal,
            address,
            request_id,
        }
    }
}

/// Today in Vietnam.
fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&vietnam_offset())
        .date_naive()
}

/// Why a paper report cannot have been received on `day` for `period`:
/// not in the future, and not before the period starts.
fn received_on_problem(
    day: chrono::NaiveDate,
    period: &chiso_domain::PeriodCode,
) -> Option<String> {
    if day > today() {
        Some("is in the future".into())
    } else if day < period.start() {
        Some(format!(
            "is before period {period} starts ({})",
            period.start()
        ))
    } else {
        None
    }
}

/// A report's form, period and agency, checked: the form exists, the
/// period is one of its periods and has begun, the agency (the caller's own
/// when the request leaves it empty) existed during the period, the form
/// expects it, and `scope` covers it for `action`. Returns the key, the
/// agency's province then, and the form.
async fn reporting_agency<'d>(
    state: &Submission,
    defs: &'d Definitions,
    principal: &Principal,
    scope: &Scope,
    action: Action,
    request: ReportKeyRequest,
) -> ServiceResult<(ReportKey, AdminUnitCode, &'d Form)> {
    let agency = match request.agency.or_else(|| principal.agency.clone()) {
        Some(a) => a,
        None => {
            return Err(ServiceError::field(
                "agency_code",
                "is required: the token speaks for no agency",
            ));
        }
    };
    scope.precheck_agency(action, agency.as_str())?;
    let form = defs.form(&request.form).ok_or_else(|| {
        ServiceError::field("form", format!("no report form has code {}", request.form))
    })?;
    let period = request.period;
    let mut errors = FieldErrors::new();
    if period.period_type() != form.period_type {
        errors.push(
            "period",
            format!(
                "`{period}` is not a {} period, the period type of form {}",
                form.period_type, form.code
            ),
        );
    } else if period < form.opens {
        errors.push(
            "period",
            format!("form {} opens with period {}", form.code, form.opens),
        );
    } else if period.start() > today() {
        errors.push(
            "period",
            format!("`{period}` has not begun: it starts on {}", period.start()),
        );
    }
    let mut versions = state.agencies.versions(&agency).to_vec();
    if versions.is_empty() {
        let keys = &state.keys;
        versions = follower::fetch_missing(
            &state.db,
            &state.agencies,
            &keys.registry,
            &keys.token,
            &agency,
        )
        .await?;
    }
    let during: Vec<&ReportingAgency> = versions
        .iter()
        .filter(|v| v.existed_during(&period))
        .collect();
    let expected: Option<&ReportingAgency> = during
        .iter()
        .filter(|v| form.expects(v.kind, v.level, &v.code))
        .max_by_key(|v| v.valid_from)
        .copied();
    let province = match expected {
        Some(v) => Some(v.province.clone()),
        None => {
            let why = if versions.is_empty() {
                format!("no agency has code {agency} in the organisation tree")
            } else if during.is_empty() {
                format!("agency {agency} did not exist during period {period}")
            } else {
                format!(
                    "form {} does not expect agency {agency} to report",
                    form.code
                )
            };
            errors.push("agency_code", why);
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let province = province.expect("no errors");
    scope.check(action, Resource::agency(agency.as_str(), province.as_str()))?;
    Ok((
        ReportKey {
            form: form.code.clone(),
            period,
            agency,
        },
        province,
        form,
    ))
}

/// A page size: the default when 0 or less, at most `max`.
fn page_size(requested: i32, default: u64, max: u64) -> u64 {
    match u64::try_from(requested) {
        Ok(0) | Err(_) => default,
        Ok(n) => n.min(max),
    }
}
