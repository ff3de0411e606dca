//! Forms JSON <-> `chiso.submission.v1` messages.

use chiso_domain::{PeriodType, ReportStatus};
use chiso_proto::submission::v1 as pb;

use super::types::{
    ExpectedReport, ExpectedReports, Form, FormElement, FormSection, Period, Reporters,
};
use crate::{
    error::RestNames,
    routes::common::{UNSPECIFIED, convert_all, non_empty},
};

/// `ListPeriodsRequest` / `ListExpectedReportsRequest` fields the routes
/// name differently: the form is the path's `code`.
pub const FORM_PATH_NAMES: RestNames = &[("form", "code"), ("province_code", "province")];

/// What the expected-reports list says of an agency that saved nothing.
pub const MISSING: &str = "missing";

/// The REST name of a wire period type, from the domain's names.
pub fn period_type_name(raw: i32) -> &'static str {
    PeriodType::ALL
        .into_iter()
        .find(|t| pb::PeriodType::from(*t) as i32 == raw)
        .map_or(UNSPECIFIED, PeriodType::as_str)
}

/// The REST name of a wire report status; `none` when unspecified.
pub fn status_name(raw: i32, none: &'static str) -> &'static str {
    pb::ReportStatus::try_from(raw)
        .ok()
        .and_then(|s| ReportStatus::try_from(s).ok())
        .map_or(none, ReportStatus::as_str)
}

impl From<pb::Form> for Form {
    fn from(f: pb::Form) -> Self {
        Self {
            period_type: period_type_name(f.period_type).to_owned(),
            code: f.code,
            name: f.name,
            name_en: non_empty(f.name_en),
            opens: f.opens,
            sections: convert_all(f.sections),
            reporters: f.reporters.map(Reporters::from).unwrap_or_default(),
            deadline_rule: f.deadline_rule,
            lock_after_days: (f.lock_after_days > 0).then_some(f.lock_after_days),
            signature_required: f.signature_required,
            acceptance_required: f.acceptance_required,
            aggregation_basis: f.aggregation_basis,
        }
    }
}

impl From<pb::FormSection> for FormSection {
    fn from(s: pb::FormSection) -> Self {
        Self {
            name: s.name,
            name_en: non_empty(s.name_en),
            elements: convert_all(s.elements),
        }
    }
}

impl From<pb::FormElement> for FormElement {
    fn from(e: pb::FormElement) -> Self {
        Self {
            data_element: e.data_element,
            compulsory: e.compulsory,
        }
    }
}

impl From<pb::Reporters> for Reporters {
    fn from(r: pb::Reporters) -> Self {
        Self {
            kinds: r.kinds,
            levels: r.levels,
            agencies: r.agencies,
        }
    }
}

impl From<pb::Period> for Period {
    fn from(p: pb::Period) -> Self {
        Self {
            period_type: period_type_name(p.period_type).to_owned(),
            code: p.code,
            start_date: p.start_date,
            end_date: p.end_date,
            deadline: p.deadline,
            lock_date: non_empty(p.lock_date),
            open: p.open,
            data_from: p.data_from,
            data_to: p.data_to,
        }
    }
}

impl From<pb::ListExpectedReportsResponse> for ExpectedReports {
    fn from(r: pb::ListExpectedReportsResponse) -> Self {
        Self {
            form: r.form,
            period: r.period,
            deadline: r.deadline,
            reports: convert_all(r.reports),
        }
    }
}

impl From<pb::ExpectedReport> for ExpectedReport {
    fn from(r: pb::ExpectedReport) -> Self {
        Self {
            status: status_name(r.status, MISSING).to_owned(),
            agency_code: r.agency_code,
            province_code: r.province_code,
            report_id: non_empty(r.report_id),
            days_late: r.days_late,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_enums_have_the_domains_names() {
        for t in PeriodType::ALL {
            assert_eq!(period_type_name(pb::PeriodType::from(t) as i32), t.as_str());
        }
        assert_eq!(period_type_name(0), "unspecified");
        for s in ReportStatus::ALL {
            assert_eq!(
                status_name(pb::ReportStatus::from(s) as i32, MISSING),
                s.as_str()
            );
        }
        assert_eq!(status_name(0, MISSING), "missing");
        assert_eq!(status_name(42, UNSPECIFIED), "unspecified");
    }
}
