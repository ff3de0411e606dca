//! ReportService: the lifecycle and the reads.

use std::sync::Arc;

use chiso_domain::{
    AdminUnitCode, AgencyCode, FieldErrors, LifecycleAction, PeriodCode, ReportKey, ReportStatus,
    signature::{decode_signature, verify},
};
use chiso_proto::{
    convert::submission::{
        decode_received_on, decode_report_key, decode_signature_request, decode_until,
        decode_values, timestamp,
    },
    submission::v1::{self as pb, report_service_server::ReportService},
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    policy::{Action, Resource, caller_in_scope, scope as policy_scope},
};
use chrono::{Days, Utc};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::{Submission, page_size, received_on_problem, reporting_agency};
use crate::{
    audit::Actor,
    catalogue::Definitions,
    idempotency::{self, IdempotencyKey},
    reports::{self, AuditOf, ListFilter, Lookup, Target, UnlockGrant, Write},
};

/// The report's key; when it does not parse but the form is known, the
/// values are checked against that form too, so every mistake in the
/// request is named at once, not only the key's.
fn decode_key_reporting_values(
    defs: &Definitions,
    form: &str,
    period: &str,
    agency_code: &str,
    values: &[pb::DataValue],
) -> ServiceResult<chiso_proto::convert::submission::ReportKeyRequest> {
    decode_report_key(form, period, agency_code).map_err(|mut errors| {
        let known = chiso_domain::FormCode::parse(form)
            .ok()
            .and_then(|code| defs.form(&code));
        if let Some(form) = known
            && let Err(bad) = decode_values(values, &defs.catalogue, defs.allowed(form))
        {
            errors.0.extend(bad.0);
        }
        ServiceError::from(errors)
    })
}

/// Longest an unlock may last.
const MAX_UNLOCK_DAYS: u64 = 90;

#[derive(Clone)]
pub struct ReportApi(pub Arc<Submission>);

/// The idempotency key of a write: `request` without its `request_id`.
fn key_of<M: prost::Message + Clone>(
    subject: &str,
    method: &'static str,
    request_id: &str,
    request: &M,
    clear: impl FnOnce(&mut M),
) -> Result<Option<IdempotencyKey>, ServiceError> {
    let mut cleared = request.clone();
    clear(&mut cleared);
    Ok(IdempotencyKey::new(
        subject,
        method,
        request_id.trim(),
        &cleared,
    )?)
}

impl ReportApi {
    /// The stored answer of a replayed write.
    async fn replayed(&self, idem: Option<&IdempotencyKey>) -> ServiceResult<Option<pb::Report>> {
        match idem {
            Some(key) => idempotency::replay(&self.0.db, key).await,
            None => Ok(None),
        }
    }

    /// Runs one lifecycle write (once per idempotency key).
    async fn run(
        &self,
        defs: &Definitions,
        actor: &Actor,
        idem: Option<&IdempotencyKey>,
        write: &Write,
    ) -> ServiceResult<pb::Report> {
        let state = &self.0;
        let report = idempotency::once(&state.db, idem, move || {
            reports::write(&state.db, defs, actor, idem, write, &state.sequencer)
        })
        .await?;
        info!(
            report = %report.id,
            action = write.action.as_str(),
            version = report.version,
            "report written"
        );
        Ok(report)
    }

    /// Runs a batch of report writes (an import of values, completions)
    /// once per idempotency key; a replay answers the first summary.
    async fn batch<M>(
        &self,
        request: &Request<M>,
        method: &'static str,
        take_request_id: fn(&mut M) -> String,
        run: impl AsyncFn(
            &Submission,
            &Actor,
            &chiso_runtime::policy::Scope,
            &M,
            Option<&IdempotencyKey>,
        ) -> ServiceResult<pb::ImportSummary>,
    ) -> ServiceResult<pb::ImportSummary>
    where
        M: prost::Message + Clone,
    {
        let (principal, scope) = caller_in_scope(request, Action::SubmitReport)?;
        let req = request.get_ref();
        // The key is the request without its id.
        let mut cleared = req.clone();
        let request_id = take_request_id(&mut cleared);
        let idem = IdempotencyKey::new(&principal.subject, method, request_id.trim(), &cleared)?;
        let actor = self.0.actor(request, principal, idem.as_ref());
        if let Some(key) = idem.as_ref()
            && let Some(answer) = idempotency::replay(&self.0.db, key).await?
        {
            return Ok(answer);
        }
        let summary = idempotency::once(&self.0.db, idem.as_ref(), || {
            run(&self.0, &actor, &scope, req, idem.as_ref())
        })
        .await?;
        info!(
            method,
            status = %summary.status,
            reports = summary.reports,
            dry_run = summary.dry_run,
            conflicts = summary.conflicts.len(),
            "batch of reports written"
        );
        Ok(summary)
    }

    /// A review (accept, return) or revision, by report id.
    async fn by_id(
        &self,
        request: Request<pb::ReviewReportRequest>,
        method: &'static str,
        action: LifecycleAction,
        policy: Action,
    ) -> Result<Response<pb::Report>, Status> {
        let (principal, scope) = caller_in_scope(&request, policy)?;
        let req = request.get_ref();
        let idem = key_of(&principal.subject, method, &req.request_id, req, |r| {
            r.request_id.clear()
        })?;
        let actor = self.0.actor(&request, principal, idem.as_ref());
        if let Some(answer) = self.replayed(idem.as_ref()).await? {
            return Ok(Response::new(answer));
        }
        // A revision's reason travels as the comment; name it as sent.
        let field = if action == LifecycleAction::Revise {
            "reason"
        } else {
            "comment"
        };
        let comment = chiso_domain::text::free_text(&req.comment)
            .map_err(|e| ServiceError::field(field, e.to_string()))?;
        if action == LifecycleAction::Return && comment.is_empty() {
            return Err(ServiceError::field(
                "comment",
                "is required: say why the report is returned",
            )
            .into());
        }
        let write = Write {
            action,
            target: Target::Id {
                id: req.report_id.trim().to_owned(),
                scope,
            },
            values: None,
            if_match: req.if_match.trim().to_owned(),
            received_on: None,
            signature: None,
            comment,
        };
        let defs = self.0.cache.get();
        let answer = self.run(&defs, &actor, idem.as_ref(), &write).await?;
        Ok(Response::new(answer))
    }
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    #[instrument(skip_all, fields(form = %request.get_ref().form, period = %request.get_ref().period))]
    async fn save_draft(
        &self,
        request: Request<pb::SaveDraftRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::SubmitReport)?;
        let req = request.get_ref();
        let idem = key_of(&principal.subject, "SaveDraft", &req.request_id, req, |r| {
            r.request_id.clear()
        })?;
        let actor = self.0.actor(&request, principal, idem.as_ref());
        if let Some(answer) = self.replayed(idem.as_ref()).await? {
            return Ok(Response::new(answer));
        }
        let state = &self.0;
        let defs = state.cache.get();
        let key = decode_key_reporting_values(
            &defs,
            req.form.as_str(),
            &req.period,
            &req.agency_code,
            &req.values,
        )?;
        let (key, province, form) = reporting_agency(
            state,
            &defs,
            &actor.principal,
            &scope,
            Action::SubmitReport,
            key,
        )
        .await?;
        let values = decode_values(&req.values, &defs.catalogue, defs.allowed(form))
            .map_err(ServiceError::from)?;
        let write = Write {
            action: LifecycleAction::SaveDraft,
            target: Target::Key { key, province },
            values: Some(values),
            if_match: req.if_match.trim().to_owned(),
            received_on: None,
            signature: None,
            comment: String::new(),
        };
        let answer = self.run(&defs, &actor, idem.as_ref(), &write).await?;
        Ok(Response::new(answer))
    }

    #[instrument(skip_all)]
    async fn import_values(
        &self,
        request: Request<tonic::Streaming<pb::ImportValuesRequest>>,
    ) -> Result<Response<pb::ImportSummary>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::SubmitReport)?;
        // Who and from where, read before the stream is consumed; the
        // request id falls back to the idempotency key once it is known.
        let mut actor = self.0.actor(&request, principal, None);
        let given_request_id = request.metadata().contains_key(super::REQUEST_ID);
        let mut req = super::import::collect(request.into_inner()).await?;
        let request_id = std::mem::take(&mut req.request_id);
        let idem = IdempotencyKey::new(
            &actor.principal.subject,
            "ImportValues",
            request_id.trim(),
            &req,
        )
        .map_err(ServiceError::from)?;
        if let Some(key) = &idem
            && !given_request_id
        {
            actor.request_id = key.request_id().to_owned();
        }
        if let Some(key) = idem.as_ref()
            && let Some(answer) = idempotency::replay(&self.0.db, key).await?
        {
            return Ok(Response::new(answer));
        }
        let req = &req;
        let summary = idempotency::once(&self.0.db, idem.as_ref(), || {
            super::import::import_values(&self.0, &actor, &scope, req, idem.as_ref())
        })
        .await?;
        info!(
            status = %summary.status,
            reports = summary.reports,
            dry_run = summary.dry_run,
            conflicts = summary.conflicts.len(),
            "values imported"
        );
        Ok(Response::new(summary))
    }

    #[instrument(skip_all, fields(completions = request.get_ref().completions.len()))]
    async fn complete_reports(
        &self,
        request: Request<pb::CompleteReportsRequest>,
    ) -> Result<Response<pb::ImportSummary>, Status> {
        let summary = self
            .batch(
                &request,
                "CompleteReports",
                |r| std::mem::take(&mut r.request_id),
                super::complete::complete_reports,
            )
            .await?;
        Ok(Response::new(summary))
    }

    #[instrument(skip_all, fields(form = %request.get_ref().form, period = %request.get_ref().period))]
    async fn submit_report(
        &self,
        request: Request<pb::SubmitReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::SubmitReport)?;
        let req = request.get_ref();
        let idem = key_of(
            &principal.subject,
            "SubmitReport",
            &req.request_id,
            req,
            |r| r.request_id.clear(),
        )?;
        let actor = self.0.actor(&request, principal, idem.as_ref());
        if let Some(answer) = self.replayed(idem.as_ref()).await? {
            return Ok(Response::new(answer));
        }
        let state = &self.0;
        let defs = state.cache.get();
        let key = decode_key_reporting_values(
            &defs,
            req.form.as_str(),
            &req.period,
            &req.agency_code,
            &req.values,
        )?;
        let (key, province, form) = reporting_agency(
            state,
            &defs,
            &actor.principal,
            &scope,
            Action::SubmitReport,
            key,
        )
        .await?;
        let mut errors = FieldErrors::new();
        let values = if req.values.is_empty() {
            None
        } else {
            errors.check_errors(decode_values(
                &req.values,
                &defs.catalogue,
                defs.allowed(form),
            ))
        };
        let received_on = errors
            .check_errors(decode_received_on(&req.received_on))
            .flatten();
        if let Some(day) = received_on {
            // Only officers and admins enter paper reports.
            policy_scope(&actor.principal, Action::EnterPaperReport)?.check(
                Action::EnterPaperReport,
                Resource::agency(key.agency.as_str(), province.as_str()),
            )?;
            if let Some(problem) = received_on_problem(day, &key.period) {
                errors.push("received_on", problem);
            }
        }
        let sent = errors
            .check_errors(decode_signature_request(
                req.signature.as_ref(),
                form.signature_required,
            ))
            .flatten();
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let signature = match sent {
            None => None,
            Some(sent) => match state.keys.get(&sent.key_id).await? {
                Some(found) => Some((sent, found.key)),
                None => {
                    return Err(ServiceError::field(
                        "signature.key_id",
                        format!("no signing key has id {}", sent.key_id),
                    )
                    .into());
                }
            },
        };
        let write = Write {
            action: LifecycleAction::Submit,
            target: Target::Key { key, province },
            values,
            if_match: req.if_match.trim().to_owned(),
            received_on,
            signature,
            comment: String::new(),
        };
        let answer = self.run(&defs, &actor, idem.as_ref(), &write).await?;
        Ok(Response::new(answer))
    }

    #[instrument(skip_all, fields(report = %request.get_ref().report_id))]
    async fn accept_report(
        &self,
        request: Request<pb::ReviewReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        self.by_id(
            request,
            "AcceptReport",
            LifecycleAction::Accept,
            Action::ReviewReport,
        )
        .await
    }

    #[instrument(skip_all, fields(report = %request.get_ref().report_id))]
    async fn return_report(
        &self,
        request: Request<pb::ReviewReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        self.by_id(
            request,
            "ReturnReport",
            LifecycleAction::Return,
            Action::ReviewReport,
        )
        .await
    }

    #[instrument(skip_all, fields(report = %request.get_ref().report_id))]
    async fn revise_report(
        &self,
        request: Request<pb::ReviseReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        // Same shape as a review: the reason is the audit comment.
        let (metadata, extensions, r) = request.into_parts();
        let review = pb::ReviewReportRequest {
            report_id: r.report_id,
            comment: r.reason,
            if_match: r.if_match,
            request_id: r.request_id,
        };
        self.by_id(
            Request::from_parts(metadata, extensions, review),
            "ReviseReport",
            LifecycleAction::Revise,
            Action::SubmitReport,
        )
        .await
    }

    #[instrument(skip_all, fields(form = %request.get_ref().form, period = %request.get_ref().period))]
    async fn unlock_report(
        &self,
        request: Request<pb::UnlockReportRequest>,
    ) -> Result<Response<pb::Unlock>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ReviewReport)?;
        let req = request.get_ref();
        let idem = key_of(
            &principal.subject,
            "UnlockReport",
            &req.request_id,
            req,
            |r| r.request_id.clear(),
        )?;
        let actor = self.0.actor(&request, principal, idem.as_ref());
        let state = &self.0;
        if let Some(key) = &idem
            && let Some(answer) = idempotency::replay(&state.db, key).await?
        {
            return Ok(Response::new(answer));
        }
        let defs = state.cache.get();
        let key = decode_report_key(&req.form, &req.period, &req.agency_code)
            .map_err(ServiceError::from)?;
        let (key, province, _) = reporting_agency(
            state,
            &defs,
            &actor.principal,
            &scope,
            Action::ReviewReport,
            key,
        )
        .await?;
        let mut errors = FieldErrors::new();
        let reason = errors
            .check("reason", chiso_domain::text::free_text(&req.reason))
            .unwrap_or_default();
        if req.reason.trim().is_empty() {
            errors.push("reason", "is required: say why the report is unlocked");
        }
        let now = Utc::now();
        let until = errors.check_errors(decode_until(&req.until));
        if let Some(until) = until {
            if until <= now {
                errors.push("until", "must be in the future");
            } else if until > now + Days::new(MAX_UNLOCK_DAYS) {
                errors.push(
                    "until",
                    format!("must be at most {MAX_UNLOCK_DAYS} days ahead"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        let grant = UnlockGrant {
            key,
            province,
            reason,
            until: until.expect("checked"),
        };
        let (defs, actor, idem, grant) = (&*defs, &actor, idem.as_ref(), &grant);
        let answer = idempotency::once(&state.db, idem, move || {
            reports::unlock(&state.db, defs, actor, idem, grant, &state.sequencer)
        })
        .await?;
        Ok(Response::new(answer))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let req = request.get_ref();
        let lookup = lookup(
            &req.id,
            &req.form,
            &req.period,
            &req.agency_code,
            &principal,
        )?;
        if req.version < 0 {
            return Err(ServiceError::field("version", "must be zero (current) or more").into());
        }
        let defs = self.0.cache.get();
        let report = reports::get(&self.0.db, &defs, &lookup, req.version, &scope).await?;
        Ok(Response::new(report))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let req = request.get_ref();
        let filter = decode_list_filter(req)?;
        let defs = self.0.cache.get();
        let token = req.page_token.trim();
        let (reports, next_page_token) = reports::list(
            &self.0.db,
            &defs,
            &filter,
            &scope,
            page_size(req.page_size, 100, 1000),
            (!token.is_empty()).then_some(token),
        )
        .await?;
        Ok(Response::new(pb::ListReportsResponse {
            reports,
            next_page_token,
        }))
    }

    async fn list_report_versions(
        &self,
        request: Request<pb::ListReportVersionsRequest>,
    ) -> Result<Response<pb::ListReportVersionsResponse>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let defs = self.0.cache.get();
        let versions = reports::versions(
            &self.0.db,
            &defs,
            request.get_ref().report_id.trim(),
            &scope,
        )
        .await?;
        Ok(Response::new(pb::ListReportVersionsResponse { versions }))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let req = request.get_ref();
        let of = match (req.report_id.trim(), req.agency_code.trim()) {
            (id, "") if !id.is_empty() => AuditOf::Report(id.to_owned()),
            ("", code) if !code.is_empty() => AuditOf::Agency(
                AgencyCode::parse(code)
                    .map_err(|e| ServiceError::field("agency_code", e.to_string()))?,
            ),
            _ => {
                return Err(ServiceError::field(
                    "report_id",
                    "give either report_id or agency_code",
                )
                .into());
            }
        };
        let after = match req.page_token.trim() {
            "" => 0,
            t => t
                .parse::<i64>()
                .map_err(|_| ServiceError::field("page_token", "is not a page token"))?,
        };
        let (entries, next_page_token) = reports::audit_entries(
            &self.0.db,
            &of,
            &scope,
            page_size(req.page_size, 100, 1000),
            after,
        )
        .await?;
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries,
            next_page_token,
        }))
    }

    async fn verify_signature(
        &self,
        request: Request<pb::VerifySignatureRequest>,
    ) -> Result<Response<pb::SignatureVerification>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let req = request.get_ref();
        let defs = self.0.cache.get();
        let stored =
            reports::signature(&self.0.db, &defs, req.report_id.trim(), req.version, &scope)
                .await?;
        let signed_content = String::from_utf8_lossy(&stored.content).into_owned();
        let Some((key_id, signature, signed_at)) = stored.signature else {
            return Ok(Response::new(pb::SignatureVerification {
                valid: false,
                reason: format!("version {} is not signed", stored.version),
                signed_content,
                ..Default::default()
            }));
        };
        let mut answer = pb::SignatureVerification {
            valid: false,
            key_id: key_id.clone(),
            signed_at: Some(timestamp(signed_at)),
            signed_content,
            ..Default::default()
        };
        match self.0.keys.get(&key_id).await? {
            None => answer.reason = format!("the registry has no key {key_id}"),
            Some(found) => {
                answer.key_label = found.label;
                let checked = decode_signature(&signature).and_then(|bytes| {
                    verify(
                        &found.key,
                        &stored.key.agency,
                        signed_at,
                        &stored.content,
                        &bytes,
                    )
                });
                match checked {
                    Ok(()) => answer.valid = true,
                    Err(e) => answer.reason = e.to_string(),
                }
            }
        }
        Ok(Response::new(answer))
    }
}

/// A report named by id, or by form, period and agency (the caller's own
/// agency when empty).
fn lookup(
    id: &str,
    form: &str,
    period: &str,
    agency_code: &str,
    principal: &chiso_runtime::auth::Principal,
) -> ServiceResult<Lookup> {
    if !id.trim().is_empty() {
        return Ok(Lookup::Id(id.trim().to_owned()));
    }
    let key = decode_report_key(form, period, agency_code)?;
    let agency = key
        .agency
        .or_else(|| principal.agency.clone())
        .ok_or_else(|| ServiceError::field("agency_code", "is required with form and period"))?;
    Ok(Lookup::Key(ReportKey {
        form: key.form,
        period: key.period,
        agency,
    }))
}

fn decode_list_filter(req: &pb::ListReportsRequest) -> ServiceResult<ListFilter> {
    let mut errors = FieldErrors::new();
    let opt = |raw: &str| (!raw.trim().is_empty()).then(|| raw.trim().to_owned());
    let form = opt(&req.form).and_then(|f| errors.check("form", chiso_domain::FormCode::parse(&f)));
    let period = opt(&req.period).and_then(|p| errors.check("period", PeriodCode::parse(&p)));
    let agency =
        opt(&req.agency_code).and_then(|a| errors.check("agency_code", AgencyCode::parse(&a)));
    let province = opt(&req.province_code)
        .and_then(|p| errors.check("province_code", AdminUnitCode::parse(&p)));
    let status = match pb::ReportStatus::try_from(req.status) {
        Ok(pb::ReportStatus::Unspecified) => None,
        Ok(s) => ReportStatus::try_from(s).ok(),
        Err(_) => {
            errors.push("status", "is not a report status");
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    Ok(ListFilter {
        form,
        period,
        agency,
        province,
        status,
    })
}
