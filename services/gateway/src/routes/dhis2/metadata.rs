//! DHIS2 metadata, read-only, built from the catalogue, the forms and the
//! organisation tree. Field names and shapes follow DHIS2's Web API.

use std::collections::HashMap;

use axum::{Json, extract::RawQuery};
use chiso_proto::{registry::v1 as registry, submission::v1 as pb};
use serde_json::{Value, json};

use super::query::{Fields, ListQuery};
use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiPath, AuthUser},
};

/// The query string as (key, value) pairs, `filter` repeated as sent.
fn pairs(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A list answer.
fn list(collection: &str, raw: Option<String>, items: Vec<Value>) -> ApiResult<Json<Value>> {
    let query = ListQuery::parse(&pairs(raw))?;
    Ok(Json(query.answer(collection, items)))
}

/// One item, all fields unless `fields=` says otherwise; 404 as DHIS2 says it.
fn single(what: &str, id: &str, raw: Option<String>, items: Vec<Value>) -> ApiResult<Json<Value>> {
    let mut fields = Fields::All;
    for (key, value) in pairs(raw) {
        if key == "fields" {
            fields = Fields::parse(&value)?;
        }
    }
    items
        .into_iter()
        .find(|i| i["id"] == id)
        .map(|item| Json(fields.project(&item)))
        .ok_or_else(|| {
            ApiError::new(
                tonic::Code::NotFound,
                format!("{what} with id {id} could not be found."),
            )
        })
}

/// DHIS2's value type of a chiso element.
fn value_type(e: &pb::DataElement) -> &'static str {
    match pb::ValueType::try_from(e.value_type).unwrap_or_default() {
        pb::ValueType::Count => "INTEGER_ZERO_OR_POSITIVE",
        pb::ValueType::Decimal => "NUMBER",
        pb::ValueType::YesNo => "BOOLEAN",
        pb::ValueType::Unspecified => "TEXT",
    }
}

fn period_type(raw: i32) -> &'static str {
    match pb::PeriodType::try_from(raw).unwrap_or_default() {
        pb::PeriodType::Yearly => "Yearly",
        pb::PeriodType::SixMonthly => "SixMonthly",
        pb::PeriodType::Quarterly => "Quarterly",
        pb::PeriodType::Monthly | pb::PeriodType::Unspecified => "Monthly",
    }
}

/// A chiso expression in DHIS2's syntax: each data element code becomes
/// `#{code}`; constants, signs and chiso's `yes(…)` / `answered(…)` stay.
pub fn dhis2_expression(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len() + 8);
    let mut chars = expr.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_lowercase() || c == '_' {
            let mut end = start + c.len_utf8();
            while let Some((i, n)) = chars.peek().copied() {
                if n.is_ascii_alphanumeric() || n == '_' {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &expr[start..end];
            // A function name (`yes(`) keeps its spelling; its argument is a code.
            if chars.peek().is_some_and(|(_, n)| *n == '(') {
                out.push_str(word);
            } else {
                out.push_str(&format!("#{{{word}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn data_elements(user: &AuthUser) -> ApiResult<Vec<Value>> {
    let listed = user
        .catalogue()
        .list_data_elements(pb::ListDataElementsRequest {
            include_retired: false,
        })
        .await?
        .into_inner();
    Ok(listed
        .data_elements
        .iter()
        .map(|e| {
            json!({
                "id": e.code,
                "code": e.code,
                "name": e.name,
                "shortName": e.name,
                "displayName": e.name,
                "displayShortName": e.name,
                "description": e.description,
                "valueType": value_type(e),
                "aggregationType": if e.period_rule == "last" { "LAST" } else { "SUM" },
                "domainType": "AGGREGATE",
                "zeroIsSignificant": true,
                "url": "",
            })
        })
        .collect())
}

async fn indicators(user: &AuthUser) -> ApiResult<Vec<Value>> {
    let listed = user
        .catalogue()
        .list_indicators(pb::ListIndicatorsRequest {
            include_retired: false,
        })
        .await?
        .into_inner();
    Ok(listed
        .indicators
        .iter()
        .map(|i| {
            json!({
                "id": i.code,
                "code": i.code,
                "name": i.name,
                "shortName": i.name,
                "displayName": i.name,
                "description": i.description,
                "numerator": dhis2_expression(&i.numerator),
                "denominator": if i.denominator.is_empty() { "1".to_owned() } else { dhis2_expression(&i.denominator) },
                "decimals": i.decimals,
                "annualized": false,
                "indicatorType": {
                    "id": format!("factor_{}", i.factor),
                    "name": if i.factor == 100 { "Per cent".to_owned() } else { format!("Factor {}", i.factor) },
                    "factor": i.factor,
                    "number": i.factor == 1,
                },
            })
        })
        .collect())
}

async fn data_sets(user: &AuthUser) -> ApiResult<Vec<Value>> {
    let listed = user
        .forms()
        .list_forms(pb::ListFormsRequest {})
        .await?
        .into_inner();
    Ok(listed
        .forms
        .iter()
        .map(|f| {
            let elements: Vec<Value> = f
                .sections
                .iter()
                .flat_map(|s| &s.elements)
                .map(|e| json!({"dataElement": {"id": e.data_element}, "dataSet": {"id": f.code}}))
                .collect();
            json!({
                "id": f.code,
                "code": f.code,
                "name": f.name,
                "shortName": f.name,
                "displayName": f.name,
                "periodType": period_type(f.period_type),
                "expiryDays": f.lock_after_days,
                "openFuturePeriods": 0,
                "dataSetElements": elements,
                "sections": f.sections.iter().map(|s| json!({
                    "name": s.name,
                    "dataElements": s.elements.iter().map(|e| json!({"id": e.data_element})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect())
}

/// Every agency active today, as DHIS2 organisation units: `level` is the
/// depth from the province (1), `path` the codes from the root.
async fn organisation_units(user: &AuthUser) -> ApiResult<Vec<Value>> {
    let agencies = super::all_agencies(user, registry::ListAgenciesRequest::default()).await?;
    let paths = super::paths(&agencies);
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for a in &agencies {
        if !a.parent_code.is_empty() {
            children.entry(&a.parent_code).or_default().push(&a.code);
        }
    }
    Ok(agencies
        .iter()
        .map(|a| {
            let chain = &paths[&a.code];
            let mut unit = json!({
                "id": a.code,
                "code": a.code,
                "name": a.name,
                "shortName": a.name,
                "displayName": a.name,
                "level": chain.len(),
                "path": format!("/{}", chain.join("/")),
                "openingDate": format!("{}T00:00:00.000", a.valid_from),
                "children": children
                    .get(a.code.as_str())
                    .map(|c| c.iter().map(|id| json!({"id": id})).collect::<Vec<_>>())
                    .unwrap_or_default(),
            });
            if !a.parent_code.is_empty() {
                unit["parent"] = json!({"id": a.parent_code});
            }
            if !a.admin_unit_code.is_empty() {
                unit["adminUnitCode"] = json!(a.admin_unit_code);
            }
            unit
        })
        .collect())
}

pub async fn list_data_elements(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list("dataElements", raw, data_elements(&user).await?)
}

pub async fn get_data_element(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    single("DataElement", &id, raw, data_elements(&user).await?)
}

pub async fn list_indicators(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list("indicators", raw, indicators(&user).await?)
}

pub async fn get_indicator(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    single("Indicator", &id, raw, indicators(&user).await?)
}

pub async fn list_data_sets(user: AuthUser, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list("dataSets", raw, data_sets(&user).await?)
}

pub async fn get_data_set(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    single("DataSet", &id, raw, data_sets(&user).await?)
}

pub async fn list_organisation_units(
    user: AuthUser,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    list("organisationUnits", raw, organisation_units(&user).await?)
}

pub async fn get_organisation_unit(
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    single(
        "OrganisationUnit",
        &id,
        raw,
        organisation_units(&user).await?,
    )
}

/// The signed-in client as a DHIS2 user: its organisation units are its
/// agency, or its province's committee for an officer.
pub async fn me(user: AuthUser) -> ApiResult<Json<Value>> {
    let p = &user.principal;
    let units: Vec<Value> = match (&p.agency, &p.province) {
        (Some(agency), _) => vec![json!({"id": agency.to_string()})],
        (None, Some(province)) => user
            .agencies()
            .list_agencies(registry::ListAgenciesRequest {
                province_code: province.to_string(),
                kind: registry::AgencyKind::ProvincialCommittee.into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .agencies
            .iter()
            .map(|a| json!({"id": a.code}))
            .collect(),
        (None, None) => Vec::new(),
    };
    Ok(Json(json!({
        "id": p.subject,
        "username": p.subject,
        "name": p.subject,
        "displayName": p.subject,
        "organisationUnits": units,
        "authorities": [format!("chiso:{}", p.role.as_str())],
        "userRoles": [{"id": p.role.as_str(), "name": p.role.as_str()}],
    })))
}

/// What DHIS2 clients read first to know whom they talk to.
pub async fn system_info(_user: AuthUser) -> ApiResult<Json<Value>> {
    Ok(Json(json!({
        "systemName": "chiso",
        "version": format!("2.40-chiso-{}", env!("CARGO_PKG_VERSION")),
        "revision": env!("CARGO_PKG_VERSION"),
        "serverDate": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        "calendar": "iso8601",
        "dateFormat": "yyyy-mm-dd",
        "serverTimeZoneId": "Asia/Ho_Chi_Minh",
        "contextPath": "",
    })))
}

#[cfg(test)]
mod tests {
    use super::dhis2_expression;

    #[test]
    fn expressions_name_elements_as_dhis2_does() {
        assert_eq!(
            dhis2_expression("documents_sent_electronic"),
            "#{documents_sent_electronic}"
        );
        assert_eq!(
            dhis2_expression("officials - officials_with_computer + 2"),
            "#{officials} - #{officials_with_computer} + 2"
        );
        assert_eq!(dhis2_expression("yes(has_lan)"), "yes(#{has_lan})");
    }
}
