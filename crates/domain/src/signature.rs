//! What an agency signs: the RFC 8785 (JCS) canonical JSON of a report's
//! content, and the Ed25519 check of a signature over it.
//!
//! The signed object is
//! `{"agency":…,"form":…,"period":…,"values":{code: text},"version":n}`
//! with every value as its display text ("120", "12.50", "yes"), so no
//! float ever enters the signed bytes and any JSON library that implements
//! RFC 8785 reproduces them exactly.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::Serialize;

use crate::{ReportKey, ReportValues};

/// The exact bytes an agency signs for one version of a report.
pub fn signed_content(key: &ReportKey, version: i32, values: &ReportValues) -> Vec<u8> {
    #[derive(Serialize)]
    struct Content<'a> {
        agency: &'a str,
        form: &'a str,
        period: String,
        values: std::collections::BTreeMap<&'a str, String>,
        version: i32,
    }
    let content = Content {
        agency: key.agency.as_str(),
        form: key.form.as_str(),
        period: key.period.to_string(),
        values: values
            .iter()
            .map(|(c, v)| (c.as_str(), v.to_string()))
            .collect(),
        version,
    };
    serde_json_canonicalizer::to_vec(&content).expect("strings and integers always serialise")
}

/// A registered public key and the span it signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub key_id: String,
    /// The agency the key belongs to.
    pub agency: crate::AgencyCode,
    /// The 32 raw key bytes.
    pub public_key: [u8; 32],
    pub registered_at: DateTime<Utc>,
    /// Signatures made from this instant on are refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why a signature does not verify; each names the request field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("is not standard base64 of 64 bytes")]
    Malformed,
    #[error("key {key_id} belongs to agency {owner}, not {agency}")]
    OtherAgency {
        key_id: String,
        owner: String,
        agency: String,
    },
    #[error("key {key_id} was not valid at {at}: {why}")]
    NotValidThen {
        key_id: String,
        at: String,
        why: String,
    },
    #[error("key {key_id} is not a valid Ed25519 public key")]
    BadKey { key_id: String },
    #[error("does not verify with key {key_id} over the report's canonical content")]
    Mismatch { key_id: String },
}

impl SignatureError {
    /// The field of a `Signature` the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Malformed | Self::Mismatch { .. } => "signature",
            Self::OtherAgency { .. } | Self::NotValidThen { .. } | Self::BadKey { .. } => "key_id",
        }
    }
}

/// Decodes a signature as sent: standard base64 of 64 bytes.
pub fn decode_signature(raw: &str) -> Result<[u8; 64], SignatureError> {
    let bytes = STANDARD
        .decode(raw.trim())
        .map_err(|_| SignatureError::Malformed)?;
    bytes.try_into().map_err(|_| SignatureError::Malformed)
}

/// Checks `signature` over `content`, made at `signed_at` by `agency`,
/// against `key`: the key must be the agency's, registered before and not
/// revoked at that instant.
pub fn verify(
    key: &SigningKey,
    agency: &crate::AgencyCode,
    signed_at: DateTime<Utc>,
    content: &[u8],
    signature: &[u8; 64],
) -> Result<(), SignatureError> {
    if &key.agency != agency {
        return Err(SignatureError::OtherAgency {
            key_id: key.key_id.clone(),
            owner: key.agency.to_string(),
            agency: agency.to_string(),
        });
    }
    let at = signed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if signed_at < key.registered_at {
        return Err(SignatureError::NotValidThen {
            key_id: key.key_id.clone(),
            at,
            why: "it was registered later".into(),
        });
    }
    if let Some(revoked) = key.revoked_at
        && signed_at >= revoked
    {
        return Err(SignatureError::NotValidThen {
            key_id: key.key_id.clone(),
            at,
            why: format!(
                "it was revoked at {}",
                revoked.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        });
    }
    let public = VerifyingKey::from_bytes(&key.public_key).map_err(|_| SignatureError::BadKey {
        key_id: key.key_id.clone(),
    })?;
    public
        .verify(content, &Signature::from_bytes(signature))
        .map_err(|_| SignatureError::Mismatch {
            key_id: key.key_id.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgencyCode, DataElementCode, FormCode, PeriodCode, Value, value::Count};
    use ed25519_dalek::Signer;

    /// RFC 8785 §3.2.2: the canonical form of the RFC's own example.
    #[test]
    fn jcs_matches_the_rfc_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let value: serde_json::Value = serde_json::from_str(input).unwrap();
        assert_eq!(
            serde_json_canonicalizer::to_string(&value).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    /// RFC 8785 §3.2.3: properties sorted by their UTF-16 code units.
    #[test]
    fn jcs_sorts_properties_like_the_rfc() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let value: serde_json::Value = serde_json::from_str(input).unwrap();
        let out = serde_json_canonicalizer::to_string(&value).unwrap();
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ]
        .to_vec();
        let positions: Vec<usize> = order.iter().map(|n| out.find(n).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    }

    fn key() -> ReportKey {
        ReportKey {
            form: FormCode::parse("it_yearly").unwrap(),
            period: PeriodCode::parse("2025").unwrap(),
            agency: AgencyCode::parse("000.00.15.H51").unwrap(),
        }
    }

    fn values() -> ReportValues {
        [
            ("officials", Value::Count(Count::new(120).unwrap())),
            ("has_lan", Value::YesNo(true)),
        ]
        .into_iter()
        .map(|(c, v)| (DataElementCode::parse(c).unwrap(), v))
        .collect()
    }

    #[test]
    fn the_signed_content_is_canonical_json() {
        let content = String::from_utf8(signed_content(&key(), 2, &values())).unwrap();
        assert_eq!(
            content,
            r#"{"agency":"000.00.15.H51","form":"it_yearly","period":"2025","values":{"has_lan":"yes","officials":"120"},"version":2}"#
        );
    }

    #[test]
    fn signatures_verify_only_with_the_right_key_content_and_time() {
        let secret = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let t0: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
        let t1: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().unwrap();
        let registered = SigningKey {
            key_id: "k1".into(),
            agency: key().agency,
            public_key: secret.verifying_key().to_bytes(),
            registered_at: t0,
            revoked_at: Some(t1),
        };
        let content = signed_content(&key(), 1, &values());
        let signature = secret.sign(&content).to_bytes();
        let encoded = STANDARD.encode(signature);
        let decoded = decode_signature(&encoded).unwrap();
        let during: DateTime<Utc> = "2025-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            verify(&registered, &key().agency, during, &content, &decoded),
            Ok(())
        );
        // Other content: version 2 instead of 1.
        let other = signed_content(&key(), 2, &values());
        let err = verify(&registered, &key().agency, during, &other, &decoded).unwrap_err();
        assert_eq!(err.field(), "signature");
        // After revocation, and before registration.
        let err = verify(&registered, &key().agency, t1, &content, &decoded).unwrap_err();
        assert!(
            err.to_string().contains("revoked at 2025-06-01T00:00:00Z"),
            "{err}"
        );
        assert_eq!(err.field(), "key_id");
        let before: DateTime<Utc> = "2024-12-31T23:59:59Z".parse().unwrap();
        assert!(
            verify(&registered, &key().agency, before, &content, &decoded)
                .unwrap_err()
                .to_string()
                .contains("registered later")
        );
        // Another agency's key.
        let stranger = AgencyCode::parse("000.00.16.H51").unwrap();
        assert!(matches!(
            verify(&registered, &stranger, during, &content, &decoded),
            Err(SignatureError::OtherAgency { .. })
        ));
        assert_eq!(decode_signature("abc"), Err(SignatureError::Malformed));
    }
}
