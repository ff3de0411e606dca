//! What several route modules share: optional strings, list pages, created
//! answers, and the REST names of the registry's enums, each taken from
//! `chiso_domain` and `chiso_proto::convert` so every name is written once.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
};
use chiso_domain::{
    AdminLevel, AgencyKind, Role,
    text::{MAX_NAME_CHARS, MAX_TEXT_CHARS},
};
use chiso_proto::{convert::registry as wire, registry::v1 as pb};
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, Visitor, value::MapAccessDeserializer},
};

use crate::error::ApiResult;

/// Response header carrying the token of the next page of a list.
pub const NEXT_PAGE_HEADER: &str = "x-next-page-token";

/// The REST name of a wire enum value that has no domain meaning.
pub const UNSPECIFIED: &str = "unspecified";

/// Every administrative level, in REST messages' order (the domain type has
/// no list of its own).
const LEVELS: [AdminLevel; 3] = [
    AdminLevel::Province,
    AdminLevel::District,
    AdminLevel::Commune,
];

/// Proto leaves absent strings empty; REST leaves them out.
pub fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A protobuf instant as RFC 3339 in UTC with milliseconds; `None` when unset.
pub fn timestamp(t: Option<prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    let nanos = u32::try_from(t.nanos).ok()?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Each proto message of a list as its REST shape.
pub fn convert_all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

/// A `201 Created` answer.
pub fn created<T>(body: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(body))
}

/// The headers of a list page: the next page's token, when there is one.
pub fn next_page(token: &str) -> ApiResult<HeaderMap> {
    let mut headers = HeaderMap::new();
    if !token.is_empty() {
        let value = HeaderValue::from_str(token)
            .map_err(|e| anyhow::anyhow!("page token is not a header value: {e}"))?;
        headers.insert(NEXT_PAGE_HEADER, value);
    }
    Ok(headers)
}

/// A back service's refusal of a well-formed code from the path as naming
/// nothing: the path names no resource, so 404, as every other path
/// answers. A malformed code keeps its 422, and so does any other problem.
pub fn unknown_in_path(status: tonic::Status, field: &str, well_formed: bool) -> tonic::Status {
    let violations = chiso_runtime::error::field_violations(&status);
    let only_the_path = !violations.is_empty() && violations.iter().all(|(f, _)| f == field);
    if status.code() == tonic::Code::InvalidArgument && well_formed && only_the_path {
        let message = violations
            .into_iter()
            .map(|(_, message)| message)
            .collect::<Vec<_>>()
            .join("; ");
        return tonic::Status::not_found(message);
    }
    status
}

/// A JSON body that must be an object. A derived struct also takes a JSON
/// array, its fields in order, which no client means: a body whose fields
/// are all optional would take `[]` for "nothing given".
#[derive(Debug, Default)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(Fields(std::marker::PhantomData))
            .map(Object)
    }
}

/// Free text the back services store as given, bounded here to what the
/// contract promises: [`MAX_TEXT_CHARS`] characters, as JSON Schema counts
/// them (code points, blanks included). For `#[serde(deserialize_with)]`.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    at_most(String::deserialize(deserializer)?, MAX_TEXT_CHARS)
}

/// [`text`] that may be left out (or `null`).
pub fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|t| at_most(t, MAX_TEXT_CHARS))
        .transpose()
}

/// A unit of measure (`máy`, `%`): as long as a name may be.
pub fn unit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    at_most(String::deserialize(deserializer)?, MAX_NAME_CHARS)
}

fn at_most<E: serde::de::Error>(text: String, max: usize) -> Result<String, E> {
    if text.chars().count() > max {
        return Err(E::custom(format!("must be at most {max} characters")));
    }
    Ok(text)
}

/// "`x` is not one of a, b, c": the message for a name outside `names`.
pub fn not_one_of(value: &str, names: impl IntoIterator<Item = &'static str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    format!("`{value}` is not one of {}", names.join(", "))
}

/// The agency kind a REST string names, or why it names none.
pub fn parse_kind(kind: &str) -> Result<pb::AgencyKind, String> {
    kind.parse::<AgencyKind>()
        .map(pb::AgencyKind::from)
        .map_err(|_| not_one_of(kind, AgencyKind::ALL.map(AgencyKind::as_str)))
}

/// The administrative level a REST string names, or why it names none.
pub fn parse_level(level: &str) -> Result<pb::AdminLevel, String> {
    LEVELS
        .into_iter()
        .find(|l| l.as_str() == level)
        .map(pb::AdminLevel::from)
        .ok_or_else(|| not_one_of(level, LEVELS.map(AdminLevel::as_str)))
}

/// The REST name of a wire agency kind.
pub fn kind_name(raw: i32) -> &'static str {
    wire::agency_kind(raw).map_or(UNSPECIFIED, AgencyKind::as_str)
}

/// The REST name of a wire administrative level.
pub fn level_name(raw: i32) -> &'static str {
    wire::admin_level(raw).map_or(UNSPECIFIED, AdminLevel::as_str)
}

/// The REST name of a wire role.
pub fn role_name(raw: i32) -> &'static str {
    wire::role(raw).map_or(UNSPECIFIED, Role::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_levels_and_roles_round_trip_through_their_rest_names() {
        for kind in AgencyKind::ALL {
            let wire = parse_kind(kind.as_str()).unwrap();
            assert_eq!(kind_name(wire as i32), kind.as_str());
        }
        for level in LEVELS {
            let wire = parse_level(level.as_str()).unwrap();
            assert_eq!(level_name(wire as i32), level.as_str());
        }
        for role in Role::ALL {
            assert_eq!(role_name(pb::Role::from(role) as i32), role.as_str());
        }
        assert_eq!(kind_name(0), "unspecified");
        assert_eq!(level_name(99), "unspecified");
        assert_eq!(role_name(0), "unspecified");
    }

    #[test]
    fn a_body_is_an_object_not_its_fields_in_order() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Optional {
            #[serde(default)]
            reason: Option<String>,
        }
        let Object(body) = serde_json::from_str::<Object<Optional>>(r#"{"reason": "x"}"#).unwrap();
        assert_eq!(body.reason.as_deref(), Some("x"));
        let Object(body) = serde_json::from_str::<Object<Optional>>("{}").unwrap();
        assert_eq!(body.reason, None);
        // A derived struct alone takes an array as its fields in order.
        assert!(serde_json::from_str::<Optional>(r#"["x"]"#).is_ok());
        for array in ["[]", r#"["x"]"#] {
            let err = serde_json::from_str::<Object<Optional>>(array).unwrap_err();
            assert!(err.to_string().contains("a JSON object"), "{err}");
        }
        assert!(serde_json::from_str::<Object<Optional>>(r#"{"other": 1}"#).is_err());
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        assert_eq!(
            parse_kind("ministry").unwrap_err(),
            "`ministry` is not one of provincial_committee, department, district_committee, commune_committee"
        );
        assert_eq!(
            parse_level("ward").unwrap_err(),
            "`ward` is not one of province, district, commune"
        );
    }
}
