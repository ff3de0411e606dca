//! gRPC surface of the aggregation service.

use std::sync::Arc;

use chiso_domain::{aggregate, today};
use chiso_proto::{
    aggregation::v1::{self as pb, aggregation_service_server::AggregationService},
    convert::aggregation::{decode_get_aggregate, encode_aggregate},
};
use chiso_runtime::{
    ServiceError,
    policy::{Action, Resource, authorize, caller},
};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::{catalogue::CatalogueCache, store};

/// State shared by the aggregation service's gRPC services.
pub struct Aggregation {
    pub db: DatabaseConnection,
    /// The catalogue as learned from the submission feed.
    pub catalogue: CatalogueCache,
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
        let catalogue = self.0.catalogue.get();
        let indicator = catalogue.indicator(&query.indicator).ok_or_else(|| {
            ServiceError::field(
                "indicator",
                format!("unknown indicator `{}`", query.indicator),
            )
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
        let elements: Vec<_> = indicator
            .elements()
            .filter_map(|code| catalogue.element(code))
            .collect();
        let (totals, reporting) =
            store::totals(&self.0.db, &members, &query.period, &elements).await?;
        let answer = aggregate(indicator, &totals, reporting)
            .map_err(|e| ServiceError::FailedPrecondition(e.to_string()))?;
        Ok(Response::new(encode_aggregate(
            &query,
            as_of,
            &answer,
            // Factors are at most 10^6: exact in an f64.
            indicator.factor as f64,
            indicator.unit.clone(),
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
