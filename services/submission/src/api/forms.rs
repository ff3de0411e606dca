//! FormService: forms, their periods and who must report them.

use std::sync::Arc;

use chiso_domain::{AdminUnitCode, FormCode, PeriodCode, date::parse_date};
use chiso_proto::{
    convert::submission::{encode_form, encode_period},
    submission::v1::{self as pb, form_service_server::FormService},
};
use chiso_runtime::{
    ServiceError,
    policy::{Action, Resource, Scope, authorize, caller, caller_in_scope},
};
use tonic::{Request, Response, Status};

use super::{Submission, today};
use crate::{follower, reports};

#[derive(Clone)]
pub struct FormApi(pub Arc<Submission>);

fn no_form(code: &str) -> ServiceError {
    ServiceError::NotFound(format!("no report form has code {code}"))
}

#[tonic::async_trait]
impl FormService for FormApi {
    async fn list_forms(
        &self,
        request: Request<pb::ListFormsRequest>,
    ) -> Result<Response<pb::ListFormsResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let defs = self.0.cache.get();
        Ok(Response::new(pb::ListFormsResponse {
            forms: defs.forms.values().map(encode_form).collect(),
        }))
    }

    async fn get_form(
        &self,
        request: Request<pb::GetFormRequest>,
    ) -> Result<Response<pb::Form>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let raw = request.get_ref().code.trim();
        let defs = self.0.cache.get();
        let form = FormCode::parse(raw)
            .ok()
            .and_then(|c| defs.form(&c))
            .ok_or_else(|| no_form(raw))?;
        Ok(Response::new(encode_form(form)))
    }

    async fn list_periods(
        &self,
        request: Request<pb::ListPeriodsRequest>,
    ) -> Result<Response<pb::ListPeriodsResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let req = request.get_ref();
        let defs = self.0.cache.get();
        let form = FormCode::parse(req.form.trim())
            .ok()
            .and_then(|c| defs.form(&c))
            .ok_or_else(|| no_form(req.form.trim()))?;
        let today = today();
        let mut errors = chiso_domain::FieldErrors::new();
        let mut date = |field: &str, raw: &str, default| match raw.trim() {
            "" => Some(default),
            raw => errors.check(field, parse_date(raw)),
        };
        let from = date("from", &req.from, form.opens.start());
        let to = date("to", &req.to, today);
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let (from, to) = (from.expect("checked"), to.expect("checked"));
        let periods = PeriodCode::between(form.period_type, from, to)
            .into_iter()
            .filter(|p| form.covers(p))
            .map(|p| encode_period(form, &p, today))
            .collect();
        Ok(Response::new(pb::ListPeriodsResponse { periods }))
    }

    async fn list_expected_reports(
        &self,
        request: Request<pb::ListExpectedReportsRequest>,
    ) -> Result<Response<pb::ListExpectedReportsResponse>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let req = request.get_ref();
        let defs = self.0.cache.get();
        let mut errors = chiso_domain::FieldErrors::new();
        let form = FormCode::parse(req.form.trim())
            .ok()
            .and_then(|c| defs.form(&c));
        if form.is_none() {
            errors.push(
                "form",
                format!("no report form has code {}", req.form.trim()),
            );
        }
        let period = errors.check("period", PeriodCode::parse(&req.period));
        let province = match req.province_code.trim() {
            "" => None,
            raw => errors.check("province_code", AdminUnitCode::parse(raw)),
        };
        if let (Some(f), Some(p)) = (form, &period)
            && !f.covers(p)
        {
            errors.push(
                "period",
                format!(
                    "`{p}` is not a period of form {} (from {})",
                    f.code, f.opens
                ),
            );
        }
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let (form, period) = (form.expect("checked"), period.expect("checked"));
        // Officers see their province, agencies themselves; only admins and
        // services may ask for every province at once.
        let province = match (&scope, province) {
            (Scope::Everywhere, p) => p,
            (Scope::Province(own), None) => Some(own.clone()),
            (Scope::Province(own), Some(p)) => {
                scope.check(Action::ReadReport, Resource::Province(p.as_str()))?;
                debug_assert_eq!(own, &p);
                Some(p)
            }
            (Scope::Provinces(_), Some(p)) => {
                scope.check(Action::ReadReport, Resource::Province(p.as_str()))?;
                Some(p)
            }
            (Scope::Provinces(_), None) => match scope.province() {
                Some(only) => Some(only.clone()),
                None => {
                    return Err(ServiceError::field(
                        "province_code",
                        "is required: this client reads several provinces; name one",
                    )
                    .into());
                }
            },
            (Scope::Agency(_), _) => principal.province.clone(),
        };
        let versions =
            follower::all_versions(&self.0.db, province.as_ref().map(AdminUnitCode::as_str))
                .await?;
        let mut expected = form.expected_reporters(&period, province.as_ref(), &versions);
        if let Scope::Agency(own) = &scope {
            expected.retain(|a| a == own);
        }
        let statuses = reports::statuses(&self.0.db, &form.code, &period, &expected).await?;
        let reports = expected
            .iter()
            .map(|code| {
                // The province the agency belonged to during the period.
                let province = versions
                    .iter()
                    .filter(|v| &v.code == code && v.existed_during(&period))
                    .max_by_key(|v| v.valid_from)
                    .map(|v| v.province.to_string())
                    .unwrap_or_default();
                let (report_id, status, days_late) = match statuses.get(code.as_str()) {
                    Some((id, status, days)) => {
                        (id.clone(), pb::ReportStatus::from(*status).into(), *days)
                    }
                    None => (String::new(), pb::ReportStatus::Unspecified.into(), 0),
                };
                pb::ExpectedReport {
                    agency_code: code.to_string(),
                    province_code: province,
                    status,
                    report_id,
                    days_late,
                }
            })
            .collect();
        Ok(Response::new(pb::ListExpectedReportsResponse {
            form: form.code.to_string(),
            period: period.to_string(),
            deadline: chiso_domain::date::format_date(form.deadline(&period)),
            reports,
        }))
    }
}
