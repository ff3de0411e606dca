//! REST routes, merged in one place, and their OpenAPI document.

pub mod agencies;
pub mod aggregates;
pub mod auth;
pub mod catalogue;
mod common;
pub mod contract;
pub mod credentials;
pub mod dhis2;
pub mod forms;
pub mod health;
pub mod keys;
pub mod registrations;
pub mod reports;
pub mod session;
pub mod templates;

use axum::{Router, extract::DefaultBodyLimit, response::Redirect, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{
        ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
    },
};
use utoipa_swagger_ui::SwaggerUi;

use self::{contract::FieldConstraints, reports::UnlockExample, session::SessionCookie};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "chiso", description = "IT-application indicators of Vietnamese government agencies"),
    paths(
        auth::issue_token, auth::jwks::jwks,
        agencies::create_agency, agencies::list_agencies, agencies::get_agency,
        agencies::get_subtree, agencies::get_lineage, agencies::reorganise, agencies::import_agencies,
        agencies::list_changes,
        credentials::issue_credentials, credentials::list_agency_credentials, credentials::issue_officer_credentials, credentials::issue_viewer_credentials, credentials::issue_integrator_credentials,
        credentials::list_officers, credentials::rotate_credentials, credentials::revoke_credentials,
        registrations::file_registration, registrations::list_registrations, registrations::get_registration,
        registrations::approve_registration, registrations::reject_registration,
        keys::list_keys, keys::register_key, keys::revoke_key,
        catalogue::list_data_elements, catalogue::create_data_element, catalogue::get_data_element,
        catalogue::update_data_element, catalogue::retire_data_element,
        catalogue::list_indicators, catalogue::create_indicator, catalogue::get_indicator,
        catalogue::update_indicator, catalogue::retire_indicator,
        catalogue::list_validation_rules, catalogue::create_validation_rule, catalogue::get_validation_rule,
        catalogue::update_validation_rule, catalogue::retire_validation_rule,
        forms::list_forms, forms::get_form, forms::list_form_periods, forms::list_periods,
        forms::list_expected_reports,
        reports::save_draft, reports::submit_report, reports::submit_draft, reports::accept_report,
        reports::return_report, reports::revise_report, reports::unlock_report, reports::get_report,
        reports::get_report_by_key, reports::list_reports, reports::list_versions,
        reports::list_report_audit, reports::list_agency_audit, reports::verify_signature,
        aggregates::get_aggregate, aggregates::get_breakdown, aggregates::get_trend,
        aggregates::get_completeness, aggregates::list_plans, aggregates::get_plan,
        aggregates::get_attainment, aggregates::list_rankings, aggregates::get_ranking,
        aggregates::export,
        templates::download, templates::upload,
        session::sign_in, session::who_is_signed_in, session::renew, session::sign_out,
    ),
    modifiers(
        &BearerAuth,
        &SessionCookie,
        &EveryRefusal,
        &ProblemMediaType,
        &FieldConstraints,
        &UnlockExample
    )
)]
pub struct ApiDoc;

/// Error answers are `application/problem+json`, not the `application/json`
/// utoipa assumes for a `body = ErrorBody`: rewritten here once rather than
/// in every route's annotation.
struct ProblemMediaType;

/// Every operation of the document, whatever its method: what the
/// modifiers below walk.
pub(crate) fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    })
}

impl Modify for ProblemMediaType {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for operation in operations_mut(openapi) {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let is_problem = match response.content.get("application/json") {
                    Some(RefOr::T(content)) => matches!(
                        &content.schema,
                        Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ErrorBody")
                    ),
                    _ => false,
                };
                if let Some(content) = is_problem
                    .then(|| response.content.shift_remove("application/json"))
                    .flatten()
                {
                    response
                        .content
                        .insert(crate::error::PROBLEM_JSON.to_owned(), content);
                }
            }
        }
    }
}

/// The refusals any operation can answer besides those its annotation
/// names, documented once here so the contract lists every status a client
/// can get: the layers every route shares (authentication, the policy's
/// denial and its "not found" for what the caller may not see, input,
/// bodies, load shedding, a back service that is down) answer them, not the
/// handler. The token endpoint keeps RFC 6749's own error bodies.
struct EveryRefusal;

impl Modify for EveryRefusal {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path == "/api/v1/auth/token" {
                continue;
            }
            let writes = [
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            let reads = [&mut item.get, &mut item.head];
            let operations = writes
                .into_iter()
                .map(|o| (true, o))
                .chain(reads.into_iter().map(|o| (false, o)));
            for (write, operation) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = operation.request_body.is_some();
                let statuses: [(&str, &str, bool); 11] = [
                    ("401", "no valid bearer token", secured),
                    (
                        "403",
                        "the caller's role or scope does not allow this",
                        secured,
                    ),
                    ("404", "not found, or not visible to the caller", true),
                    ("408", "the body did not arrive in time", has_body),
                    ("409", "the request conflicts with the current state", write),
                    (
                        "412",
                        "`If-Match` names a version that is not the current one",
                        write,
                    ),
                    ("413", "the body is larger than this route takes", has_body),
                    (
                        "415",
                        "the body's media type is not one this route takes",
                        has_body,
                    ),
                    ("422", "invalid input: `errors` names each field", true),
                    ("429", "too many requests: wait `Retry-After` seconds", true),
                    (
                        "503",
                        "overloaded, or a service behind is down: retry after `Retry-After`",
                        true,
                    ),
                ];
                for (status, description, applies) in statuses {
                    if applies && !operation.responses.responses.contains_key(status) {
                        operation
                            .responses
                            .responses
                            .insert(status.to_owned(), problem(description));
                    }
                }
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // Where bearer tokens come from: RFC 6749's client-credentials
        // grant at the token endpoint.
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                ClientCredentials::new("/api/v1/auth/token", Scopes::new()),
            )])),
        );
    }
}

/// Every route of the gateway.
pub fn router(state: AppState) -> Router {
    let limits = state.requests;
    Router::new()
        .merge(auth::router())
        .merge(agencies::router(&limits))
        .merge(credentials::router())
        .merge(registrations::router())
        .merge(keys::router())
        .merge(catalogue::router())
        .merge(forms::router())
        .merge(reports::router(&limits))
        .merge(aggregates::router())
        .merge(dhis2::router(&limits))
        .merge(templates::router(&limits))
        .merge(health::router())
        .merge(session::router())
        .merge(crate::web::router())
        // Every body not given more above: routes with their own limit
        // set it nearer the handler, which wins.
        .layer(DefaultBodyLimit::max(limits.json_body_bytes))
        .layer(axum::Extension(crate::web::session::Sessions::default()))
        .with_state(state)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        // Where the document and its page were before: bookmarks and
        // scripts keep working.
        .route(
            "/swagger-ui",
            get(|| async { Redirect::permanent("/docs/") }),
        )
        .route(
            "/swagger-ui/",
            get(|| async { Redirect::permanent("/docs/") }),
        )
        .route(
            "/api-docs/openapi.json",
            get(|| async { Redirect::permanent("/openapi.json") }),
        )
}
