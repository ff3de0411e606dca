//! Reports JSON <-> `chiso.submission.v1` messages.

use chiso_domain::ReportStatus;
use chiso_proto::submission::v1 as pb;

use super::types::{
    AuditEntry, DataValue, DataValueInput, Report, ReportsQuery, Review, Signature, SignatureInput,
    SignatureVerification, SubmitReport, Unlock, UnlockBody,
};
use crate::{
    error::{ApiError, ApiResult, RestNames},
    extract::WriteHeaders,
    routes::{
        common::{UNSPECIFIED, convert_all, non_empty, not_one_of, timestamp},
        forms::status_name,
    },
};

/// Routes addressing a report by id call it `id`.
pub const BY_ID: RestNames = &[("report_id", "id"), ("id", "id")];
/// Routes addressing a report by key call the agency `agency`.
pub const BY_KEY: RestNames = &[("agency_code", "agency")];
/// The list's filters.
pub const LIST_NAMES: RestNames = &[("agency_code", "agency"), ("province_code", "province")];
/// The agency audit trail is addressed by the path's `code`.
pub const AGENCY_AUDIT: RestNames = &[("agency_code", "code")];

/// Values as the service takes them.
pub fn values(values: Vec<DataValueInput>) -> Vec<pb::DataValue> {
    values
        .into_iter()
        .map(|v| pb::DataValue::new(v.data_element, v.value.0))
        .collect()
}

fn signature(s: SignatureInput) -> pb::Signature {
    pb::Signature {
        key_id: s.key_id,
        signature: s.signature,
        signed_at: None,
    }
}

/// A submit of (form, period, agency), with its values and signature when given.
pub fn submit_request(body: SubmitReport, write: WriteHeaders) -> pb::SubmitReportRequest {
    pb::SubmitReportRequest {
        form: body.form,
        period: body.period,
        agency_code: body.agency_code.unwrap_or_default(),
        values: values(body.values.unwrap_or_default()),
        signature: body.signature.map(signature),
        if_match: write.if_match,
        request_id: write.request_id,
        received_on: body.received_on.unwrap_or_default(),
    }
}

/// The submit of a saved draft, whose key the service told.
pub fn submit_draft_request(
    draft: pb::Report,
    signed: Option<SignatureInput>,
    received_on: Option<String>,
    write: WriteHeaders,
) -> pb::SubmitReportRequest {
    pb::SubmitReportRequest {
        form: draft.form,
        period: draft.period,
        agency_code: draft.agency_code,
        values: Vec::new(),
        signature: signed.map(signature),
        if_match: write.if_match,
        request_id: write.request_id,
        received_on: received_on.unwrap_or_default(),
    }
}

/// The list request; a status that is not one is named before any call.
pub fn list_request(query: ReportsQuery) -> ApiResult<pb::ListReportsRequest> {
    let status = match query.status.as_deref() {
        None | Some("") => pb::ReportStatus::Unspecified,
        Some(raw) => raw
            .parse::<ReportStatus>()
            .map(pb::ReportStatus::from)
            .map_err(|_| {
                ApiError::field(
                    "status",
                    not_one_of(raw, ReportStatus::ALL.map(ReportStatus::as_str)),
                )
            })?,
    };
    Ok(pb::ListReportsRequest {
        form: query.form.unwrap_or_default(),
        period: query.period.unwrap_or_default(),
        agency_code: query.agency.unwrap_or_default(),
        province_code: query.province.unwrap_or_default(),
        status: status.into(),
        page_size: query.page_size.unwrap_or_default(),
        page_token: query.page_token.unwrap_or_default(),
    })
}

/// The unlock request.
pub fn unlock_request(body: UnlockBody, request_id: String) -> pb::UnlockReportRequest {
    pb::UnlockReportRequest {
        form: body.form,
        period: body.period,
        agency_code: body.agency_code,
        reason: body.reason,
        until: body.until,
        request_id,
    }
}

impl From<pb::DataValue> for DataValue {
    fn from(v: pb::DataValue) -> Self {
        Self {
            data_element: v.data_element,
            value: v.value,
        }
    }
}

impl From<pb::Report> for Report {
    fn from(r: pb::Report) -> Self {
        Self {
            status: status_name(r.status, UNSPECIFIED).to_owned(),
            id: r.id,
            form: r.form,
            period: r.period,
            agency_code: r.agency_code,
            province_code: r.province_code,
            version: r.version,
            values: convert_all(r.values),
            etag: r.etag,
            created_at: timestamp(r.created_at),
            updated_at: timestamp(r.updated_at),
            submitted_at: timestamp(r.submitted_at),
            submitted_by: non_empty(r.submitted_by),
            received_on: non_empty(r.received_on),
            deadline: r.deadline,
            days_late: r.days_late,
            lock_date: non_empty(r.lock_date),
            editable: r.editable,
            review: r.review.map(Review::from),
            signature: r.signature.map(Signature::from),
        }
    }
}

impl From<pb::Review> for Review {
    fn from(r: pb::Review) -> Self {
        Self {
            reviewed_by: r.reviewed_by,
            reviewed_at: timestamp(r.reviewed_at),
            comment: non_empty(r.comment),
        }
    }
}

impl From<pb::Signature> for Signature {
    fn from(s: pb::Signature) -> Self {
        Self {
            key_id: s.key_id,
            signature: s.signature,
            signed_at: timestamp(s.signed_at),
        }
    }
}

impl From<pb::Unlock> for Unlock {
    fn from(u: pb::Unlock) -> Self {
        Self {
            form: u.form,
            period: u.period,
            agency_code: u.agency_code,
            reason: u.reason,
            until: timestamp(u.until),
            granted_by: u.granted_by,
            granted_at: timestamp(u.granted_at),
        }
    }
}

impl From<pb::AuditEntry> for AuditEntry {
    fn from(e: pb::AuditEntry) -> Self {
        let status = |raw| (raw != 0).then(|| status_name(raw, UNSPECIFIED).to_owned());
        Self {
            status_before: status(e.status_before),
            status_after: status(e.status_after),
            id: e.id,
            report_id: e.report_id,
            form: e.form,
            period: e.period,
            agency_code: e.agency_code,
            action: e.action,
            actor: e.actor,
            actor_role: e.actor_role,
            address: e.address,
            request_id: e.request_id,
            at: timestamp(e.at),
            version: e.version,
            values_before: convert_all(e.values_before),
            values_after: convert_all(e.values_after),
            comment: non_empty(e.comment),
        }
    }
}

impl From<pb::SignatureVerification> for SignatureVerification {
    fn from(v: pb::SignatureVerification) -> Self {
        Self {
            valid: v.valid,
            key_id: v.key_id,
            key_label: v.key_label,
            signed_at: timestamp(v.signed_at),
            reason: non_empty(v.reason),
            signed_content: v.signed_content,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_status_filter_names_the_valid_ones() {
        let query = ReportsQuery {
            status: Some("sent".into()),
            ..Default::default()
        };
        let err = format!("{:?}", list_request(query).unwrap_err());
        assert!(
            err.contains("`sent` is not one of draft, submitted, accepted, returned"),
            "{err}"
        );
        let query = ReportsQuery {
            status: Some("accepted".into()),
            agency: Some("000.00.15.H51".into()),
            ..Default::default()
        };
        let request = list_request(query).unwrap();
        assert_eq!(request.status(), pb::ReportStatus::Accepted);
        assert_eq!(request.agency_code, "000.00.15.H51");
    }

    #[test]
    fn reports_encode_with_their_status_and_instants() {
        let report = Report::from(pb::Report {
            id: "r1".into(),
            status: pb::ReportStatus::Returned.into(),
            etag: "e1".into(),
            updated_at: Some(prost_types::Timestamp {
                seconds: 1_750_000_000,
                nanos: 5_000_000,
            }),
            review: Some(pb::Review {
                reviewed_by: "officer-51".into(),
                comment: "Thiếu số liệu".into(),
                reviewed_at: None,
            }),
            ..Default::default()
        });
        assert_eq!(report.status, "returned");
        assert_eq!(
            report.updated_at.as_deref(),
            Some("2025-06-15T15:06:40.005Z")
        );
        assert_eq!(report.submitted_at, None);
        let review = report.review.unwrap();
        assert_eq!(review.comment.as_deref(), Some("Thiếu số liệu"));
    }
}
