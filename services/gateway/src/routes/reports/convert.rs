//! Reports and the catalogue: JSON <-> `chiso.submission.v1` messages.

use chiso_proto::submission::v1 as pb;

use super::types::{DataElement, DataValue, Indicator, Report, SubmitReport};
use crate::routes::common::{UNSPECIFIED, convert_all, non_empty};

impl From<SubmitReport> for pb::SubmitReportRequest {
    fn from(body: SubmitReport) -> Self {
        Self {
            form: body.form,
            period: body.period,
            values: body
                .values
                .into_iter()
                .map(|v| pb::DataValue {
                    data_element: v.data_element,
                    value: v.value,
                })
                .collect(),
            ..Default::default()
        }
    }
}

impl From<pb::Report> for Report {
    fn from(r: pb::Report) -> Self {
        let submitted_at = r
            .submitted_at
            .and_then(|t| {
                chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
            })
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        Self {
            status: match r.status() {
                pb::ReportStatus::Submitted => "submitted",
                pb::ReportStatus::Draft => "draft",
                pb::ReportStatus::Accepted => "accepted",
                pb::ReportStatus::Returned => "returned",
                pb::ReportStatus::Unspecified => UNSPECIFIED,
            }
            .to_owned(),
            id: r.id,
            agency_code: r.agency_code,
            province_code: r.province_code,
            period: r.period,
            version: r.version,
            values: convert_all(r.values),
            submitted_at,
        }
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

impl From<pb::DataElement> for DataElement {
    fn from(d: pb::DataElement) -> Self {
        Self {
            code: d.code,
            name: d.name,
            name_en: d.name_en,
        }
    }
}

impl From<pb::Indicator> for Indicator {
    fn from(i: pb::Indicator) -> Self {
        Self {
            code: i.code,
            name: i.name,
            name_en: i.name_en,
            numerator: i.numerator,
            denominator: non_empty(i.denominator),
            factor: i.factor,
            unit: i.unit,
        }
    }
}
