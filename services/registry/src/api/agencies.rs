//! `AgencyService`: the organisation tree, as of any date, and its reorganisations.

use chiso_domain::{AdminUnitCode, AgencyCode, FieldErrors, today};
use chiso_proto::{
    convert::registry::{admin_level_filter, agency_kind_filter, decode_new_agency, decode_plan},
    registry::v1::{self as pb, agency_service_server::AgencyService},
};
use chiso_runtime::{
    ServiceError, feed,
    policy::{Action, Resource, authorize, caller, caller_in_scope},
};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::{State, optional, optional_date, parse_code};
use crate::entity::agency;
use crate::store::{
    self, AgencyChange, AgencyFilter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageCursor, View,
};

/// `AgencyService` implementation.
#[derive(Clone)]
pub struct AgencyApi(pub State);

#[tonic::async_trait]
impl AgencyService for AgencyApi {
    #[instrument(skip_all, fields(code = %request.get_ref().code))]
    async fn create_agency(
        &self,
        request: Request<pb::CreateAgencyRequest>,
    ) -> Result<Response<pb::Agency>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ChangeTree)?;
        let mut errors = FieldErrors::new();
        let new = decode_new_agency(request.get_ref(), "", today(), &mut errors);
        let new = match new {
            Some(new) if errors.is_empty() => new,
            _ => return Err(ServiceError::from(errors).into()),
        };
        let created = store::create_agency(&self.0.db, new, &scope).await?;
        self.0.feed_written().await;
        info!(agency = %created.code, province = %created.province_code, "agency registered");
        Ok(Response::new(pb::Agency::from(created)))
    }

    async fn get_agency(
        &self,
        request: Request<pb::GetAgencyRequest>,
    ) -> Result<Response<pb::Agency>, Status> {
        // Who is asking before what is asked: no token gets UNAUTHENTICATED
        // here as everywhere, not feedback on its input.
        caller(&request)?;
        let req = request.get_ref();
        let (code, as_of) = decode_code_as_of(&req.code, &req.as_of)?;
        let latest = self.readable(&request, &code).await?;
        let found = match as_of {
            Some(date) => store::get_as_of(&self.0.db, &code, date).await?,
            None => store::latest_view(latest)?,
        };
        Ok(Response::new(pb::Agency::from(found)))
    }

    async fn list_agencies(
        &self,
        request: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadTree, Resource::Global)?;
        let filter = decode_filter(request.get_ref())?;
        let (agencies, next) = store::list(&self.0.db, &filter).await?;
        Ok(Response::new(pb::ListAgenciesResponse {
            agencies: agencies.into_iter().map(pb::Agency::from).collect(),
            next_page_token: next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }

    async fn get_subtree(
        &self,
        request: Request<pb::GetSubtreeRequest>,
    ) -> Result<Response<pb::GetSubtreeResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadTree, Resource::Global)?;
        let req = request.get_ref();
        let (code, as_of) = decode_code_as_of(&req.code, &req.as_of)?;
        let date = as_of.unwrap_or_else(today);
        let nodes = store::subtree(&self.0.db, &code, View::AsOf(date)).await?;
        Ok(Response::new(pb::GetSubtreeResponse {
            nodes: nodes
                .into_iter()
                .map(|(agency, depth)| pb::SubtreeNode {
                    agency: Some(pb::Agency::from(agency)),
                    depth: i32::try_from(depth).unwrap_or(i32::MAX),
                })
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(effective_date = %request.get_ref().effective_date))]
    async fn reorganise(
        &self,
        request: Request<pb::ReorganiseRequest>,
    ) -> Result<Response<pb::Reorganisation>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::ChangeTree)?;
        let plan = decode_plan(request.into_inner()).map_err(ServiceError::from)?;
        let outcome = store::reorganise(&self.0.db, plan, &scope, &principal.subject).await?;
        self.0.feed_written().await;
        let r = &outcome.reorganisation;
        info!(
            id = r.id,
            effective_date = %r.effective_date,
            legal_basis = %r.legal_basis,
            created = outcome.created.len(),
            changed = outcome.changed.len(),
            retired = outcome.retired.len(),
            "reorganisation recorded"
        );
        Ok(Response::new(pb::Reorganisation {
            id: r.id,
            effective_date: r.effective_date.to_string(),
            legal_basis: r.legal_basis.clone(),
            note: r.note.clone().unwrap_or_default(),
            recorded_by: r.recorded_by.clone(),
            created: outcome.created.into_iter().map(pb::Agency::from).collect(),
            changed: outcome.changed.into_iter().map(pb::Agency::from).collect(),
            retired: outcome.retired.into_iter().map(pb::Agency::from).collect(),
            links: outcome
                .links
                .into_iter()
                .map(pb::LineageLink::from)
                .collect(),
        }))
    }

    #[instrument(skip_all, fields(bytes = request.get_ref().csv.len(), dry_run = request.get_ref().dry_run))]
    async fn import_agencies(
        &self,
        request: Request<pb::ImportAgenciesRequest>,
    ) -> Result<Response<pb::ImportSummary>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ChangeTree)?;
        let req = request.into_inner();
        if req.csv.len() > MAX_IMPORT_BYTES {
            return Err(ServiceError::field(
                "csv",
                format!("is larger than {} MiB; split it", MAX_IMPORT_BYTES >> 20),
            )
            .into());
        }
        let parsed = crate::csv_import::parse(&req.csv, today());
        let summary = store::import_agencies(&self.0.db, parsed, req.dry_run, &scope).await?;
        info!(
            rows = summary.rows,
            created = summary.created.len(),
            errors = summary.errors.len(),
            committed = summary.committed,
            "agency import"
        );
        Ok(Response::new(pb::ImportSummary {
            rows: i32::try_from(summary.rows).unwrap_or(i32::MAX),
            created: summary.created.into_iter().map(pb::Agency::from).collect(),
            errors: summary
                .errors
                .into_iter()
                .map(|(e, conflict)| pb::ImportError {
                    line: i64::try_from(store::line_of(&e.field)).unwrap_or(0),
                    field: e.field,
                    message: e.message,
                    conflict,
                })
                .collect(),
            committed: summary.committed,
        }))
    }

    async fn get_lineage(
        &self,
        request: Request<pb::GetLineageRequest>,
    ) -> Result<Response<pb::Lineage>, Status> {
        caller(&request)?;
        let code = parse_code("code", &request.get_ref().code)?;
        self.readable(&request, &code).await?;
        let lineage = store::lineage(&self.0.db, &code).await?;
        Ok(Response::new(pb::Lineage {
            agency: Some(pb::Agency::from(lineage.agency)),
            predecessors: lineage
                .predecessors
                .into_iter()
                .map(pb::LineageLink::from)
                .collect(),
            successors: lineage
                .successors
                .into_iter()
                .map(pb::LineageLink::from)
                .collect(),
            history: lineage
                .history
                .into_iter()
                .map(pb::AgencyVersion::from)
                .collect(),
            related: lineage.related.into_iter().map(pb::Agency::from).collect(),
        }))
    }

    type WatchAgenciesStream = feed::FeedStream<pb::AgencyChange>;

    #[instrument(skip_all, fields(after_seq = request.get_ref().after_seq))]
    async fn watch_agencies(
        &self,
        request: Request<pb::WatchAgenciesRequest>,
    ) -> Result<Response<Self::WatchAgenciesStream>, Status> {
        let after_seq = request.get_ref().after_seq;
        feed::watch(
            &request,
            after_seq,
            &self.0.follow,
            &self.0.db,
            |db, after| async move {
                let changes = store::agency_changes_after(&db, after, feed::BATCH).await?;
                Ok(changes
                    .into_iter()
                    .map(|c| (c.seq, encode_change(c)))
                    .collect())
            },
        )
    }

    async fn list_agency_changes(
        &self,
        request: Request<pb::ListAgencyChangesRequest>,
    ) -> Result<Response<pb::ListAgencyChangesResponse>, Status> {
        // Polling is following the feed: other chiso services and admins.
        authorize(&caller(&request)?, Action::FollowFeed, Resource::Global)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        if req.after_seq < 0 {
            errors.push("after_seq", "must be zero or more");
        }
        let limit = match req.limit {
            0 => MAX_CHANGES_PAGE,
            n if n > 0 && n as u64 <= MAX_CHANGES_PAGE => n as u64,
            n => {
                errors.push(
                    "limit",
                    format!("must be between 1 and {MAX_CHANGES_PAGE}, got {n}"),
                );
                0
            }
        };
        if !errors.is_empty() {
            return Err(ServiceError::from(errors).into());
        }
        // The head first: every change up to it is committed, so in this page or a later one.
        let head_seq = store::agency_feed_head(&self.0.db).await?;
        let changes = store::agency_changes_after(&self.0.db, req.after_seq, limit).await?;
        Ok(Response::new(pb::ListAgencyChangesResponse {
            changes: changes.into_iter().map(encode_change).collect(),
            head_seq,
        }))
    }

    async fn get_agency_feed_head(
        &self,
        request: Request<pb::GetAgencyFeedHeadRequest>,
    ) -> Result<Response<pb::AgencyFeedHead>, Status> {
        authorize(&caller(&request)?, Action::ReadFeedHead, Resource::Global)?;
        let last_seq = store::agency_feed_head(&self.0.db).await?;
        Ok(Response::new(pb::AgencyFeedHead { last_seq }))
    }
}

/// An agency code and an optional `as_of` date.
fn decode_code_as_of(
    code: &str,
    as_of: &str,
) -> Result<(AgencyCode, Option<chrono::NaiveDate>), ServiceError> {
    let mut errors = FieldErrors::new();
    let code = errors.check("code", AgencyCode::parse(code));
    let as_of = optional_date(&mut errors, "as_of", as_of);
    match code {
        Some(code) if errors.is_empty() => Ok((code, as_of)),
        _ => Err(errors.into()),
    }
}

fn encode_change(c: AgencyChange) -> pb::AgencyChange {
    pb::AgencyChange {
        seq: c.seq,
        agency: Some(c.agency.into()),
        versions: c.versions.into_iter().map(Into::into).collect(),
        successor_codes: c.successors,
    }
}

/// Changes in one page of ListAgencyChanges at most.
const MAX_CHANGES_PAGE: u64 = 1000;

impl AgencyApi {
    /// The latest record of an agency the caller may read (an agency reads
    /// only its own; everyone else every agency).
    async fn readable<T>(
        &self,
        request: &Request<T>,
        code: &AgencyCode,
    ) -> Result<agency::Model, ServiceError> {
        let (_, scope) = caller_in_scope(request, Action::ReadAgency)?;
        scope.precheck_agency(Action::ReadAgency, code.as_str())?;
        let found = store::get(&self.0.db, code).await?;
        scope.check(
            Action::ReadAgency,
            Resource::agency(code.as_str(), &found.province_code),
        )?;
        Ok(found)
    }
}

/// Largest CSV file accepted, in bytes.
const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

fn decode_filter(req: &pb::ListAgenciesRequest) -> Result<AgencyFilter, ServiceError> {
    let mut errors = FieldErrors::new();
    let code = |errors: &mut FieldErrors, field: &str, raw: &str| {
        optional(raw).and_then(|c| errors.check(field, AgencyCode::parse(c)))
    };
    let parent_code = code(&mut errors, "parent_code", &req.parent_code);
    let subtree_code = code(&mut errors, "subtree_code", &req.subtree_code);
    let province_code = optional(&req.province_code)
        .and_then(|c| errors.check("province_code", AdminUnitCode::parse(c)));
    let level = errors
        .check("level", admin_level_filter(req.level))
        .flatten();
    let kind = errors.check("kind", agency_kind_filter(req.kind)).flatten();
    let as_of = optional_date(&mut errors, "as_of", &req.as_of);
    let view = match (as_of, req.include_inactive) {
        (Some(_), true) => {
            errors.push(
                "include_inactive",
                "lists every agency in its latest state, so it cannot be combined with as_of",
            );
            View::Latest
        }
        (None, true) => View::Latest,
        (date, false) => View::AsOf(date.unwrap_or_else(today)),
    };
    let query = optional(&req.query).map(chiso_domain::text::search_key);
    let page_size = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 || n as u64 > MAX_PAGE_SIZE => {
            errors.push(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {n}"),
            );
            DEFAULT_PAGE_SIZE
        }
        n => n as u64,
    };
    let after =
        optional(&req.page_token).and_then(|t| errors.check("page_token", PageCursor::decode(t)));
    errors
        .into_result(|| AgencyFilter {
            parent_code,
            province_code,
            subtree_code,
            level,
            kind,
            query,
            view,
            page_size,
            after,
        })
        .map_err(Into::into)
}
