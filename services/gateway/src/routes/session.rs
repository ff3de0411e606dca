//! `/api/v1/session`: sign-in, renewal, who is signed in, and sign-out for
//! the web app. The token lives in an `HttpOnly` cookie the page's scripts
//! cannot read (never `localStorage`); see `crate::web::session` for the
//! cookie, the CSRF rule and why the gateway keeps nothing (the registry
//! renews tokens).

use std::time::Duration;

use axum::{
    Extension, Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::post,
};
use chiso_domain::Role;
use chiso_proto::{
    convert::registry::role,
    registry::v1::{
        IssueTokenResponse, RenewTokenRequest, credential_service_client::CredentialServiceClient,
    },
};
use serde::{Deserialize, Serialize};
use tonic::Code;
use utoipa::{
    Modify, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, SecurityScheme},
};

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{ApiJson, AuthUser, ClientAddress},
    limit::LoginError,
    web::session::{
        SecureCookies, Sessions, TOKEN_COOKIE, check_csrf, clear_cookies, cookie, set_cookie,
        token_expiry,
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/session",
            post(sign_in).get(who_is_signed_in).delete(sign_out),
        )
        .route("/api/v1/session/renew", post(renew))
}

/// Client credentials, as the sign-in form sends them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"client_id": "agency-3f9c0d6e2b8a4f17a5c1e0d9b7f6a2c4", "client_secret": "Xq3..."}))]
pub struct SignInRequest {
    /// The client id the credentials were issued with (`admin` for the
    /// bootstrap admin).
    #[schema(
        format = "oauth-text",
        min_length = 1,
        example = "agency-3f9c0d6e2b8a4f17a5c1e0d9b7f6a2c4"
    )]
    pub client_id: String,
    /// The secret shown once when the credentials were issued.
    #[schema(format = "oauth-text", min_length = 1)]
    pub client_secret: String,
}

/// Who is signed in, and until when.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"client_id": "agency-3f9c0d6e2b8a4f17a5c1e0d9b7f6a2c4",
    "role": "agency_reporter", "agency_code": "000.00.15.H51", "province_code": "51",
    "granted_province_codes": [], "token_expires_in": 900, "session_expires_in": 28800}))]
pub struct SessionInfo {
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: String,
    /// `admin`, `province_officer`, `viewer`, `agency_reporter`,
    /// `integrator` or `service`.
    #[schema(example = "agency_reporter")]
    pub role: String,
    /// The agency an agency reporter reports for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$",
        example = "000.00.15.H51"
    )]
    pub agency_code: Option<String>,
    /// The province an officer, a viewer or an agency acts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\d{2}$", example = "51")]
    pub province_code: Option<String>,
    /// The provinces an integrator reads.
    pub granted_province_codes: Vec<String>,
    /// Seconds until the token expires: renew before then.
    #[schema(minimum = 0, maximum = 900)]
    pub token_expires_in: i64,
    /// Seconds until the session must be signed in again, whatever
    /// renewals happen: in the answers of sign-in and renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 604800)]
    pub session_expires_in: Option<u64>,
}

impl SessionInfo {
    fn issued(issued: &IssueTokenResponse, client_id: &str) -> Self {
        let principal = issued.principal.clone().unwrap_or_default();
        let given = |s: String| (!s.is_empty()).then_some(s);
        Self {
            client_id: client_id.to_owned(),
            role: role(principal.role)
                .map_or("unknown", Role::as_str)
                .to_owned(),
            agency_code: given(principal.agency_code),
            province_code: given(principal.province_code),
            granted_province_codes: principal.granted_province_codes,
            token_expires_in: issued.expires_in,
            session_expires_in: u64::try_from(issued.session_expires_in).ok(),
        }
    }
}

/// The session cookie scheme, added to the document beside `bearer`.
pub struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                TOKEN_COOKIE,
                "the web app's session (POST /api/v1/session); writes must also send \
                 `X-Chiso-Web: 1`",
            ))),
        );
    }
}

/// Signs a browser in: exchanges client credentials for a token exactly as
/// `POST /api/v1/auth/token` does (the same failed-login limits, the same
/// registry check) and sets it in an `HttpOnly; SameSite=Strict` cookie
/// (`Secure` under TLS), with a second cookie naming the session for
/// renewal. The token itself is not in the body.
#[utoipa::path(
    post, path = "/api/v1/session", tag = "session",
    request_body(
        content = SignInRequest,
        example = json!({"client_id": "admin", "client_secret": "the secret in data/admin-secret"})
    ),
    responses(
        (status = 201, body = SessionInfo,
         description = "signed in; Set-Cookie: chiso_token (Path=/, HttpOnly; SameSite=Strict); Cache-Control: no-store"),
        (status = 401, body = crate::error::ErrorBody, description = "unknown client id or wrong secret"),
        (status = 403, body = crate::error::ErrorBody, description = "the client may not sign in now (revoked, its agency dissolved), or the request came from another site"),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    secure: Option<Extension<SecureCookies>>,
    parts: Parts,
    ApiJson(super::common::Object(request)): ApiJson<super::common::Object<SignInRequest>>,
) -> ApiResult<Response> {
    // No cookie authenticates this request, but a page of another site
    // must not sign the browser in as someone else (login CSRF).
    check_csrf(&parts)?;
    let mut missing = Vec::new();
    for (field, value) in [
        ("client_id", &request.client_id),
        ("client_secret", &request.client_secret),
    ] {
        if value.is_empty() {
            missing.push((field.to_owned(), "is required".to_owned()));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::fields(missing).sent_in(crate::error::Origin::Body));
    }
    let credentials = chiso_proto::registry::v1::IssueTokenRequest {
        client_id: request.client_id,
        client_secret: request.client_secret,
    };
    let issued = state
        .limits
        .logins
        .issue_token(&state.registry, credentials.clone(), client)
        .await
        .map_err(login_error)?;
    let secure = secure.map(|Extension(s)| s).unwrap_or_default();
    let info = SessionInfo::issued(&issued, &credentials.client_id);
    let mut response = (StatusCode::CREATED, Json(info)).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, token_cookie(&issued, secure));
    no_store(headers);
    Ok(response)
}

/// Issues a fresh token for the browser's session, before the current one
/// expires: the session's client is checked again at the registry (a
/// revoked client, or one whose agency was dissolved, is refused and the
/// session ends), and no renewal outlives the session's cap (8 hours from
/// sign-in).
#[utoipa::path(
    post, path = "/api/v1/session/renew", tag = "session",
    responses(
        (status = 200, body = SessionInfo, description = "a fresh token in the chiso_token cookie; Cache-Control: no-store"),
        (status = 401, body = crate::error::ErrorBody,
         description = "no live session (never signed in, signed out, token expired, past its cap) or the client was revoked: the cookie is cleared"),
        (status = 403, body = crate::error::ErrorBody, description = "without `X-Chiso-Web: 1`, or from another site"),
    ),
    security(("session_cookie" = []))
)]
pub async fn renew(
    State(state): State<AppState>,
    secure: Option<Extension<SecureCookies>>,
    Extension(sessions): Extension<Sessions>,
    parts: Parts,
) -> ApiResult<Response> {
    let secure = secure.map(|Extension(s)| s).unwrap_or_default();
    let token = cookie(&parts.headers, TOKEN_COOKIE);
    if token.is_some() {
        check_csrf(&parts)?;
    }
    let Some(token) = token.filter(|t| !sessions.is_signed_out(t)) else {
        return Ok(ended(
            "no web session to renew: sign in again",
            "Phiên làm việc đã hết hạn hoặc chưa đăng nhập: vui lòng đăng nhập lại.",
            secure,
        ));
    };
    // The registry renews the token itself: it checks the token, the
    // client (not revoked) and the session's age; nothing is kept here.
    let mut request = chiso_runtime::grpc::with_bearer(RenewTokenRequest {}, token)
        .map_err(|_| ApiError::unauthenticated("the session cookie is not a token"))?;
    request.set_timeout(state.requests.call_timeout());
    let issued = match CredentialServiceClient::new(state.registry.clone())
        .renew_token(request)
        .await
    {
        Ok(issued) => issued.into_inner(),
        Err(status)
            if matches!(
                status.code(),
                Code::Unauthenticated | Code::PermissionDenied
            ) =>
        {
            return Ok(ended(
                "this session can no longer be renewed (expired, past its cap, or the client \
                 was revoked): sign in again",
                "Phiên làm việc đã kết thúc hoặc tài khoản không còn được phép đăng nhập: vui \
                 lòng đăng nhập lại.",
                secure,
            ));
        }
        Err(status) => return Err(status.into()),
    };
    let client_id = issued
        .principal
        .as_ref()
        .map(|p| p.subject.clone())
        .unwrap_or_default();
    let mut response = Json(SessionInfo::issued(&issued, &client_id)).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, token_cookie(&issued, secure));
    no_store(headers);
    Ok(response)
}

#[utoipa::path(
    get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo, description = "Cache-Control: no-store")),
    security(("bearer" = []), ("session_cookie" = []))
)]
pub async fn who_is_signed_in(user: AuthUser, headers: HeaderMap) -> ApiResult<Response> {
    let principal = &user.principal;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(chiso_runtime::auth::bearer_token)
        .or_else(|| cookie(&headers, TOKEN_COOKIE));
    let now = chrono::Utc::now().timestamp();
    let token_expires_in = token
        .and_then(token_expiry)
        .map_or(0, |exp| (exp - now).max(0));
    // The session's end is the registry's to say (its cap from `auth_time`);
    // sign-in and renewal answer it.
    let session_expires_in = None;
    let info = SessionInfo {
        client_id: principal.subject.clone(),
        role: principal.role.as_str().to_owned(),
        agency_code: principal.agency.as_ref().map(ToString::to_string),
        province_code: principal.province.as_ref().map(ToString::to_string),
        granted_province_codes: principal.grants.iter().map(ToString::to_string).collect(),
        token_expires_in,
        session_expires_in,
    };
    let mut response = Json(info).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// Signs the browser out: its token is refused from a cookie at this
/// gateway from now on, and the cookie is cleared. Answers 204 whether or
/// not a session was live.
#[utoipa::path(
    delete, path = "/api/v1/session", tag = "session",
    responses(
        (status = 204, description = "signed out; Set-Cookie clears chiso_token"),
        (status = 403, body = crate::error::ErrorBody, description = "a cookie-signed request without `X-Chiso-Web: 1`, or from another site"),
    ),
)]
pub async fn sign_out(
    secure: Option<Extension<SecureCookies>>,
    Extension(sessions): Extension<Sessions>,
    parts: Parts,
) -> ApiResult<Response> {
    let token = cookie(&parts.headers, TOKEN_COOKIE);
    if let Some(token) = token {
        check_csrf(&parts)?;
        sessions.sign_out_token(token);
    }
    let secure = secure.map(|Extension(s)| s).unwrap_or_default();
    let mut response = StatusCode::NO_CONTENT.into_response();
    for value in clear_cookies(secure) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The token's cookie, kept by the browser as long as the token lives.
fn token_cookie(issued: &IssueTokenResponse, secure: SecureCookies) -> HeaderValue {
    let lifetime = Duration::from_secs(u64::try_from(issued.expires_in).unwrap_or_default());
    set_cookie(TOKEN_COOKIE, &issued.access_token, "/", lifetime, secure)
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// 401 for a session that cannot go on, clearing its cookies so the app
/// shows the sign-in page.
fn ended(message: &str, message_vi: &str, secure: SecureCookies) -> Response {
    let mut response = ApiError::unauthenticated(message)
        .vi(message_vi)
        .into_response();
    for value in clear_cookies(secure) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A failed sign-in, as problem details: the registry's refusal (401 for
/// a wrong secret, 403 for a client that may not sign in, 422 naming a
/// field) or the login limits' 429.
fn login_error(error: LoginError) -> ApiError {
    match error {
        LoginError::Refused(status) if status.code() == Code::Unauthenticated => {
            ApiError::unauthenticated(status.message().to_owned())
                .vi("Mã ứng dụng (client id) hoặc mật khẩu không đúng.")
        }
        other => other.into(),
    }
}
