//! gRPC surface of the aggregation service.

use std::sync::Arc;

use chiso_domain::{AdminLevel, AdminUnitCode, FieldErrors, IndicatorCode, PeriodCode};
use chiso_proto::{
    aggregation::v1::{self as pb, aggregation_service_server::AggregationService},
    submission::v1::{GetIndicatorRequest, catalogue_service_client::CatalogueServiceClient},
};
use chiso_runtime::{
    ServiceError,
    auth::{Role, require},
    grpc::with_bearer,
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

const ANY_ROLE: &[Role] = &[
    Role::Admin,
    Role::ProvinceOfficer,
    Role::Agency,
    Role::Service,
];

#[tonic::async_trait]
impl AggregationService for AggregationApi {
    async fn get_aggregate(
        &self,
        request: Request<pb::GetAggregateRequest>,
    ) -> Result<Response<pb::Aggregate>, Status> {
        require(&request, ANY_ROLE)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let indicator = errors.check("indicator", IndicatorCode::parse(&req.indicator));
        let area = errors
            .check("area", AdminUnitCode::parse(&req.area))
            .and_then(|area| {
                if area.level() == AdminLevel::Province {
                    Some(area)
                } else {
                    errors.push(
                        "area",
                        "only province areas (2 digits) are aggregated so far",
                    );
                    None
                }
            });
        let period = errors.check("period", PeriodCode::parse(&req.period));
        let (Some(indicator), Some(area), Some(period)) = (indicator, area, period) else {
            return Err(ServiceError::from(errors).into());
        };

        let definition = self.indicator(&indicator).await?;
        let numerator = store::sum(&self.0.db, &area, &period, &definition.numerator).await?;
        let denominator = if definition.denominator.is_empty() {
            None
        } else {
            Some(store::sum(&self.0.db, &area, &period, &definition.denominator).await?)
        };
        // Sum of numerators over sum of denominators: never a mean of ratios.
        let (value, agencies) = match denominator {
            Some(den) if den.total > 0 => (
                Some(numerator.total as f64 / den.total as f64 * definition.factor),
                den.agencies,
            ),
            Some(den) => (None, den.agencies),
            None if numerator.agencies > 0 => (
                Some(numerator.total as f64 * definition.factor),
                numerator.agencies,
            ),
            None => (None, 0),
        };
        Ok(Response::new(pb::Aggregate {
            indicator: indicator.to_string(),
            area: area.to_string(),
            period: period.to_string(),
            value,
            numerator: numerator.total,
            denominator: denominator.map_or(0, |d| d.total),
            agencies_reporting: agencies,
            factor: definition.factor,
            unit: definition.unit,
        }))
    }

    async fn get_feed_position(
        &self,
        request: Request<pb::GetFeedPositionRequest>,
    ) -> Result<Response<pb::FeedPosition>, Status> {
        require(&request, ANY_ROLE)?;
        let last_seq = store::cursor(&self.0.db, store::SUBMISSION_FEED).await?;
        Ok(Response::new(pb::FeedPosition { last_seq }))
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
