//! gRPC surface of the aggregation service.

use std::sync::Arc;

use chiso_domain::{IndicatorCode, aggregate, today};
use chiso_proto::{
    aggregation::v1::{self as pb, aggregation_service_server::AggregationService},
    convert::{
        aggregation::{decode_get_aggregate, encode_aggregate},
        submission::decode_formula,
    },
    submission::v1::{GetIndicatorRequest, catalogue_service_client::CatalogueServiceClient},
};
use chiso_runtime::{
    ServiceError,
    grpc::with_bearer,
    policy::{Action, Resource, authorize, caller},
};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status, transport::Channel};

use crate::{store, token::ServiceToken};

/// State shared by the aggregation service's gRPC services.
pub struct Aggregation {
    pub db: DatabaseConnection,
    pub submission: Channel,
    pub token: Arc<ServiceToken>,
}

#[derive(Clone)]
pub struct AggregationApi(pub Arc<Aggregation>);

#[tonic::async_trait]
impl AggregationService for AggregationApi {
    async fn get_aggregate(
        &self,
        request: Request<pb::GetAggregateRequest>,
    ) -> Result<Response<pb::Aggregate>, Status> {
        authorize(&caller(&request)?, Action::ReadAggregates, Resource::Global)?;
        let query = decode_get_aggregate(request.get_ref()).map_err(ServiceError::from)?;
        let as_of = query.as_of.unwrap_or_else(today);
        let definition = self.indicator(&query.indicator).await?;
        let formula = decode_formula(&definition).map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!(
                "the catalogue's indicator {} is malformed: {e}",
                query.indicator
            ))
        })?;
        let area = &query.area;
        let members = store::area_members(&self.0.db, area, as_of)
            .await?
            .ok_or_else(|| {
                ServiceError::field(
                    "area",
                    format!("no People's Committee had administrative-unit code {area} on {as_of}"),
                )
            })?;
        let numerator =
            store::total(&self.0.db, &members, &query.period, &formula.numerator).await?;
        let denominator = match &formula.denominator {
            Some(code) => Some(store::total(&self.0.db, &members, &query.period, code).await?),
            None => None,
        };
        let aggregate = aggregate(numerator, denominator, formula.factor)
            .map_err(|e| ServiceError::FailedPrecondition(e.to_string()))?;
        Ok(Response::new(encode_aggregate(
            &query,
            as_of,
            &aggregate,
            definition.factor,
            definition.unit,
        )))
    }

    async fn get_feed_position(
        &self,
        request: Request<pb::GetFeedPositionRequest>,
    ) -> Result<Response<pb::FeedPosition>, Status> {
        // How far the aggregates have caught up: open to whoever reads them.
        authorize(&caller(&request)?, Action::ReadAggregates, Resource::Global)?;
        let last_seq = store::cursor(&self.0.db, store::SUBMISSION_FEED).await?;
        let agency_seq = store::cursor(&self.0.db, store::REGISTRY_FEED).await?;
        Ok(Response::new(pb::FeedPosition {
            last_seq,
            agency_seq,
        }))
    }
}

impl AggregationApi {
    async fn indicator(
        &self,
        code: &IndicatorCode,
    ) -> Result<chiso_proto::submission::v1::Indicator, Status> {
        let token = self.0.token.get().await.map_err(|e| {
            tracing::warn!(error = format!("{e:#}"), "no service token");
            Status::unavailable("the registry is unavailable, try again")
        })?;
        let request = with_bearer(
            GetIndicatorRequest {
                code: code.to_string(),
            },
            &token,
        )
        .map_err(ServiceError::from)?;
        match CatalogueServiceClient::new(self.0.submission.clone())
            .get_indicator(request)
            .await
        {
            Ok(r) => Ok(r.into_inner()),
            Err(s) if s.code() == tonic::Code::NotFound => {
                Err(ServiceError::field("indicator", format!("unknown indicator `{code}`")).into())
            }
            Err(s) => Err(s),
        }
    }
}
