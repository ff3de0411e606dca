//! The REST shapes of reports, unlocks, audit entries and signatures.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

use crate::routes::common::{optional_text, text};

/// One value as sent: text (`"120"`, `"12.50"`, `"yes"`), or a JSON number
/// or boolean, which becomes that text. Numbers keep the digits they were
/// written with (`12.50` stays `"12.50"`), so no float rounding ever reaches
/// a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueText(pub String);

impl<'de> Deserialize<'de> for ValueText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        value_text(raw.get()).map(Self).map_err(D::Error::custom)
    }
}

/// The text of one JSON value, as [`ValueText`] takes it.
pub fn value_text(json: &str) -> Result<String, String> {
    match json.as_bytes().first() {
        Some(b'"') => serde_json::from_str(json).map_err(|e| e.to_string()),
        Some(b't') => Ok("yes".to_owned()),
        Some(b'f') => Ok("no".to_owned()),
        Some(b'-' | b'0'..=b'9') if json.contains(['e', 'E']) => Err(format!(
            "`{json}` has an exponent: write the number out, e.g. 1200 or \"12.50\""
        )),
        // Already a JSON number (no exponent): its digits are the value.
        Some(b'-' | b'0'..=b'9') => Ok(json.to_owned()),
        Some(b'n') => Err("a value is required: leave the data element out instead".to_owned()),
        _ => Err("must be text, a number or true/false".to_owned()),
    }
}

/// The schema of a [`ValueText`]: text, a number or a boolean. A value is
/// checked against its data element's type and bounds, so no text beyond
/// a few dozen characters can be one.
fn value_text_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .description(Some(
            "`\"120\"` for a count, `\"12.50\"` for a decimal, `\"yes\"`/`\"no\"` (or \
             `\"có\"`/`\"không\"`) for yes/no. JSON numbers (without exponent) and \
             booleans are taken as that text.",
        ))
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Number,
            Type::Boolean,
        ]))
        .max_length(Some(64))
        .examples(["120"])
        .build()
}

/// One value to save or submit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataValueInput {
    /// Data element code, e.g. `officials`.
    #[schema(format = "catalogue-code", example = "online_meetings")]
    pub data_element: String,
    /// `"120"` for a count, `"12.50"` for a decimal, `"yes"`/`"no"` (or
    /// `"có"`/`"không"`) for yes/no. JSON numbers (without exponent) and
    /// booleans are taken as that text.
    #[schema(schema_with = value_text_schema)]
    pub value: ValueText,
}

/// One stored value.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataValue {
    pub data_element: String,
    /// The value as text: `120`, `12.50`, `yes`.
    pub value: String,
}

/// An Ed25519 signature over the report's canonical JSON (RFC 8785) of
/// `{"agency","form","period","values":{code: value text},"version"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    /// The registry's signing-key id.
    #[schema(format = "key-id")]
    pub key_id: String,
    /// Standard base64 of the 64 signature bytes.
    #[schema(format = "signature")]
    pub signature: String,
}

/// A draft's values (partial values allowed; each is checked for type and bounds).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveDraft {
    pub values: Vec<DataValueInput>,
}

/// A report to submit for (form, period, agency).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    #[schema(format = "catalogue-code", example = "it_fast_quarterly")]
    pub form: String,
    /// A period of the form's type: `2025`, `2025S1`, `2025Q3` or `202507`.
    #[schema(format = "period-code", example = "2026Q1")]
    pub period: String,
    /// The reporting agency; an agency's own token may leave it out.
    #[serde(default)]
    #[schema(format = "agency-code", example = "000.00.02.H51")]
    pub agency_code: Option<String>,
    /// When given (and not empty), they replace the draft's values before
    /// submitting; else the saved draft is submitted.
    #[serde(default)]
    pub values: Option<Vec<DataValueInput>>,
    /// Required when the form requires a signature.
    #[serde(default)]
    pub signature: Option<SignatureInput>,
    /// The day a paper report was received (officers and admins entering
    /// paper reports); today when absent.
    #[serde(default)]
    #[schema(format = Date)]
    pub received_on: Option<String>,
}

/// Submitting a saved draft, signed where the form needs it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitDraft {
    #[serde(default)]
    pub signature: Option<SignatureInput>,
    /// The day a paper report was received; today when absent.
    #[serde(default)]
    #[schema(format = Date)]
    pub received_on: Option<String>,
}

/// A province officer's review: optional to accept, required to return.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    #[serde(default, deserialize_with = "optional_text")]
    #[schema(format = "comment", example = "Số liệu khớp với báo cáo giấy")]
    pub comment: Option<String>,
}

/// A province officer's return of a report: the comment says what to
/// correct, so it is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    #[serde(default, deserialize_with = "text")]
    #[schema(
        format = "required-comment",
        required = true,
        example = "Số văn bản điện tử lớn hơn tổng số văn bản đi"
    )]
    pub comment: String,
}

/// Why a new version is started.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviseBody {
    #[serde(default, deserialize_with = "optional_text")]
    #[schema(format = "comment", example = "Bổ sung số liệu quý")]
    pub reason: Option<String>,
}

/// An unlock to grant: the agency may change its locked report until `until`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockBody {
    #[schema(format = "catalogue-code", example = "it_application_yearly")]
    pub form: String,
    #[schema(format = "period-code", example = "2024")]
    pub period: String,
    #[schema(format = "agency-code", example = "000.00.02.H51")]
    pub agency_code: String,
    #[serde(deserialize_with = "text")]
    #[schema(
        format = "required-text",
        example = "Bổ sung số liệu theo yêu cầu của Sở"
    )]
    pub reason: String,
    /// An instant in the next 90 days.
    #[schema(format = DateTime)]
    pub until: String,
}

/// A granted unlock.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unlock {
    pub form: String,
    pub period: String,
    pub agency_code: String,
    pub reason: String,
    /// RFC 3339.
    pub until: Option<String>,
    pub granted_by: String,
    pub granted_at: Option<String>,
}

/// A province officer's decision on a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    pub reviewed_by: String,
    pub reviewed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A stored signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signature {
    pub key_id: String,
    /// Standard base64.
    pub signature: String,
    /// When the service received it.
    pub signed_at: Option<String>,
}

/// A version of a report. Its `etag` is also the `ETag` header of
/// single-report answers; send it back as `If-Match`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// One id per (form, period, agency), the same for every version.
    pub id: String,
    pub form: String,
    pub period: String,
    pub agency_code: String,
    pub province_code: String,
    pub version: i32,
    /// `draft`, `submitted`, `accepted` or `returned`.
    pub status: String,
    /// Empty in lists; ask for the report for them.
    pub values: Vec<DataValue>,
    pub etag: String,
    /// RFC 3339 instants.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    /// The date (in Vietnam) the report counts as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_on: Option<String>,
    pub deadline: String,
    /// Days after the deadline it was received; 0 when on time.
    pub days_late: i32,
    /// The first locked day; absent when the form never locks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_date: Option<String>,
    /// Whether the agency can change it now.
    pub editable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

/// Filters for listing reports.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    #[param(format = "catalogue-code", example = "it_fast_quarterly")]
    pub form: Option<String>,
    #[param(format = "period-code", example = "2026Q1")]
    pub period: Option<String>,
    #[param(format = "agency-code", example = "000.00.02.H51")]
    pub agency: Option<String>,
    /// Administrative-unit code of the province.
    #[param(format = "admin-unit-code", example = "51")]
    pub province: Option<String>,
    #[param(format = "report-status", example = "submitted")]
    pub status: Option<String>,
    /// At most this many: 100 when 0 or less, 1000 when more.
    #[param(example = 50)]
    pub page_size: Option<i32>,
    /// The `x-next-page-token` header of the previous page.
    pub page_token: Option<String>,
}

/// Which version of a report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A past version; the current one when absent or 0.
    #[param(minimum = 0, example = 1)]
    pub version: Option<i32>,
}

/// A page of an audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// At most this many: 100 when 0 or less, 1000 when more.
    #[param(example = 50)]
    pub page_size: Option<i32>,
    /// The `x-next-page-token` header of the previous page.
    #[param(format = "number-page-token")]
    pub page_token: Option<String>,
}

/// One change to a report, as recorded when it was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub report_id: String,
    pub form: String,
    pub period: String,
    pub agency_code: String,
    /// `save_draft`, `submit`, `accept`, `return`, `revise` or `unlock`.
    pub action: String,
    pub actor: String,
    pub actor_role: String,
    /// The caller's network address, as the gateway saw it.
    pub address: String,
    /// The `x-request-id` of the request that made the change.
    pub request_id: String,
    pub at: Option<String>,
    pub version: i32,
    /// Absent before the first save.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_after: Option<String>,
    pub values_before: Vec<DataValue>,
    pub values_after: Vec<DataValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A stored signature checked again, against the key as it stood when the
/// report was signed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureVerification {
    pub valid: bool,
    pub key_id: String,
    pub key_label: String,
    pub signed_at: Option<String>,
    /// Why it does not verify, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The exact text that was signed (RFC 8785 canonical JSON).
    pub signed_content: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_their_text() {
        assert_eq!(value_text(r#""120""#).unwrap(), "120");
        assert_eq!(value_text(r#""có""#).unwrap(), "có");
        assert_eq!(value_text("120").unwrap(), "120");
        assert_eq!(value_text("12.50").unwrap(), "12.50");
        assert_eq!(value_text("-3").unwrap(), "-3");
        assert_eq!(value_text("true").unwrap(), "yes");
        assert_eq!(value_text("false").unwrap(), "no");
        for exponent in ["1e3", "1.5E2", "-2e-1"] {
            assert!(
                value_text(exponent).unwrap_err().contains("exponent"),
                "{exponent}"
            );
        }
        assert!(value_text("null").unwrap_err().contains("required"));
        assert!(value_text("[1]").unwrap_err().contains("must be text"));
        assert!(value_text("{}").unwrap_err().contains("must be text"));
    }

    #[test]
    fn bodies_keep_the_digits_and_name_the_bad_value() {
        let body = r#"{"values": [{"data_element": "a", "value": 12.50},
                                   {"data_element": "b", "value": true},
                                   {"data_element": "c", "value": "7"}]}"#;
        let de = &mut serde_json::Deserializer::from_str(body);
        let draft: SaveDraft = serde_path_to_error::deserialize(de).unwrap();
        let texts: Vec<&str> = draft.values.iter().map(|v| v.value.0.as_str()).collect();
        assert_eq!(texts, ["12.50", "yes", "7"]);

        let body = r#"{"values": [{"data_element": "a", "value": 1},
                                   {"data_element": "b", "value": 1e400}]}"#;
        let de = &mut serde_json::Deserializer::from_str(body);
        let err = serde_path_to_error::deserialize::<_, SaveDraft>(de).unwrap_err();
        assert_eq!(err.path().to_string(), "values[1].value");
        assert!(err.inner().to_string().contains("exponent"), "{err}");
    }
}
