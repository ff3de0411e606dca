//! REST routes, merged in one place, and their OpenAPI document.

pub mod agencies;
pub mod aggregates;
pub mod auth;
mod common;
pub mod credentials;
pub mod health;
pub mod keys;
pub mod registrations;
pub mod reports;

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "chiso", description = "IT-application indicators of Vietnamese government agencies"),
    paths(
        auth::issue_token,
        agencies::create_agency, agencies::list_agencies, agencies::get_agency,
        agencies::get_subtree, agencies::get_lineage, agencies::reorganise, agencies::import_agencies,
        agencies::list_changes,
        credentials::issue_credentials, credentials::list_agency_credentials, credentials::issue_officer_credentials,
        credentials::list_officers, credentials::rotate_credentials, credentials::revoke_credentials,
        registrations::file_registration, registrations::list_registrations, registrations::get_registration,
        registrations::approve_registration, registrations::reject_registration,
        keys::list_keys, keys::register_key, keys::revoke_key,
        reports::submit_report, reports::get_report, reports::list_data_elements, reports::list_indicators,
        aggregates::get_aggregate,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

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
    }
}

/// Every route of the gateway.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(auth::router())
        .merge(agencies::router())
        .merge(credentials::router())
        .merge(registrations::router())
        .merge(keys::router())
        .merge(reports::router())
        .merge(aggregates::router())
        .merge(health::router())
        .with_state(state)
        .merge(SwaggerUi::new("/swagger-ui").url("/api-docs/openapi.json", ApiDoc::openapi()))
}
