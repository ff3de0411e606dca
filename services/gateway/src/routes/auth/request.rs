//! A token request read whole: the body (form or JSON), HTTP Basic client
//! authentication, the grant type and the scope, each checked once, so the
//! handler gets credentials it can send to the registry, or an RFC 6749
//! error.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, header},
};
use chiso_proto::registry::v1::IssueTokenRequest;

use super::{
    error::{OAuthCode, TokenError},
    types::TokenRequest,
};
use crate::{basic, error::ApiError};

/// The only grant the token endpoint serves (RFC 6749 §4.4).
const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A well-formed client-credentials request.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenExchange {
    pub credentials: IssueTokenRequest,
    /// The scopes asked for; empty for the client's own.
    pub scope: Vec<String>,
}

impl<S: Send + Sync> FromRequest<S> for TokenExchange {
    type Rejection = TokenError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    TokenError::from(ApiError::too_large(rejection.body_text()))
                }
                _ => TokenError::new(OAuthCode::InvalidRequest, "the body could not be read"),
            }
        })?;
        let (params, form) = match media_type(&headers).as_deref() {
            Some("application/x-www-form-urlencoded") => (from_form(&body)?, true),
            Some("application/json") => (from_json(&body)?, false),
            _ => {
                return Err(TokenError::new(
                    OAuthCode::InvalidRequest,
                    "the body must be application/x-www-form-urlencoded (RFC 6749) or \
                     application/json",
                ));
            }
        };
        let authorization = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                TokenError::new(
                    OAuthCode::InvalidClient,
                    "authorization header is not ASCII",
                )
            })?),
        };
        exchange(params, form, authorization)
    }
}

/// The request's media type, lower case, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default();
    Some(essence.trim().to_ascii_lowercase())
}

/// The parameters of a form body. Unknown parameters are ignored and empty
/// ones count as left out (RFC 6749 §3.1, §3.2); none may be repeated.
fn from_form(body: &[u8]) -> Result<TokenRequest, TokenError> {
    let mut params = TokenRequest::default();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "grant_type" => &mut params.grant_type,
            "client_id" => &mut params.client_id,
            "client_secret" => &mut params.client_secret,
            "scope" => &mut params.scope,
            _ => continue,
        };
        if slot.is_some() {
            return Err(TokenError::new(
                OAuthCode::InvalidRequest,
                format!("{name} is repeated"),
            ));
        }
        if !value.is_empty() {
            *slot = Some(value.into_owned());
        }
    }
    Ok(params)
}

/// The parameters of a JSON body: an object of strings, unknown members
/// refused as everywhere in the REST API.
fn from_json(body: &[u8]) -> Result<TokenRequest, TokenError> {
    // serde reads a struct from an array too; only an object is meant.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenError::new(
            OAuthCode::InvalidRequest,
            "the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let params: TokenRequest = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let description = match message.strip_prefix("unknown field `") {
            Some(rest) => format!(
                "unknown parameter: {}",
                rest.split('`').next().unwrap_or_default()
            ),
            None if inner.is_data() && path != "." => format!("{path} must be a string"),
            None => "the body must be a JSON object".to_owned(),
        };
        TokenError::new(OAuthCode::InvalidRequest, description)
    })?;
    de.end().map_err(|_| {
        TokenError::new(
            OAuthCode::InvalidRequest,
            "the body must be one JSON object",
        )
    })?;
    // As in a form, an empty value is a value left out.
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    Ok(TokenRequest {
        grant_type: given(params.grant_type),
        client_id: given(params.client_id),
        client_secret: given(params.client_secret),
        scope: given(params.scope),
    })
}

/// Checks the grant, the scope's syntax and the client authentication.
fn exchange(
    params: TokenRequest,
    form: bool,
    authorization: Option<&str>,
) -> Result<TokenExchange, TokenError> {
    match params.grant_type.as_deref() {
        Some(CLIENT_CREDENTIALS) => {}
        // JSON clients written before the OAuth2 form was accepted leave
        // it out; RFC 6749 requires it in the form.
        None if !form => {}
        None => {
            return Err(TokenError::new(
                OAuthCode::InvalidRequest,
                "grant_type is required: client_credentials",
            ));
        }
        Some(_) => {
            return Err(TokenError::new(
                OAuthCode::UnsupportedGrantType,
                "only the client_credentials grant is supported",
            ));
        }
    }
    let scope = parse_scope(params.scope.as_deref())?;
    let (client_id, client_secret) = match authorization {
        Some(header) => {
            let encoded = basic::credentials(header).ok_or_else(|| {
                TokenError::new(
                    OAuthCode::InvalidClient,
                    "authenticate with HTTP Basic or with client_id and client_secret in the body",
                )
            })?;
            let (id, secret) = basic::decode(encoded).ok_or_else(|| {
                TokenError::new(
                    OAuthCode::InvalidClient,
                    "Basic credentials must be base64 of client_id:client_secret",
                )
            })?;
            // RFC 6749 §2.3.1: both are form-encoded before base64.
            let (id, secret) = (form_decode(&id), form_decode(&secret));
            if params.client_secret.is_some() {
                return Err(TokenError::new(
                    OAuthCode::InvalidRequest,
                    "client credentials were sent both as HTTP Basic and in the body; send them \
                     one way",
                ));
            }
            if params.client_id.as_ref().is_some_and(|body| *body != id) {
                return Err(TokenError::new(
                    OAuthCode::InvalidRequest,
                    "client_id in the body is not the one in the Authorization header",
                ));
            }
            (id, secret)
        }
        None => match (params.client_id, params.client_secret) {
            (Some(id), Some(secret)) => (id, secret),
            (None, None) => {
                return Err(TokenError::new(
                    OAuthCode::InvalidClient,
                    "no client authentication: send HTTP Basic, or client_id and client_secret",
                ));
            }
            (None, Some(_)) => {
                return Err(TokenError::new(
                    OAuthCode::InvalidRequest,
                    "client_id is required",
                ));
            }
            (Some(_), None) => {
                return Err(TokenError::new(
                    OAuthCode::InvalidRequest,
                    "client_secret is required",
                ));
            }
        },
    };
    Ok(TokenExchange {
        credentials: IssueTokenRequest {
            client_id,
            client_secret,
        },
        scope,
    })
}

/// A scope: space-separated tokens of printable ASCII but `"` and `\`
/// (RFC 6749 §3.3).
fn parse_scope(raw: Option<&str>) -> Result<Vec<String>, TokenError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let scope: Vec<String> = raw.split(' ').map(str::to_owned).collect();
    let well_formed = scope.iter().all(|token| {
        !token.is_empty()
            && token
                .bytes()
                .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    });
    if well_formed {
        Ok(scope)
    } else {
        Err(TokenError::new(
            OAuthCode::InvalidScope,
            "scope must be scope names separated by single spaces",
        ))
    }
}

/// Checks the scope asked for against the one the registry granted (the
/// client's role): asking for less is not possible, asking for more is
/// refused.
pub fn check_scope(asked: &[String], granted: &str) -> Result<(), TokenError> {
    match asked.iter().find(|scope| *scope != granted) {
        None => Ok(()),
        Some(_) => Err(TokenError::new(
            OAuthCode::InvalidScope,
            format!("this client's scope is {granted}; ask for it or leave scope out"),
        )),
    }
}

/// Undoes `application/x-www-form-urlencoded` on one value: `+` is a
/// space, `%XY` a byte; a `%` not followed by two hex digits stays as it is.
fn form_decode(value: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((high, low)), _) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<TokenRequest, TokenError> {
        from_json(body.as_bytes())
    }

    fn refused(result: Result<impl std::fmt::Debug, TokenError>) -> (OAuthCode, String) {
        match result {
            Err(TokenError::OAuth { code, description }) => (code, description),
            other => panic!("expected an OAuth error, got {other:?}"),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> TokenRequest {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        from_form(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_form_ignores_unknown_and_empty_parameters_and_refuses_repeats() {
        let read = params(&[
            ("grant_type", "client_credentials"),
            ("client_id", "agency-1"),
            ("client_secret", "s3cr3t+/="),
            ("scope", ""),
            ("audience", "x"),
        ]);
        assert_eq!(read.client_secret.as_deref(), Some("s3cr3t+/="));
        assert_eq!(read.scope, None);
        assert_eq!(
            refused(from_form(b"client_id=a&client_id=b")),
            (OAuthCode::InvalidRequest, "client_id is repeated".into())
        );
    }

    #[test]
    fn json_errors_name_the_parameter() {
        for (body, description) in [
            (r#"{"client_id": 7}"#, "client_id must be a string"),
            (
                r#"{"client_id": "a", "colour": "x"}"#,
                "unknown parameter: colour",
            ),
            ("{", "the body must be a JSON object"),
            ("[]", "the body must be a JSON object"),
            (
                r#"{"client_id": "a"} x"#,
                "the body must be one JSON object",
            ),
        ] {
            assert_eq!(
                refused(json(body)),
                (OAuthCode::InvalidRequest, description.to_owned()),
                "{body}"
            );
        }
        let read = json(r#"{"client_id": "a", "client_secret": "", "scope": "agency"}"#).unwrap();
        assert_eq!(read.client_secret, None);
        assert_eq!(read.scope.as_deref(), Some("agency"));
    }

    /// Form parameters, the Authorization header, and the error expected.
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        Option<&'a str>,
        OAuthCode,
        &'a str,
    );

    #[test]
    fn the_grant_the_scope_and_the_client_authentication_are_checked() {
        let ok = [
            ("grant_type", "client_credentials"),
            ("client_id", "a"),
            ("client_secret", "s"),
        ];
        let exchanged = exchange(params(&ok), true, None).unwrap();
        assert_eq!(
            exchanged,
            TokenExchange {
                credentials: IssueTokenRequest {
                    client_id: "a".into(),
                    client_secret: "s".into()
                },
                scope: Vec::new()
            }
        );
        // JSON may leave the grant out, a form may not.
        assert!(exchange(params(&ok[1..]), false, None).is_ok());
        let cases: [Case<'_>; 9] = [
            (
                &ok[1..],
                None,
                OAuthCode::InvalidRequest,
                "grant_type is required: client_credentials",
            ),
            (
                &[("grant_type", "password"), ok[1], ok[2]],
                None,
                OAuthCode::UnsupportedGrantType,
                "only the client_credentials grant is supported",
            ),
            (
                &[ok[0], ok[1], ok[2], ("scope", "agency  admin")],
                None,
                OAuthCode::InvalidScope,
                "scope must be scope names separated by single spaces",
            ),
            (
                &[ok[0], ok[1], ok[2], ("scope", "caf\u{e9}")],
                None,
                OAuthCode::InvalidScope,
                "scope must be scope names separated by single spaces",
            ),
            (
                &ok[..1],
                None,
                OAuthCode::InvalidClient,
                "no client authentication: send HTTP Basic, or client_id and client_secret",
            ),
            (
                &ok[..2],
                None,
                OAuthCode::InvalidRequest,
                "client_secret is required",
            ),
            (
                &[ok[0], ok[2]],
                Some("Basic YTpz"),
                OAuthCode::InvalidRequest,
                "client credentials were sent both as HTTP Basic and in the body; send them one way",
            ),
            (
                &[ok[0], ("client_id", "b")],
                Some("Basic YTpz"),
                OAuthCode::InvalidRequest,
                "client_id in the body is not the one in the Authorization header",
            ),
            (
                &ok,
                Some("Bearer abc"),
                OAuthCode::InvalidClient,
                "authenticate with HTTP Basic or with client_id and client_secret in the body",
            ),
        ];
        for (pairs, authorization, code, description) in cases {
            assert_eq!(
                refused(exchange(params(pairs), true, authorization)),
                (code, description.to_owned()),
                "{pairs:?} {authorization:?}"
            );
        }
        // Basic with the id and secret form-encoded, as RFC 6749 §2.3.1
        // says (base64 of "a%3Ab+c:s%25"); the same id in the body is allowed.
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode("a%3Ab+c:s%25");
        let exchanged = exchange(
            params(&[ok[0], ("client_id", "a:b c"), ("scope", "agency")]),
            true,
            Some(&format!("basic {encoded}")),
        )
        .unwrap();
        assert_eq!(exchanged.credentials.client_id, "a:b c");
        assert_eq!(exchanged.credentials.client_secret, "s%");
        assert_eq!(exchanged.scope, ["agency"]);
    }

    #[test]
    fn a_scope_beyond_the_role_is_refused() {
        assert!(check_scope(&[], "agency").is_ok());
        assert!(check_scope(&["agency".into(), "agency".into()], "agency").is_ok());
        assert_eq!(
            refused(check_scope(&["agency".into(), "admin".into()], "agency")),
            (
                OAuthCode::InvalidScope,
                "this client's scope is agency; ask for it or leave scope out".into()
            )
        );
    }

    #[test]
    fn form_decoding_undoes_percent_and_plus() {
        assert_eq!(form_decode("a%3Ab+c%2"), "a:b c%2");
        assert_eq!(form_decode("%zz%41"), "%zzA");
        assert_eq!(form_decode("plain-hex-0f"), "plain-hex-0f");
    }
}
