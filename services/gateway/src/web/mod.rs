//! The web app: a page shell and the ES modules it loads, embedded in the
//! binary and served at `/` (docs/WEBAPP.md). The app talks to the public
//! REST API only; what is here is files, the security headers every web
//! answer carries, and the browser session ([`session`]).

pub mod session;

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use rust_embed::RustEmbed;

use crate::{AppState, error::ApiError, extract::ApiPath};

/// Everything under `services/gateway/web/`, compiled in (also in debug
/// builds: the binary alone serves the app, offline).
#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "*.md"]
struct Assets;

/// The policy every web answer carries: scripts, styles and connections
/// from this origin only, no inline script or style, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// The app's pages: the shell at `/` and `/app/...` (the app routes in
/// the browser), the files under `/assets/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(shell))
        .route("/app", get(shell))
        .route("/app/{*page}", get(shell))
        .route("/assets/{*path}", get(asset))
        .layer(axum::middleware::from_fn(security_headers))
}

/// The page shell: the same for every app route; the app reads the path.
async fn shell(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(ApiPath(path): ApiPath<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

/// A file, with its type, an `ETag` (its SHA-256) and `Cache-Control:
/// no-cache`: file names carry no hash (there is no build step), so the
/// browser asks again each time and gets a 304 while the file is unchanged.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let (Some(file), Some(content_type)) = (Assets::get(path), content_type(path)) else {
        return ApiError::new(tonic::Code::NotFound, format!("no file /assets/{path}"))
            .into_response();
    };
    let etag = format!("\"{}\"", base64_url(&file.metadata.sha256_hash()));
    let etag = HeaderValue::from_str(&etag).expect("base64 is header-safe");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::ETAG, etag);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The media type of a file served; `None` for a kind the app does not
/// ship, which is then not served at all.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Headers on every web answer, errors included.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_and_the_vendored_files_are_embedded() {
        for path in [
            "index.html",
            "app/main.js",
            "app/app.css",
            "vendor/htm-preact-standalone.module.js",
            "vendor/chart.umd.min.js",
        ] {
            assert!(Assets::get(path).is_some(), "{path} is not embedded");
            assert!(content_type(path).is_some(), "{path} has no type");
        }
        // Notes for maintainers are not served.
        assert!(Assets::get("vendor/README.md").is_none());
    }

    #[test]
    fn the_shell_loads_no_inline_script_or_style() {
        let shell = Assets::get("index.html").unwrap();
        let text = std::str::from_utf8(&shell.data).unwrap();
        assert!(
            !text.contains("<script>") && !text.contains("<style"),
            "{text}"
        );
        assert!(
            !text.contains(" style=") && !text.contains(" onload="),
            "{text}"
        );
    }
}
