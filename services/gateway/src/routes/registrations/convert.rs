//! Registration requests: JSON <-> `chiso.registry.v1` messages.

use chiso_proto::registry::v1 as pb;

use super::types::{Approved, Contact, FileRegistration, Registration, RequestedAgency};
use crate::{
    error::{ApiError, ApiResult, RestNames},
    routes::{
        agencies::create_request,
        common::{UNSPECIFIED, kind_name, non_empty, not_one_of},
    },
};

/// `ListRegistrationsRequest` fields the list query names differently.
pub const LIST_NAMES: RestNames = &[("province_code", "province")];

/// Every registration status and its REST name.
const STATUSES: [(pb::RegistrationStatus, &str); 3] = [
    (pb::RegistrationStatus::Pending, "pending"),
    (pb::RegistrationStatus::Approved, "approved"),
    (pb::RegistrationStatus::Rejected, "rejected"),
];

/// The status a list query names; pending when it names none.
pub fn parse_status(status: Option<&str>) -> ApiResult<pb::RegistrationStatus> {
    match status {
        None | Some("") => Ok(pb::RegistrationStatus::Pending),
        Some(name) => STATUSES
            .into_iter()
            .find(|(_, n)| *n == name)
            .map(|(status, _)| status)
            .ok_or_else(|| ApiError::field("status", not_one_of(name, STATUSES.map(|(_, n)| n)))),
    }
}

/// The REST name of a wire registration status.
fn status_name(status: pb::RegistrationStatus) -> &'static str {
    STATUSES
        .into_iter()
        .find(|(s, _)| *s == status)
        .map_or(UNSPECIFIED, |(_, name)| name)
}

/// The gRPC request for a new registration.
pub fn file_request(body: FileRegistration) -> ApiResult<pb::FileRegistrationRequest> {
    Ok(pb::FileRegistrationRequest {
        agency: Some(create_request(body.agency, "agency")?),
        contact: Some(pb::Contact {
            name: body.contact.name,
            email: body.contact.email,
            phone: body.contact.phone.unwrap_or_default(),
        }),
        note: body.note.unwrap_or_default(),
    })
}

impl From<pb::RegistrationRequest> for Registration {
    fn from(r: pb::RegistrationRequest) -> Self {
        let status = status_name(r.status()).to_owned();
        let a = r.agency.unwrap_or_default();
        let contact = r.contact.unwrap_or_default();
        Self {
            status,
            id: r.id,
            agency: RequestedAgency {
                code: a.code,
                admin_unit_code: non_empty(a.admin_unit_code),
                name: a.name,
                name_en: non_empty(a.name_en),
                kind: kind_name(a.kind).to_owned(),
                parent_code: non_empty(a.parent_code),
                valid_from: a.valid_from,
            },
            province_code: r.province_code,
            contact: Contact {
                name: contact.name,
                email: contact.email,
                phone: non_empty(contact.phone),
            },
            note: non_empty(r.note),
            filed_at: r.filed_at,
            decided_at: non_empty(r.decided_at),
            decided_by: non_empty(r.decided_by),
            reason: non_empty(r.reason),
            client_id: non_empty(r.client_id),
        }
    }
}

impl From<pb::ApprovedRegistration> for Approved {
    fn from(approved: pb::ApprovedRegistration) -> Self {
        Self {
            registration: approved.registration.unwrap_or_default().into(),
            agency: approved.agency.unwrap_or_default().into(),
            credentials: approved.credentials.unwrap_or_default().into(),
        }
    }
}
