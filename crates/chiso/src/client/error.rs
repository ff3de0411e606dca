//! What went wrong, and the exit code that says so.

use std::process::ExitCode;

use serde::Deserialize;

use super::lang::Lang;

/// Exit codes: 0 success, 1 refused, 2 usage, 3 unreachable.
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNREACHABLE: u8 = 3;

/// An RFC 9457 problem as the gateway writes it (README "Errors"); also
/// filled from RFC 6749 token errors and DHIS2 import summaries.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub errors: Vec<FieldError>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// One field at fault.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldError {
    pub field: String,
    #[serde(default)]
    pub detail: String,
}

impl Problem {
    /// The problem in an error answer: problem+json, an RFC 6749 error
    /// (`error`, `error_description`), or the plain text of anything else.
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        if let Ok(problem) = serde_json::from_slice::<Problem>(body)
            && !(problem.detail.is_empty() && problem.title.is_empty())
        {
            return problem;
        }
        // A DHIS2 import summary refused (409): each conflict as a field.
        if let Ok(summary) = serde_json::from_slice::<serde_json::Value>(body)
            && let Some(conflicts) = summary["conflicts"].as_array()
        {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            return Self {
                detail: text(&summary["description"]),
                code: text(&summary["status"]),
                errors: conflicts
                    .iter()
                    .map(|c| FieldError {
                        field: text(&c["object"]),
                        detail: text(&c["value"]),
                    })
                    .collect(),
                ..Self::default()
            };
        }
        #[derive(Deserialize)]
        struct OAuth {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        if let Ok(oauth) = serde_json::from_slice::<OAuth>(body) {
            return Self {
                detail: oauth
                    .error_description
                    .unwrap_or_else(|| oauth.error.clone()),
                code: oauth.error,
                ..Self::default()
            };
        }
        let text = String::from_utf8_lossy(body).trim().to_owned();
        Self {
            detail: if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text
            },
            ..Self::default()
        }
    }
}

/// Every way a client command fails.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad use found after parsing: no profile, an unreadable file (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error (exit 1).
    #[error("{}", .problem.detail)]
    Refused { status: u16, problem: Problem },
    /// No answer from the server, after retries (exit 3).
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// Anything else (exit 1).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Refused { .. } | Self::Failed(_) => EXIT_REFUSED,
            Self::Unreachable { .. } => EXIT_UNREACHABLE,
        }
    }

    /// The lines shown on standard error.
    pub fn render(&self, lang: Lang) -> String {
        let error = lang.pick("error", "lỗi");
        match self {
            Self::Usage(message) => format!("{error}: {message}"),
            Self::Refused { status, problem } => {
                let mut out = format!("{error}: {}", problem.detail);
                if problem.detail.is_empty() {
                    out.push_str(&problem.title);
                }
                for field in &problem.errors {
                    out.push_str(&format!("\n  {}: {}", field.field, field.detail));
                }
                let mut tail = vec![format!("HTTP {status}")];
                if !problem.code.is_empty() {
                    tail.push(problem.code.clone());
                }
                if let Some(id) = &problem.request_id {
                    tail.push(format!("{} {id}", lang.pick("request id", "mã yêu cầu")));
                }
                out.push_str(&format!("\n  ({})", tail.join(", ")));
                out
            }
            Self::Unreachable { url, cause } => format!(
                "{error}: {} {url}: {cause}",
                lang.pick("cannot reach the server at", "không kết nối được máy chủ")
            ),
            Self::Failed(err) => format!("{error}: {err:#}"),
        }
    }

    /// Prints the error and gives the exit code.
    pub fn report(&self, lang: Lang) -> ExitCode {
        eprintln!("{}", self.render(lang));
        ExitCode::from(self.exit_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_shows_its_detail_and_every_field() {
        let body = br#"{"type":"urn:chiso:problem:invalid_argument","title":"Invalid input","status":422,"code":"invalid_argument","detail":"invalid input","request_id":"r-1","errors":[{"field":"values[0].data_element","pointer":"/values/0/data_element","detail":"unknown data element `serverz`"},{"field":"values[1].value","detail":"must be zero or more"}]}"#;
        let err = CliError::Refused {
            status: 422,
            problem: Problem::from_body(422, body),
        };
        assert_eq!(err.exit_code(), 1);
        assert_eq!(
            err.render(Lang::En),
            "error: invalid input\n  values[0].data_element: unknown data element `serverz`\n  values[1].value: must be zero or more\n  (HTTP 422, invalid_argument, request id r-1)"
        );
    }

    #[test]
    fn token_errors_and_plain_text_become_problems() {
        let p = Problem::from_body(
            401,
            br#"{"error":"invalid_client","error_description":"wrong secret"}"#,
        );
        assert_eq!(
            (p.code.as_str(), p.detail.as_str()),
            ("invalid_client", "wrong secret")
        );
        assert_eq!(
            Problem::from_body(502, b"bad gateway").detail,
            "bad gateway"
        );
        assert_eq!(Problem::from_body(500, b"").detail, "HTTP 500");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(CliError::usage("x").exit_code(), 2);
        let unreachable = CliError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            cause: "connection refused".into(),
        };
        assert_eq!(unreachable.exit_code(), 3);
        assert!(unreachable.render(Lang::Vi).contains("http://127.0.0.1:9"));
    }
}
