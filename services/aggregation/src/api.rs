//! gRPC surface of the aggregation service.

use std::sync::Arc;

use chiso_domain::{AdminUnitCode, FieldErrors, IndicatorCode, PeriodCode};
use chiso_proto::{
    aggregation::v1::{self as pb, aggregation_service_server::AggregationService},
    submission::v1::{GetIndicatorRequest, catalogue_service_client::CatalogueServiceClient},
};
use chiso_runtime::{
    ServiceError,
    auth::{Role, require},
    grpc::with_bearer,
};
use chrono::{FixedOffset, NaiveDate};
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
        let area = errors.check("area", AdminUnitCode::parse(&req.area));
        let period = errors.check("period", PeriodCode::parse(&req.period));
        let as_of = match req.as_of.trim() {
            "" => Some(today()),
            raw => errors.check(
                "as_of",
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| format!("`{raw}` is not a date of the form YYYY-MM-DD")),
            ),
        };
        let (Some(indicator), Some(area), Some(period), Some(as_of)) =
            (indicator, area, period, as_of)
        else {
            return Err(ServiceError::from(errors).into());
        };

        let definition = self.indicator(&indicator).await?;
        let members = store::area_members(&self.0.db, &area, as_of)
            .await?
            .ok_or_else(|| {
                ServiceError::field(
                    "area",
                    format!("no People's Committee had administrative-unit code {area} on {as_of}"),
                )
            })?;
        let numerator = store::sum(&self.0.db, &members, &period, &definition.numerator).await?;
        let denominator = if definition.denominator.is_empty() {
            None
        } else {
            Some(store::sum(&self.0.db, &members, &period, &definition.denominator).await?)
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
            as_of: as_of.to_string(),
        }))
    }

    async fn get_feed_position(
        &self,
        request: Request<pb::GetFeedPositionRequest>,
    ) -> Result<Response<pb::FeedPosition>, Status> {
        require(&request, ANY_ROLE)?;
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

/// Today in Vietnam (UTC+7): the default date of the organisation tree.
fn today() -> NaiveDate {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    chrono::Utc::now().with_timezone(&offset).date_naive()
}
