//! What each kind of field accepts, said once for the whole OpenAPI
//! document. A request field or parameter names its kind as a `format`
//! (`#[schema(format = "agency-code")]`, `#[param(format = "period-code")]`);
//! [`FieldConstraints`] then gives it the pattern, lengths or values the
//! parser behind it enforces, taken from the parser's own constants, so the
//! contract and the server cannot drift apart. A format this module does not
//! know fails the contract tests rather than going out unconstrained.

use crate::config::RequestsConfig;
use chiso_domain::{
    AdminLevel, AgencyKind, RegistrationStatus, ReportStatus,
    catalogue::Category,
    codes::{
        ADMIN_UNIT_CODE_PATTERN, AGENCY_CODE_PATTERN, CATALOGUE_CODE_PATTERN,
        MAX_CATALOGUE_CODE_LEN, PROVINCE_CODE_PATTERN,
    },
    period::PERIOD_CODE_PATTERN,
    text::{MAX_NAME_CHARS, MAX_TEXT_CHARS, NAME_PATTERN, TEXT_PATTERN},
};
use utoipa::{
    Modify,
    openapi::{
        KnownFormat, Object, ObjectBuilder, OpenApi, RefOr, Required, Schema, Type,
        path::ParameterIn,
        schema::{AdditionalProperties, AnyOfBuilder, ArrayItems, SchemaFormat, SchemaType},
    },
};

/// Longest `Idempotency-Key` the submission service takes (its
/// `idempotency::MAX_REQUEST_ID`), printable ASCII only.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// Longest telephone number `is_phone_number` takes.
const MAX_PHONE_CHARS: usize = 32;

/// Longest e-mail address `Email::parse` takes (RFC 5321).
const MAX_EMAIL_CHARS: usize = 254;

/// What a kind of field accepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraint {
    pub pattern: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub values: Option<Vec<String>>,
}

impl Constraint {
    fn pattern(pattern: impl Into<String>, max_length: usize) -> Self {
        Self {
            pattern: Some(pattern.into()),
            max_length: Some(max_length),
            ..Self::default()
        }
    }

    /// A pattern whose length the server does not limit.
    fn unbounded(pattern: impl Into<String>) -> Self {
        Self {
            pattern: Some(pattern.into()),
            ..Self::default()
        }
    }

    fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            values: Some(values.into_iter().map(str::to_owned).collect()),
            ..Self::default()
        }
    }
}

/// The kinds of field the contract knows, for the tests.
pub const FORMATS: &[&str] = &[
    "agency-code",
    "admin-unit-code",
    "province-code",
    "area",
    "catalogue-code",
    "period-code",
    "name",
    "text",
    "required-text",
    "comment",
    "required-comment",
    "contact-email",
    "phone",
    "idempotency-key",
    "entity-tag",
    "agency-page-token",
    "number-page-token",
    "client-id",
    "key-id",
    "public-key",
    "signature",
    "expression",
    "unit",
    "decimal-text",
    "grant-type",
    "oauth-text",
    "scope",
    "agency-kind",
    "admin-level",
    "report-status",
    "registration-status",
    "category",
    "value-type",
    "period-rule",
    "target-group",
    "breakdown",
    "export-format",
    "export-kind",
];

/// The constraint of a kind of field, or `None` for a format this module
/// does not define (a standard one such as `date`, or a mistake).
pub fn constraint(format: &str) -> Option<Constraint> {
    // A code's length is its pattern's; the bound is said anyway, so a
    // client (and a fuzzer) need not work it out.
    let c = match format {
        "agency-code" => Constraint::pattern(AGENCY_CODE_PATTERN, 13),
        "admin-unit-code" => Constraint::pattern(ADMIN_UNIT_CODE_PATTERN, 5),
        "province-code" => Constraint::pattern(PROVINCE_CODE_PATTERN, 2),
        // An administrative unit's area, or the whole country.
        "area" => Constraint::pattern("^(VN|vn|[0-9]{2}|[0-9]{3}|[0-9]{5})$", 5),
        "catalogue-code" => Constraint::pattern(CATALOGUE_CODE_PATTERN, MAX_CATALOGUE_CODE_LEN),
        "period-code" => Constraint::pattern(PERIOD_CODE_PATTERN, 7),
        "name" => Constraint::pattern(NAME_PATTERN, MAX_NAME_CHARS),
        // Free text stored as given.
        "text" => Constraint {
            max_length: Some(MAX_TEXT_CHARS),
            ..Constraint::default()
        },
        // Free text that must say something: not blank.
        "required-text" => Constraint::pattern(r"\S", MAX_TEXT_CHARS),
        // A comment in a report's audit trail: no control characters but
        // tabs and line breaks (`text::free_text`).
        "comment" => Constraint::pattern(TEXT_PATTERN, MAX_TEXT_CHARS),
        "required-comment" => Constraint::pattern(
            r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
            MAX_TEXT_CHARS,
        ),
        // ASCII only: the local part's limit is 64 bytes.
        "contact-email" => Constraint::pattern(
            r"^[!-?A-~]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$",
            MAX_EMAIL_CHARS,
        ),
        // Blank is no number; else at least six digits and the usual separators.
        "phone" => Constraint::pattern(r"^(\s*|[ +.()-]*([0-9][ +.()-]*){6,})$", MAX_PHONE_CHARS),
        // Empty is no key.
        "idempotency-key" => Constraint::pattern("^[ -~]*$", MAX_IDEMPOTENCY_KEY),
        // One entity tag, quoted or not, weak or strong, or `*`.
        "entity-tag" => Constraint::unbounded(r#"^(\*|(W/)?"[^",]+"|(W/)?[^",\s][^",]*)$"#),
        // The registry's list cursor: a hex sort key and the last agency's code.
        "agency-page-token" => Constraint::pattern(
            r"^[0-9a-f]+~[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$",
            1024,
        ),
        // The submission service's audit cursor: the last entry's number,
        // as Rust reads an `i64` (a sign, leading zeros), blanks trimmed.
        "number-page-token" => Constraint::unbounded(r"^\s*[+-]?0*[0-9]{1,18}\s*$"),
        // A stored client: its role and 32 hex digits (the registry's ids).
        "client-id" => Constraint::pattern("^(agency|officer|viewer|integrator)-[0-9a-f]{32}$", 43),
        "key-id" => Constraint::pattern("^key-[0-9a-f]{32}$", 36),
        // Standard base64 of the 32 key bytes (the last character carries
        // two bits of padding, which must be zero), or a PEM `PUBLIC KEY`.
        "public-key" => Constraint::pattern(
            r"^\s*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=|-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----)\s*$",
            256,
        ),
        // Standard base64 of the 64 signature bytes (four bits of padding).
        "signature" => Constraint::pattern(r"^[A-Za-z0-9+/]{85}[AQgw]==$", 88),
        // Sums and differences of codes and whole numbers, comparisons for rules.
        "expression" => Constraint {
            max_length: Some(MAX_TEXT_CHARS),
            ..Constraint::default()
        },
        "unit" => Constraint {
            max_length: Some(MAX_NAME_CHARS),
            ..Constraint::default()
        },
        // A bound: a whole number, or a decimal with at most six decimals.
        "decimal-text" => Constraint::pattern(r"^[0-9]{1,13}(\.[0-9]{1,6})?$", 20),
        "grant-type" => Constraint::one_of(["client_credentials"]),
        // A client id or secret: RFC 6749's printable characters.
        "oauth-text" => Constraint::pattern("^[ -~]*$", 256),
        // RFC 6749 §3.3: scope names of printable ASCII but `"` and `\`,
        // separated by single spaces.
        "scope" => Constraint::pattern(r#"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$"#, 256),
        "agency-kind" => Constraint::one_of(AgencyKind::ALL.map(AgencyKind::as_str)),
        "admin-level" => Constraint::one_of(AdminLevel::ALL.map(AdminLevel::as_str)),
        "report-status" => Constraint::one_of(ReportStatus::ALL.map(ReportStatus::as_str)),
        "registration-status" => {
            Constraint::one_of(RegistrationStatus::ALL.map(RegistrationStatus::as_str))
        }
        "category" => Constraint::one_of(Category::ALL.map(Category::as_str)),
        "value-type" => Constraint::one_of(["count", "decimal", "yes_no"]),
        "period-rule" => Constraint::one_of(["sum", "last"]),
        "target-group" => {
            let levels = AdminLevel::ALL.map(|l| format!("{}_level", l.as_str()));
            let mut values = vec!["whole_province".to_owned(), "all".to_owned()];
            values.extend(AgencyKind::ALL.map(|k| k.as_str().to_owned()));
            values.extend(levels);
            Constraint {
                values: Some(values),
                ..Constraint::default()
            }
        }
        "breakdown" => Constraint::one_of(["child_areas", "agencies"]),
        "export-format" => Constraint::one_of(["csv", "xlsx", "sdmx_csv"]),
        "export-kind" => Constraint::one_of([
            "aggregates",
            "trends",
            "completeness",
            "attainment",
            "rankings",
        ]),
        _ => return None,
    };
    Some(c)
}

/// Applies [`constraint`] to every schema whose format names a kind of
/// field, in components, parameters and bodies alike. An optional field
/// also takes a blank value, which the server reads as absent (the gRPC
/// messages behind it have no other way to say so).
pub struct FieldConstraints;

impl Modify for FieldConstraints {
    fn modify(&self, openapi: &mut OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                constrain(schema, false);
            }
            // Each operation of a reorganisation refuses unknown fields like
            // every other body, which utoipa leaves open for a tagged enum.
            if let Some(RefOr::T(Schema::OneOf(operations))) =
                components.schemas.get_mut("Operation")
            {
                for variant in &mut operations.items {
                    if let RefOr::T(Schema::Object(variant)) = variant {
                        variant.additional_properties =
                            Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
        for operation in super::operations_mut(openapi) {
            let parameters = operation.parameters.iter_mut().flatten();
            for parameter in parameters.filter_map(|p| match p {
                RefOr::T(p) => Some(p),
                RefOr::Ref(_) => None,
            }) {
                // Blank is absent in a query (the gRPC messages behind
                // it cannot tell them apart); a header is read as sent.
                let optional = !matches!(parameter.required, Required::True)
                    && parameter.parameter_in != ParameterIn::Header;
                if let Some(schema) = parameter.schema.as_mut() {
                    constrain(schema, optional);
                }
            }
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                for (media_type, content) in body.content.iter_mut() {
                    if let RefOr::T(content) = content
                        && let Some(schema) = content.schema.as_mut()
                    {
                        if media_type == "text/csv"
                            && let RefOr::T(Schema::Object(csv)) = schema
                        {
                            // A file of text: no `null`, and no longer
                            // than the route takes (413 beyond).
                            csv.schema_type = SchemaType::Type(Type::String);
                            csv.max_length = Some(RequestsConfig::default().import_body_bytes);
                        }
                        if is_file(media_type) {
                            *schema = RefOr::T(Schema::Object(
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                                    .build(),
                            ));
                        }
                        not_null(schema);
                        constrain(schema, false);
                    }
                }
            }
        }
    }
}

/// A body that is a file (an uploaded spreadsheet): bytes, whatever the
/// Rust type that carries them.
fn is_file(media_type: &str) -> bool {
    !(media_type.contains("json")
        || media_type.starts_with("text/")
        || media_type == "application/x-www-form-urlencoded")
}

/// An optional body (`Option<T>` in the route's annotation) may be left
/// out, but a JSON `null` is no body of that type: the server refuses it.
fn not_null(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::OneOf(one_of)) = schema
        && one_of.items.len() == 2
        && let Some(null) = one_of.items.iter().position(|s| {
            matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
        })
    {
        let mut items = std::mem::take(&mut one_of.items);
        items.remove(null);
        *schema = items.remove(0);
    }
}

/// `schema` and every schema inside it, constrained by their formats.
fn constrain(schema: &mut RefOr<Schema>, optional: bool) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            let kind = match &object.format {
                Some(SchemaFormat::Custom(format)) => constraint(format).map(|c| (c, false)),
                Some(SchemaFormat::KnownFormat(KnownFormat::Date | KnownFormat::DateTime)) => {
                    Some((Constraint::default(), true))
                }
                _ => None,
            };
            let required = object.required.clone();
            for (name, property) in object.properties.iter_mut() {
                constrain(property, !required.contains(name));
            }
            if let Some(additional) = object.additional_properties.as_mut()
                && let AdditionalProperties::RefOr(inner) = additional.as_mut()
            {
                constrain(inner, false);
            }
            let Some((c, is_time)) = kind else {
                return;
            };
            let is_enum = c.values.is_some();
            object.pattern = c.pattern.or(object.pattern.take());
            object.min_length = c.min_length.or(object.min_length);
            object.max_length = c.max_length.or(object.max_length);
            if let Some(values) = c.values {
                object.enum_values = Some(values.into_iter().map(Into::into).collect());
            }
            if optional && (object.pattern.is_some() || is_enum || is_time) {
                *schema = or_blank(std::mem::take(object), is_enum);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                constrain(items, false);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(|s| constrain(s, optional)),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(|s| constrain(s, optional)),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(|s| constrain(s, optional)),
        _ => {}
    }
}

/// An optional field: its constrained value, or a blank one, which the
/// server reads as absent (an enum's name must be empty; other text may be
/// blanks, which it trims). The description and example stay outside.
fn or_blank(mut value: Object, is_enum: bool) -> Schema {
    let description = value.description.take();
    let example = value.example.take();
    let blank = if is_enum {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(0))
    } else {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^\s*$"))
    };
    let mut any_of = AnyOfBuilder::new()
        .item(Schema::Object(value))
        .item(blank)
        .description(description)
        .build();
    any_of.example = example;
    Schema::AnyOf(any_of)
}

#[cfg(test)]
mod tests {
    use chiso_domain::{
        AdminUnitCode, AgencyCode, DataElementCode, Email, PeriodCode, VnName,
        catalogue::{MAX_DECIMALS, indicator::MAX_DISPLAY_DECIMALS, indicator::MAX_FACTOR},
        period::{MAX_YEAR, MIN_YEAR},
        registration::is_phone_number,
        text::free_text,
    };
    use regex::Regex;
    use serde_json::Value;
    use utoipa::OpenApi as _;

    use super::*;

    fn document() -> Value {
        serde_json::to_value(crate::routes::ApiDoc::openapi()).unwrap()
    }

    /// `pattern` matches exactly the samples `accepts` takes.
    fn agree(pattern: &str, accepts: impl Fn(&str) -> bool, samples: &[&str]) {
        let regex = Regex::new(pattern).unwrap();
        for sample in samples {
            assert_eq!(
                regex.is_match(sample),
                accepts(sample),
                "{pattern} and the parser disagree on {sample:?}"
            );
        }
    }

    #[test]
    fn the_patterns_accept_what_the_parsers_accept() {
        agree(
            AGENCY_CODE_PATTERN,
            |s| AgencyCode::parse(s).is_ok(),
            &[
                "000.00.00.H51",
                "000.00.15.H44",
                "",
                "000.00.00.h51",
                "000.00.00.H5",
                "00.00.00.H51",
                "000-00-00-H51",
                "000.00.00.H51.1",
                "٠٠٠.00.00.H51",
                "000.00.00.H51\u{200B}",
            ],
        );
        agree(
            ADMIN_UNIT_CODE_PATTERN,
            |s| AdminUnitCode::parse(s).is_ok(),
            &["51", "523", "21025", "5", "5100", "51a", "", "123456", "٥١"],
        );
        let longest = "a".repeat(MAX_CATALOGUE_CODE_LEN);
        let too_long = "a".repeat(MAX_CATALOGUE_CODE_LEN + 1);
        let code = constraint("catalogue-code").unwrap();
        let within = |s: &str| s.chars().count() <= code.max_length.unwrap();
        agree(
            CATALOGUE_CODE_PATTERN,
            |s| DataElementCode::parse(s).is_ok() || !within(s),
            &[
                "officials_with_computer",
                "a",
                "x2",
                &longest,
                "",
                "Officials",
                "1x",
                "a-b",
                "cán_bộ",
            ],
        );
        assert!(DataElementCode::parse(&longest).is_ok() && within(&longest));
        assert!(DataElementCode::parse(&too_long).is_err() && !within(&too_long));
        agree(
            PERIOD_CODE_PATTERN,
            |s| PeriodCode::parse(s).is_ok(),
            &[
                "2018", "2018S1", "2018Q3", "201807", "1900", "2999", "2025S2", "202512", "1899",
                "3000", "2018S3", "2018Q5", "201813", "201800", "2018Q0", "18", "2018q1", "",
            ],
        );
        let longest = "ạ".repeat(MAX_NAME_CHARS);
        agree(
            NAME_PATTERN,
            |s| VnName::parse(s).is_ok(),
            &[
                "Sở Nội vụ",
                "UBND  tỉnh\tQuảng Ngãi",
                "x",
                &longest,
                "",
                "   ",
                "\t\n",
                "Sở\u{200B}Nội vụ",
                "Sở\u{202E}TTT",
                "a\u{1}b",
                "a\u{7f}",
                "\u{FEFF}x",
                "a\u{2066}",
            ],
        );
        agree(
            TEXT_PATTERN,
            |s| free_text(s).is_ok(),
            &[
                "",
                "ok",
                "hai dòng\nvà\ttab\r\n",
                "a\u{1}b",
                "a\u{b}b",
                "a\u{85}b",
                "đã duyệt\u{202E} 3 tấn",
                "a\u{202D}b",
                "\u{2067}اقتباس\u{2069}\u{200F}",
            ],
        );
        let phone = constraint("phone").unwrap();
        agree(
            phone.pattern.as_deref().unwrap(),
            |s| s.trim().is_empty() || is_phone_number(s.trim()),
            &[
                "",
                "0255 3822 123",
                "+84 (255) 3822-123",
                "12345",
                "0255x3822",
                "123 456",
            ],
        );
        // The e-mail pattern is ASCII only, which the parser is not: every
        // address it accepts must parse.
        let email = constraint("contact-email").unwrap();
        let email = Regex::new(email.pattern.as_deref().unwrap()).unwrap();
        for (address, valid) in [
            ("an.nv@quangngai.gov.vn", true),
            ("a@b.vn", true),
            ("an@gov", false),
            ("an@@gov.vn", false),
            ("an nguyen@gov.vn", false),
            ("an@-gov.vn", false),
            ("an@gov..vn", false),
        ] {
            assert_eq!(email.is_match(address), valid, "{address}");
            assert_eq!(Email::parse(address).is_ok(), valid, "{address}");
        }
    }

    /// Every schema in the document, with where it is.
    fn schemas<'a>(at: String, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("type") || map.contains_key("anyOf") {
                    out.push((at.clone(), value));
                }
                for (key, inner) in map {
                    schemas(format!("{at}/{key}"), inner, out);
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    schemas(format!("{at}/{i}"), inner, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_kind_of_field_the_document_names_is_constrained() {
        for format in FORMATS {
            assert!(constraint(format).is_some(), "{format} has no constraint");
        }
        let doc = document();
        let mut found = Vec::new();
        schemas(String::new(), &doc, &mut found);
        let standard = [
            "int32",
            "int64",
            "double",
            "float",
            "date",
            "date-time",
            "uuid",
            "binary",
        ];
        for (at, schema) in found {
            if let Some(format) = schema["format"].as_str() {
                assert!(
                    standard.contains(&format) || FORMATS.contains(&format),
                    "{at}: format `{format}` is neither standard nor in contract::FORMATS"
                );
                let c = constraint(format);
                if let Some(pattern) = c.and_then(|c| c.pattern) {
                    assert!(
                        schema["pattern"]
                            .as_str()
                            .is_some_and(|p| p.ends_with(&pattern)),
                        "{at}: {schema}"
                    );
                }
            }
        }
    }

    /// The schema a `$ref` names, or the schema itself.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.rsplit('/').next().unwrap();
                resolve(doc, &doc["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    fn operations(doc: &Value) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                out.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
        out
    }

    /// So that the contract stays complete as routes are added: an
    /// example request per operation, from which a client (or the
    /// contract run's examples phase) can start.
    #[test]
    fn every_operation_has_an_example_request() {
        let doc = document();
        for (name, operation) in operations(&doc) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let example = parameter.get("example").is_some()
                    || parameter["schema"].get("example").is_some();
                assert!(
                    example || parameter["required"] != Value::Bool(true),
                    "{name}: the required parameter {} has no example",
                    parameter["name"]
                );
            }
            let Some(content) = operation["requestBody"]["content"].as_object() else {
                continue;
            };
            for (media_type, body) in content {
                // A file (an uploaded spreadsheet) has no example to write here.
                if resolve(&doc, &body["schema"])["format"] == "binary" {
                    continue;
                }
                assert!(
                    body.get("example").is_some() || body.get("examples").is_some(),
                    "{name}: its {media_type} body has no example"
                );
            }
        }
    }

    /// Every string a request body can carry, with where it is.
    fn strings<'a>(
        doc: &'a Value,
        at: String,
        schema: &'a Value,
        out: &mut Vec<(String, &'a Value)>,
    ) {
        let schema = resolve(doc, schema);
        for key in ["anyOf", "oneOf", "allOf"] {
            for (i, inner) in schema[key].as_array().into_iter().flatten().enumerate() {
                strings(doc, format!("{at}/{key}/{i}"), inner, out);
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"string") {
            out.push((at.clone(), schema));
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            strings(doc, format!("{at}.{name}"), property, out);
        }
        if schema.get("items").is_some() {
            strings(doc, format!("{at}[]"), &schema["items"], out);
        }
    }

    /// So that no request field goes out unbounded as routes are added.
    #[test]
    fn every_string_a_request_body_carries_has_a_limit() {
        let doc = document();
        for (name, operation) in operations(&doc) {
            for (media_type, body) in operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                let mut found = Vec::new();
                strings(&doc, String::new(), &body["schema"], &mut found);
                for (at, schema) in found {
                    let bounded = schema.get("maxLength").is_some()
                        || schema.get("enum").is_some()
                        // A blank alternative of an optional field.
                        || schema["pattern"] == r"^\s*$"
                        || ["date", "date-time", "uuid", "binary"]
                            .contains(&schema["format"].as_str().unwrap_or_default());
                    assert!(
                        bounded,
                        "{name} {media_type} body{at} has no maxLength: {schema}"
                    );
                }
            }
        }
    }

    #[test]
    fn request_objects_refuse_unknown_fields_as_the_server_does() {
        let doc = document();
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            let used_in_requests = operations(&doc).iter().any(|(_, op)| {
                op["requestBody"]
                    .to_string()
                    .contains(&format!("/{name}\""))
            });
            if !used_in_requests {
                continue;
            }
            let variants = schema["oneOf"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![schema.clone()]);
            for variant in variants {
                assert_eq!(
                    variant["additionalProperties"],
                    Value::Bool(false),
                    "{name}: {variant}"
                );
            }
        }
    }

    #[test]
    fn numeric_bounds_are_the_domains() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let indicator = &schemas["IndicatorBody"]["properties"];
        assert_eq!(indicator["factor"]["maximum"], MAX_FACTOR);
        assert_eq!(indicator["decimals"]["maximum"], MAX_DISPLAY_DECIMALS);
        let element = &schemas["DataElementBody"]["properties"]["decimals"];
        assert_eq!(element["maximum"], MAX_DECIMALS, "{element}");
        let attainment = &doc["paths"]["/api/v1/attainment"]["get"]["parameters"];
        let year = attainment
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "year")
            .unwrap();
        assert_eq!(year["schema"]["minimum"], MIN_YEAR);
        assert_eq!(year["schema"]["maximum"], MAX_YEAR);
    }

    #[test]
    fn parameters_are_where_the_server_reads_them() {
        let doc = document();
        for (name, operation) in operations(&doc) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let in_path =
                    name.contains(&format!("{{{}}}", parameter["name"].as_str().unwrap()));
                assert_eq!(parameter["in"] == "path", in_path, "{name}: {parameter}");
            }
        }
    }
}
