//! gRPC surface of the submission service.

use std::{pin::Pin, sync::Arc};

use chiso_domain::{AdminUnitCode, AgencyCode};
use chiso_proto::submission::v1::{
    self as pb, catalogue_service_server::CatalogueService,
    change_feed_service_server::ChangeFeedService, report_service_server::ReportService,
};
use chiso_runtime::{
    ServiceError,
    auth::{Role, require},
    feed,
};
use futures::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use crate::{
    entity::{data_element, indicator},
    store::{self, NewReport, RawValue, StoredReport},
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

const ANY_ROLE: &[Role] = &[
    Role::Admin,
    Role::ProvinceOfficer,
    Role::Agency,
    Role::Service,
];

#[tonic::async_trait]
impl CatalogueService for CatalogueApi {
    async fn list_data_elements(
        &self,
        request: Request<pb::ListDataElementsRequest>,
    ) -> Result<Response<pb::ListDataElementsResponse>, Status> {
        require(&request, ANY_ROLE)?;
        let data_elements = store::data_elements(&self.0.db).await?;
        Ok(Response::new(pb::ListDataElementsResponse {
            data_elements: data_elements.into_iter().map(encode_data_element).collect(),
        }))
    }

    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        require(&request, ANY_ROLE)?;
        let indicators = store::indicators(&self.0.db).await?;
        Ok(Response::new(pb::ListIndicatorsResponse {
            indicators: indicators.into_iter().map(encode_indicator).collect(),
        }))
    }

    async fn get_indicator(
        &self,
        request: Request<pb::GetIndicatorRequest>,
    ) -> Result<Response<pb::Indicator>, Status> {
        require(&request, ANY_ROLE)?;
        let found = store::indicator(&self.0.db, request.get_ref().code.trim()).await?;
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
        let principal = require(&request, &[Role::Agency])?;
        let (agency, province) = agency_of(principal.agency, principal.province)?;
        let req = request.into_inner();
        let raw: Vec<RawValue> = req
            .values
            .into_iter()
            .map(|v| RawValue {
                data_element: v.data_element,
                value: v.value,
            })
            .collect();
        let (period, values) = store::validate_report(&self.0.db, &req.period, &raw).await?;
        let stored = store::submit(
            &self.0.db,
            NewReport {
                agency,
                province,
                period,
                values,
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
        let principal = require(&request, ANY_ROLE)?;
        let stored = store::report(&self.0.db, request.get_ref().id.trim()).await?;
        let own = principal
            .agency
            .as_ref()
            .is_some_and(|a| a.as_str() == stored.report.agency_code);
        if principal.role == Role::Agency && !own {
            // Same answer as a missing report: do not reveal other agencies' ids.
            return Err(
                ServiceError::NotFound(format!("no report has id {}", stored.report.id)).into(),
            );
        }
        Ok(Response::new(encode_report(stored)))
    }
}

type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::ChangeEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ChangeFeedService for FeedApi {
    type WatchChangesStream = ChangeStream;

    #[instrument(skip_all, fields(after_seq = request.get_ref().after_seq))]
    async fn watch_changes(
        &self,
        request: Request<pb::WatchChangesRequest>,
    ) -> Result<Response<Self::WatchChangesStream>, Status> {
        require(&request, &[Role::Service, Role::Admin])?;
        let after = request.get_ref().after_seq;
        if after < 0 {
            return Err(ServiceError::field("after_seq", "must be zero or more").into());
        }
        let db = self.0.db.clone();
        let stream = feed::stream(self.0.follow.clone(), after, move |after| {
            let db = db.clone();
            async move {
                let batch = store::changes_after(&db, after, feed::BATCH).await?;
                Ok(batch
                    .into_iter()
                    .map(|(seq, stored)| {
                        let change =
                            pb::change_event::Change::ReportSubmitted(encode_report(stored));
                        (
                            seq,
                            pb::ChangeEvent {
                                seq,
                                change: Some(change),
                            },
                        )
                    })
                    .collect())
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

fn agency_of(
    agency: Option<AgencyCode>,
    province: Option<AdminUnitCode>,
) -> Result<(AgencyCode, AdminUnitCode), ServiceError> {
    match (agency, province) {
        (Some(a), Some(p)) => Ok((a, p)),
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
        status: pb::ReportStatus::Submitted.into(),
        values: s
            .values
            .into_iter()
            .map(|v| pb::DataValue {
                data_element: v.data_element,
                value: v.value,
            })
            .collect(),
        submitted_at: Some(prost_types::Timestamp {
            seconds: ts.timestamp(),
            nanos: i32::try_from(ts.timestamp_subsec_nanos()).unwrap_or(0),
        }),
    }
}
