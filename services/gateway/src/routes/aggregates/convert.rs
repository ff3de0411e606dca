//! Aggregates: JSON <-> `chiso.aggregation.v1` messages.

use chiso_proto::aggregation::v1 as pb;

use super::types::{Aggregate, AggregateQuery};

impl From<AggregateQuery> for pb::GetAggregateRequest {
    fn from(query: AggregateQuery) -> Self {
        Self {
            indicator: query.indicator,
            area: query.area,
            period: query.period,
            as_of: query.as_of.unwrap_or_default(),
        }
    }
}

impl From<pb::Aggregate> for Aggregate {
    fn from(a: pb::Aggregate) -> Self {
        Self {
            indicator: a.indicator,
            area: a.area,
            period: a.period,
            value: a.value,
            numerator: a.numerator,
            denominator: a.denominator,
            agencies_reporting: a.agencies_reporting,
            factor: a.factor,
            unit: a.unit,
            as_of: a.as_of,
        }
    }
}
