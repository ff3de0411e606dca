//! `/api/v1/data-elements`, `/api/v1/indicators`, `/api/v1/validation-rules`:
//! the catalogue agencies report against. Anyone signed in reads it; admins
//! create, change and retire definitions. Definitions carry no ETag, so
//! their writes take an `Idempotency-Key` but no `If-Match`.

mod convert;
mod types;

use axum::{
    Json, Router,
    http::StatusCode,
    routing::{get, post},
};
use chiso_proto::submission::v1 as pb;
use tonic::Code;

use self::convert::DEFINITION_NAMES;
pub use self::types::{
    CatalogueQuery, DataElement, DataElementBody, Indicator, IndicatorBody, ValidationRule,
    ValidationRuleBody,
};
use super::common::{Object, convert_all, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult, write_error},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, IdempotencyKey},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/data-elements",
            get(list_data_elements).post(create_data_element),
        )
        .route(
            "/api/v1/data-elements/{code}",
            get(get_data_element).put(update_data_element),
        )
        .route(
            "/api/v1/data-elements/{code}/retire",
            post(retire_data_element),
        )
        .route(
            "/api/v1/indicators",
            get(list_indicators).post(create_indicator),
        )
        .route(
            "/api/v1/indicators/{code}",
            get(get_indicator).put(update_indicator),
        )
        .route("/api/v1/indicators/{code}/retire", post(retire_indicator))
        .route(
            "/api/v1/validation-rules",
            get(list_validation_rules).post(create_validation_rule),
        )
        .route(
            "/api/v1/validation-rules/{code}",
            get(get_validation_rule).put(update_validation_rule),
        )
        .route(
            "/api/v1/validation-rules/{code}/retire",
            post(retire_validation_rule),
        )
}

// ------------------------------------------------------------ data elements

/// The data elements agencies report, in code order.
#[utoipa::path(
    get, path = "/api/v1/data-elements", tag = "catalogue",
    params(CatalogueQuery),
    responses(
        (status = 200, body = Vec<DataElement>),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_data_elements(
    user: AuthUser,
    ApiQuery(query): ApiQuery<CatalogueQuery>,
) -> ApiResult<Json<Vec<DataElement>>> {
    let listed = user
        .catalogue()
        .list_data_elements(pb::ListDataElementsRequest {
            include_retired: query.include_retired.unwrap_or(false),
        })
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.data_elements)))
}

/// One data element, retired or not.
#[utoipa::path(
    get, path = "/api/v1/data-elements/{code}", tag = "catalogue",
    params(("code" = String, Path, format = "catalogue-code", example = "officials", description = "data element code")),
    responses((status = 200, body = DataElement), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_data_element(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<DataElement>> {
    let element = user
        .catalogue()
        .get_data_element(pb::GetDataElementRequest { code })
        .await?
        .into_inner();
    Ok(Json(element.into()))
}

/// Adds a data element (admin); every field is checked at once.
#[utoipa::path(
    post, path = "/api/v1/data-elements", tag = "catalogue",
    params(("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters")),
    request_body(content = DataElementBody, example = json!({
        "code": "servers_virtualised", "name": "Số máy chủ ảo hóa", "name_en": "Virtualised servers",
        "description": "Đếm số máy chủ ảo đang vận hành cuối kỳ.", "category": "technical_infrastructure",
        "value_type": "count", "min": "0", "max": "10000", "unit": "máy", "period_rule": "last"
    })),
    responses(
        (status = 201, body = DataElement),
        (status = 403, description = "not an admin", body = crate::error::ErrorBody),
        (status = 409, description = "the code is taken", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named; or the Idempotency-Key was used for another request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_data_element(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<DataElementBody>>,
) -> ApiResult<(StatusCode, Json<DataElement>)> {
    let definition = convert::data_element_definition(body, None)?;
    let element = user
        .catalogue()
        .create_data_element(pb::CreateDataElementRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(created(element.into()))
}

/// Changes a data element's definition (admin): names, description,
/// category, unit and bounds; the value type only while no report holds a
/// value of it (409 otherwise).
#[utoipa::path(
    put, path = "/api/v1/data-elements/{code}", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "online_meetings", description = "data element code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = DataElementBody, example = json!({
        "name": "Số cuộc họp trực tuyến", "name_en": "Online meetings",
        "description": "Đếm số cuộc họp trực tuyến cơ quan chủ trì trong kỳ.", "category": "internal_use",
        "value_type": "count", "min": "0", "max": "100000", "unit": "cuộc họp", "period_rule": "sum"
    })),
    responses(
        (status = 200, body = DataElement),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the value type of an element reports hold values of", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_data_element(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<DataElementBody>>,
) -> ApiResult<Json<DataElement>> {
    let definition = convert::data_element_definition(body, Some(code))?;
    let element = user
        .catalogue()
        .update_data_element(pb::UpdateDataElementRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(Json(element.into()))
}

/// Retires a data element (admin): it takes no new values, and reports that
/// hold values of it stay readable.
#[utoipa::path(
    post, path = "/api/v1/data-elements/{code}/retire", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "sector_databases_upgraded", description = "data element code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    responses(
        (status = 200, body = DataElement),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "the Idempotency-Key is invalid or was used for another request", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retire_data_element(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
) -> ApiResult<Json<DataElement>> {
    let element = user
        .catalogue()
        .retire_data_element(pb::RetireRequest { code, request_id })
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    Ok(Json(element.into()))
}

// --------------------------------------------------------------- indicators

/// The indicators computed from the data elements, in code order.
#[utoipa::path(
    get, path = "/api/v1/indicators", tag = "catalogue",
    params(CatalogueQuery),
    responses(
        (status = 200, body = Vec<Indicator>),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_indicators(
    user: AuthUser,
    ApiQuery(query): ApiQuery<CatalogueQuery>,
) -> ApiResult<Json<Vec<Indicator>>> {
    let listed = user
        .catalogue()
        .list_indicators(pb::ListIndicatorsRequest {
            include_retired: query.include_retired.unwrap_or(false),
        })
        .await?
        .into_inner();
    Ok(Json(convert_all(listed.indicators)))
}

/// One indicator, retired or not.
#[utoipa::path(
    get, path = "/api/v1/indicators/{code}", tag = "catalogue",
    params(("code" = String, Path, format = "catalogue-code", example = "electronic_document_rate", description = "indicator code")),
    responses((status = 200, body = Indicator), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_indicator(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Indicator>> {
    let indicator = user
        .catalogue()
        .get_indicator(pb::GetIndicatorRequest { code })
        .await?
        .into_inner();
    Ok(Json(indicator.into()))
}

/// Adds an indicator (admin); its formula may name only known data elements.
#[utoipa::path(
    post, path = "/api/v1/indicators", tag = "catalogue",
    params(("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters")),
    request_body(content = IndicatorBody, example = json!({
        "code": "server_antivirus_rate", "name": "Tỷ lệ máy tính có phần mềm diệt vi-rút",
        "numerator": "computers_with_antivirus", "denominator": "computers", "factor": 100,
        "decimals": 1, "unit": "%", "category": "information_security", "higher_is_better": true
    })),
    responses(
        (status = 201, body = Indicator),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the code is taken", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_indicator(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<IndicatorBody>>,
) -> ApiResult<(StatusCode, Json<Indicator>)> {
    let definition = convert::indicator_definition(body, None)?;
    let indicator = user
        .catalogue()
        .create_indicator(pb::CreateIndicatorRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(created(indicator.into()))
}

/// Changes an indicator's definition (admin).
#[utoipa::path(
    put, path = "/api/v1/indicators/{code}", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "electronic_document_rate", description = "indicator code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = IndicatorBody, example = json!({
        "name": "Tỷ lệ văn bản đi được gửi dưới dạng điện tử", "name_en": "Share of documents sent electronically",
        "numerator": "documents_sent_electronic", "denominator": "documents_sent", "factor": 100,
        "decimals": 1, "unit": "%", "category": "internal_use", "higher_is_better": true
    })),
    responses(
        (status = 200, body = Indicator),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_indicator(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<IndicatorBody>>,
) -> ApiResult<Json<Indicator>> {
    let definition = convert::indicator_definition(body, Some(code))?;
    let indicator = user
        .catalogue()
        .update_indicator(pb::UpdateIndicatorRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(Json(indicator.into()))
}

/// Retires an indicator (admin).
#[utoipa::path(
    post, path = "/api/v1/indicators/{code}/retire", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "antivirus_rate", description = "indicator code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    responses(
        (status = 200, body = Indicator),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retire_indicator(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
) -> ApiResult<Json<Indicator>> {
    let indicator = user
        .catalogue()
        .retire_indicator(pb::RetireRequest { code, request_id })
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    Ok(Json(indicator.into()))
}

// --------------------------------------------------------- validation rules

/// The validation rules submitted reports must satisfy, in code order.
#[utoipa::path(
    get, path = "/api/v1/validation-rules", tag = "catalogue",
    params(CatalogueQuery),
    responses(
        (status = 200, body = Vec<ValidationRule>),
        (status = 422, description = "a parameter is invalid", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_validation_rules(
    user: AuthUser,
    ApiQuery(query): ApiQuery<CatalogueQuery>,
) -> ApiResult<Json<Vec<ValidationRule>>> {
    let rules = list_rules(&user, query.include_retired.unwrap_or(false)).await?;
    Ok(Json(convert_all(rules)))
}

/// One validation rule, retired or not.
#[utoipa::path(
    get, path = "/api/v1/validation-rules/{code}", tag = "catalogue",
    params(("code" = String, Path, format = "catalogue-code", example = "antivirus_within_computers", description = "validation rule code")),
    responses((status = 200, body = ValidationRule), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_validation_rule(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ValidationRule>> {
    // The service has no GetValidationRule: the list is a few dozen rules,
    // so one is picked from all of them rather than widening the contract.
    list_rules(&user, true)
        .await?
        .into_iter()
        .find(|rule| rule.code == code)
        .map(|rule| Json(rule.into()))
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("validation rule {code} not found")))
}

async fn list_rules(user: &AuthUser, include_retired: bool) -> ApiResult<Vec<pb::ValidationRule>> {
    Ok(user
        .catalogue()
        .list_validation_rules(pb::ListValidationRulesRequest { include_retired })
        .await?
        .into_inner()
        .rules)
}

/// Adds a validation rule (admin); it may name only known data elements.
#[utoipa::path(
    post, path = "/api/v1/validation-rules", tag = "catalogue",
    params(("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters")),
    request_body(content = ValidationRuleBody, example = json!({
        "code": "servers_within_computers", "rule": "servers <= computers",
        "message": "Số máy chủ không được lớn hơn số máy tính", "message_en": "Servers cannot exceed computers"
    })),
    responses(
        (status = 201, body = ValidationRule),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "the code is taken", body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_validation_rule(
    user: AuthUser,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<ValidationRuleBody>>,
) -> ApiResult<(StatusCode, Json<ValidationRule>)> {
    let definition = convert::rule_definition(body, None)?;
    let rule = user
        .catalogue()
        .create_validation_rule(pb::CreateValidationRuleRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(created(rule.into()))
}

/// Changes a validation rule (admin).
#[utoipa::path(
    put, path = "/api/v1/validation-rules/{code}", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "antivirus_within_computers", description = "validation rule code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    request_body(content = ValidationRuleBody, example = json!({
        "rule": "computers_with_antivirus <= computers",
        "message": "Số máy tính có phần mềm diệt vi-rút không được lớn hơn số máy tính",
        "message_en": "Computers with antivirus cannot exceed computers"
    })),
    responses(
        (status = 200, body = ValidationRule),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "fields are invalid, each named", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_validation_rule(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
    ApiJson(Object(body)): ApiJson<Object<ValidationRuleBody>>,
) -> ApiResult<Json<ValidationRule>> {
    let definition = convert::rule_definition(body, Some(code))?;
    let rule = user
        .catalogue()
        .update_validation_rule(pb::UpdateValidationRuleRequest {
            definition: Some(definition),
            request_id,
        })
        .await
        .map_err(write_error(DEFINITION_NAMES))?
        .into_inner();
    Ok(Json(rule.into()))
}

/// Retires a validation rule (admin): submitted reports are no longer held to it.
#[utoipa::path(
    post, path = "/api/v1/validation-rules/{code}/retire", tag = "catalogue",
    params(
        ("code" = String, Path, format = "catalogue-code", example = "business_processes_within", description = "validation rule code"),
        ("Idempotency-Key" = Option<String>, Header, format = "idempotency-key", example = "b5f1c8e2-7d3a-4f0e-9c61-2a8e4d9f3b70", description = "a replay returns the first answer; at most 128 printable ASCII characters"),
    ),
    responses(
        (status = 200, body = ValidationRule),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retire_validation_rule(
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    IdempotencyKey(request_id): IdempotencyKey,
) -> ApiResult<Json<ValidationRule>> {
    let rule = user
        .catalogue()
        .retire_validation_rule(pb::RetireRequest { code, request_id })
        .await
        .map_err(write_error(&[]))?
        .into_inner();
    Ok(Json(rule.into()))
}
