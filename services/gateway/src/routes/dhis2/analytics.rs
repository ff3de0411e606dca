//! `GET /api/analytics` (and `/api/analytics.csv`): DHIS2's analytics
//! query over data (`dx`: data elements and indicators), periods (`pe`) and
//! organisation units (`ou`: units by id, `LEVEL-n` inside them, and
//! `USER_ORGUNIT`), each as a `dimension` (rows) or a `filter` (held
//! fixed, one item). Every cell is the aggregation service's own answer for
//! that indicator, period and organisation unit's subtree, so the numbers
//! are the ones `/api/v1/aggregates` gives.

use std::collections::HashMap;

use axum::{
    Json,
    extract::RawQuery,
    http::header,
    response::{IntoResponse, Response},
};
use chiso_proto::{aggregation::v1 as pb, registry::v1 as registry};
use futures::future::try_join_all;
use serde_json::{Map, Value, json};

use crate::{
    error::{ApiError, ApiResult},
    extract::AuthUser,
};

/// Most cells in one answer.
const MAX_CELLS: usize = 5_000;

/// One dimension of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dimension {
    name: String,
    items: Vec<String>,
}

/// The parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AnalyticsQuery {
    /// In the order given: they make the columns before `value`.
    dimensions: Vec<Dimension>,
    filters: Vec<Dimension>,
}

fn parse_dimension(field: &str, raw: &str) -> Result<Dimension, ApiError> {
    let (name, items) = raw.split_once(':').ok_or_else(|| {
        ApiError::field(
            field,
            format!("`{raw}` is not a dimension: name:item;item, e.g. pe:2024;2025"),
        )
    })?;
    if !matches!(name, "dx" | "pe" | "ou") {
        return Err(ApiError::field(
            field,
            format!("`{name}` is not a dimension here: dx, pe or ou"),
        ));
    }
    let items: Vec<String> = items
        .split(';')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        return Err(ApiError::field(field, format!("`{name}` names no items")));
    }
    Ok(Dimension {
        name: name.to_owned(),
        items,
    })
}

impl AnalyticsQuery {
    fn parse(raw: Option<String>) -> Result<Self, ApiError> {
        let mut q = Self {
            dimensions: Vec::new(),
            filters: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "dimension" => q.dimensions.push(parse_dimension("dimension", &value)?),
                "filter" => {
                    let d = parse_dimension("filter", &value)?;
                    if d.items.len() != 1 {
                        return Err(ApiError::field(
                            "filter",
                            format!("`{value}`: a filter dimension takes one item here"),
                        ));
                    }
                    q.filters.push(d);
                }
                // Accepted as DHIS2 clients send them; chiso's answers are
                // always aggregated, rounded to each indicator's decimals.
                "displayProperty" | "skipMeta" | "skipRounding" | "includeNumDen"
                | "hierarchyMeta" | "ignoreLimit" => {}
                other => {
                    return Err(ApiError::field(
                        other,
                        "is not a parameter here: dimension, filter, displayProperty",
                    ));
                }
            }
        }
        for needed in ["dx", "pe", "ou"] {
            let count = q
                .dimensions
                .iter()
                .chain(&q.filters)
                .filter(|d| d.name == needed)
                .count();
            if count != 1 {
                return Err(ApiError::field(
                    "dimension",
                    format!("give `{needed}` once, as a dimension or a filter"),
                ));
            }
        }
        Ok(q)
    }

    fn items(&self, name: &str) -> &[String] {
        &self
            .dimensions
            .iter()
            .chain(&self.filters)
            .find(|d| d.name == name)
            .expect("checked at parse")
            .items
    }
}

/// An organisation unit as analytics needs it.
struct Unit {
    name: String,
    admin_unit: String,
    level: usize,
    path: Vec<String>,
}

async fn units(user: &AuthUser) -> ApiResult<HashMap<String, Unit>> {
    let agencies = super::all_agencies(user, registry::ListAgenciesRequest::default()).await?;
    let mut paths = super::paths(&agencies);
    Ok(agencies
        .into_iter()
        .map(|a| {
            let path = paths.remove(&a.code).unwrap_or_default();
            (
                a.code,
                Unit {
                    name: a.name,
                    admin_unit: a.admin_unit_code,
                    level: path.len(),
                    path,
                },
            )
        })
        .collect())
}

/// The organisation units `ou` names: ids, `LEVEL-n` (units at level n
/// inside the named ones, or everywhere when none is named) and
/// `USER_ORGUNIT`.
fn resolve_units(
    items: &[String],
    all: &HashMap<String, Unit>,
    user: &AuthUser,
) -> Result<Vec<String>, ApiError> {
    let mut named = Vec::new();
    let mut levels = Vec::new();
    for item in items {
        if let Some(level) = item.strip_prefix("LEVEL-") {
            levels.push(level.parse::<usize>().map_err(|_| {
                ApiError::field(
                    "dimension",
                    format!("`{item}` is not a level: LEVEL-1, LEVEL-2, …"),
                )
            })?);
        } else if item == "USER_ORGUNIT" {
            match &user.principal.agency {
                Some(agency) => named.push(agency.to_string()),
                None => {
                    return Err(ApiError::field(
                        "dimension",
                        "USER_ORGUNIT needs an agency's token",
                    ));
                }
            }
        } else if all.contains_key(item) {
            named.push(item.clone());
        } else {
            return Err(ApiError::field(
                "dimension",
                format!("no organisation unit `{item}`"),
            ));
        }
    }
    if levels.is_empty() {
        return Ok(named);
    }
    let mut out: Vec<String> = all
        .iter()
        .filter(|(_, u)| levels.contains(&u.level))
        .filter(|(_, u)| named.is_empty() || named.iter().any(|n| u.path.contains(n)))
        .map(|(code, _)| code.clone())
        .collect();
    out.sort();
    Ok(out)
}

/// The aggregation question for one cell: an indicator or a data element
/// (whichever the catalogue has), over the unit's subtree for a People's
/// Committee, or the unit alone.
fn question(
    dx: &str,
    pe: &str,
    unit: &str,
    units: &HashMap<String, Unit>,
    is_indicator: bool,
) -> pb::GetAggregateRequest {
    let u = &units[unit];
    let (area, agency) = if u.admin_unit.is_empty() {
        (String::new(), unit.to_owned())
    } else {
        (u.admin_unit.clone(), String::new())
    };
    pb::GetAggregateRequest {
        indicator: if is_indicator {
            dx.to_owned()
        } else {
            String::new()
        },
        data_element: if is_indicator {
            String::new()
        } else {
            dx.to_owned()
        },
        area,
        agency,
        period: pe.to_owned(),
        ..Default::default()
    }
}

fn header(name: &str, column: &str, number: bool) -> Value {
    json!({
        "name": name,
        "column": column,
        "valueType": if number { "NUMBER" } else { "TEXT" },
        "type": if number { "java.lang.Double" } else { "java.lang.String" },
        "hidden": false,
        "meta": !number,
    })
}

/// The answer as DHIS2 shapes it, and rows for CSV.
async fn answer(user: &AuthUser, raw: Option<String>) -> ApiResult<(Value, Vec<Vec<String>>)> {
    let q = AnalyticsQuery::parse(raw)?;
    let all = units(user).await?;
    let ou = resolve_units(q.items("ou"), &all, user)?;
    let dx = q.items("dx").to_vec();
    let pe = q.items("pe").to_vec();
    let cells = dx.len() * pe.len() * ou.len();
    if cells > MAX_CELLS {
        return Err(ApiError::field(
            "dimension",
            format!("{cells} cells asked; at most {MAX_CELLS} in one request"),
        ));
    }
    // Which dx items are indicators: the catalogue says.
    let indicators = user
        .catalogue()
        .list_indicators(chiso_proto::submission::v1::ListIndicatorsRequest {
            include_retired: true,
        })
        .await?
        .into_inner()
        .indicators;
    let is_indicator = |code: &str| indicators.iter().any(|i| i.code == code);
    let mut calls = Vec::with_capacity(cells);
    for d in &dx {
        for p in &pe {
            for o in &ou {
                let request = question(d, p, o, &all, is_indicator(d));
                let mut client = user.aggregation();
                let (d, p, o) = (d.clone(), p.clone(), o.clone());
                calls.push(async move {
                    let a = client.get_aggregate(request).await?.into_inner();
                    Ok::<_, ApiError>((d, p, o, a))
                });
            }
        }
    }
    let answers = try_join_all(calls).await?;
    let mut items = Map::new();
    let mut rows = Vec::new();
    for (d, p, o, a) in &answers {
        let Some(value) = a.value else { continue };
        let text = if a.value_text.is_empty() {
            value.to_string()
        } else {
            a.value_text.clone()
        };
        let mut row = Vec::new();
        for dim in &q.dimensions {
            row.push(match dim.name.as_str() {
                "dx" => d.clone(),
                "pe" => p.clone(),
                _ => o.clone(),
            });
        }
        row.push(text);
        rows.push(row);
    }
    for d in &dx {
        let name = indicators
            .iter()
            .find(|i| &i.code == d)
            .map_or_else(|| d.clone(), |i| i.name.clone());
        items.insert(d.clone(), json!({"name": name}));
    }
    for o in &ou {
        items.insert(o.clone(), json!({"name": all[o].name}));
    }
    for p in &pe {
        items.insert(p.clone(), json!({"name": p}));
    }
    let mut headers: Vec<Value> = q
        .dimensions
        .iter()
        .map(|d| {
            header(
                &d.name,
                match d.name.as_str() {
                    "dx" => "Data",
                    "pe" => "Period",
                    _ => "Organisation unit",
                },
                false,
            )
        })
        .collect();
    headers.push(header("value", "Value", true));
    let width = headers.len();
    let body = json!({
        "headers": headers,
        "metaData": {
            "items": items,
            "dimensions": {"dx": dx, "pe": pe, "ou": ou, "co": []},
        },
        "rows": rows,
        "width": width,
        "headerWidth": width,
        "height": rows.len(),
    });
    Ok((body, rows))
}

pub async fn analytics(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    Ok(Json(answer(&user, raw).await?.0))
}

pub async fn analytics_csv(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let (body, rows) = answer(&user, raw).await?;
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let names: Vec<String> = body["headers"]
            .as_array()
            .expect("built above")
            .iter()
            .map(|h| h["column"].as_str().unwrap_or_default().to_owned())
            .collect();
        let internal = |e: String| ApiError::new(tonic::Code::Internal, e);
        w.write_record(&names)
            .and_then(|()| rows.iter().try_for_each(|r| w.write_record(r)))
            .map_err(|e| internal(e.to_string()))?;
        w.flush().map_err(|e| internal(e.to_string()))?;
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_and_filters_parse_and_name_what_is_wrong() {
        let q = AnalyticsQuery::parse(Some(
            "dimension=dx:a;b&dimension=ou:X;LEVEL-2&filter=pe:2025".into(),
        ))
        .unwrap();
        assert_eq!(q.dimensions.len(), 2);
        assert_eq!(q.items("dx"), ["a", "b"]);
        assert_eq!(q.items("pe"), ["2025"]);
        let field = |raw: &str| {
            AnalyticsQuery::parse(Some(raw.into()))
                .unwrap_err()
                .field_names()
        };
        assert_eq!(field("dimension=dx:a&dimension=pe:2025"), ["dimension"]);
        assert_eq!(
            field("dimension=dx:a&dimension=pe:2025&filter=ou:X;Y"),
            ["filter"]
        );
        assert_eq!(field("dimension=co:a"), ["dimension"]);
        assert_eq!(
            field("dimension=dx:a&dimension=pe:2025&dimension=ou:X&colour=red"),
            ["colour"]
        );
    }
}
