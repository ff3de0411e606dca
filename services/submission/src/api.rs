//! gRPC surface of the submission service.

use std::sync::Arc;

use chiso_domain::{AdminUnitCode, AgencyCode, IndicatorCode};
use chiso_proto::{
    convert::submission::decode_submit_report,
    submission::v1::{
        self as pb, catalogue_service_server::CatalogueService,
        change_feed_service_server::ChangeFeedService, report_service_server::ReportService,
    },
};
use chiso_runtime::{
    ServiceError,
    auth::Principal,
    feed,
    policy::{Action, Resource, authorize, caller, caller_in_scope},
};
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use crate::{
    entity::{data_element, indicator},
    store::{self, NewReport, StoredReport},
};

/// State shared by the submission service's gRPC services.
pub struct Submission {
    pub db: DatabaseConnection,
    /// Latest sequence number committed by this process; wakes feed watchers.
    pub head: watch::Sender<i64>,
    /// What open feed streams follow.
    pub follow: feed::Follow,
}

#[derive(Clone)]
pub struct CatalogueApi(pub Arc<Submission>);
#[derive(Clone)]
pub struct ReportApi(pub Arc<Submission>);
#[derive(Clone)]
pub struct FeedApi(pub Arc<Submission>);

#[tonic::async_trait]
impl CatalogueService for CatalogueApi {
    async fn list_data_elements(
        &self,
        request: Request<pb::ListDataElementsRequest>,
    ) -> Result<Response<pb::ListDataElementsResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let data_elements = store::data_elements(&self.0.db).await?;
        Ok(Response::new(pb::ListDataElementsResponse {
            data_elements: data_elements.into_iter().map(encode_data_element).collect(),
        }))
    }

    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let indicators = store::indicators(&self.0.db).await?;
        Ok(Response::new(pb::ListIndicatorsResponse {
            indicators: indicators.into_iter().map(encode_indicator).collect(),
        }))
    }

    async fn get_indicator(
        &self,
        request: Request<pb::GetIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        authorize(&caller(&request)?, Action::ReadCatalogue, Resource::Global)?;
        let raw = request.get_ref().code.trim();
        // No indicator has a malformed code: the same answer as an unknown one.
        let code = IndicatorCode::parse(raw).map_err(|_| store::no_indicator(raw))?;
        let found = store::indicator(&self.0.db, &code).await?;
        Ok(Response::new(encode_indicator(found)))
    }
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    #[instrument(skip_all, fields(period = %request.get_ref().period))]
    async fn submit_report(
        &self,
        request: Request<pb::SubmitReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let (principal, scope) = caller_in_scope(&request, Action::SubmitReport)?;
        // The token names the agency a report is for; the body cannot.
        let (agency, province) = agency_of(&principal)?;
        scope.check(
            Action::SubmitReport,
            Resource::agency(agency.as_str(), province.as_str()),
        )?;
        let known = store::data_element_codes(&self.0.db).await?;
        let content = decode_submit_report(request.get_ref(), |code| known.contains(code.as_str()))
            .map_err(ServiceError::from)?;
        let stored = store::submit(
            &self.0.db,
            NewReport {
                agency,
                province,
                content,
                submitted_by: principal.subject,
            },
        )
        .await?;
        let seq = store::head(&self.0.db).await?;
        self.0.head.send_replace(seq);
        info!(
            agency = %stored.report.agency_code,
            period = %stored.report.period,
            version = stored.report.version,
            "report submitted"
        );
        Ok(Response::new(encode_report(stored)))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let (_, scope) = caller_in_scope(&request, Action::ReadReport)?;
        let stored = store::report(&self.0.db, request.get_ref().id.trim()).await?;
        let owner = Resource::agency(&stored.report.agency_code, &stored.report.province_code);
        if !scope.covers(owner) {
            // Same answer as a missing report: do not reveal other agencies' ids.
            return Err(
                ServiceError::NotFound(format!("no report has id {}", stored.report.id)).into(),
            );
        }
        Ok(Response::new(encode_report(stored)))
    }
}

#[tonic::async_trait]
impl ChangeFeedService for FeedApi {
    type WatchChangesStream = feed::FeedStream<pb::ChangeEvent>;

    #[instrument(skip_all, fields(after_seq = request.get_ref().after_seq))]
    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        let after_seq = request.get_ref().after_seq;
        feed::watch(
            &request,
            after_seq,
            &self.0.follow,
            &self.0.db,
            |db, after| async move {
                let batch = store::changes_after(&db, after, feed::BATCH).await?;
                Ok(batch
                    .into_iter()
                    .map(|(seq, stored)| {
                        let change =
                            pb::change_event::Change::ReportSubmitted(encode_report(stored));
                        let event = pb::ChangeEvent {
                            seq,
                            change: Some(change),
                        };
                        (seq, event)
                    })
                    .collect())
            },
        )
    }
}

/// The agency a token speaks for, and its province.
fn agency_of(principal: &Principal) -> Result<(AgencyCode, AdminUnitCode), ServiceError> {
    match (&principal.agency, &principal.province) {
        (Some(a), Some(p)) => Ok((a.clone(), p.clone())),
        _ => Err(ServiceError::PermissionDenied(
            "the token does not name an agency and its province".into(),
        )),
    }
}

fn encode_data_element(d: data_element::Model) -> pb::DataElement {
    pb::DataElement {
        code: d.code,
        name: d.name,
        name_en: d.name_en.unwrap_or_default(),
    }
}

pub(crate) fn encode_indicator(i: indicator::Model) -> pb::Indicator {
    pb::Indicator {
        code: i.code,
        name: i.name,
        name_en: i.name_en.unwrap_or_default(),
        numerator: i.numerator,
        denominator: i.denominator.unwrap_or_default(),
        factor: i.factor,
        unit: i.unit,
    }
}

fn encode_report(s: StoredReport) -> pb::Report {
    let ts = s.report.submitted_at;
    pb::Report {
        id: s.report.id,
        agency_code: s.report.agency_code,
        province_code: s.report.province_code,
        period: s.report.period,
        version: s.report.version,
        status: pb::ReportStatus::from(s.status).into(),
        values: s
            .values
            .into_iter()
            .map(|v| pb::DataValue::new(v.data_element, v.value))
            .collect(),
        submitted_at: Some(prost_types::Timestamp {
            seconds: ts.timestamp(),
            nanos: i32::try_from(ts.timestamp_subsec_nanos()).unwrap_or(0),
        }),
    }
}
