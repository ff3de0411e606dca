//! Ed25519 public keys agencies sign their reports with, as submitted:
//! base64 of the 32 raw bytes, or a PEM `PUBLIC KEY` (SPKI).

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use ed25519_dalek::{VerifyingKey, pkcs8::DecodePublicKey};

/// A usable Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(
                "is required: an Ed25519 public key, base64 of its 32 bytes or a PEM PUBLIC KEY"
                    .into(),
            );
        }
        let key = if s.starts_with("-----BEGIN") {
            VerifyingKey::from_public_key_pem(s)
                .map_err(|_| "is not a PEM-encoded Ed25519 public key (SPKI)".to_owned())?
        } else {
            let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(s).ok())
                .ok_or_else(|| "is neither base64 nor PEM".to_owned())?;
            let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                format!("an Ed25519 public key is 32 bytes, this is {}", bytes.len())
            })?;
            VerifyingKey::from_bytes(&bytes)
                .map_err(|_| "is not a point on the Ed25519 curve".to_owned())?
        };
        if key.is_weak() {
            return Err(
                "is a weak key (of small order) that would accept forged signatures".into(),
            );
        }
        Ok(Self(key))
    }

    /// The canonical form stored and returned: standard base64 of the 32 bytes.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{SigningKey, pkcs8::EncodePublicKey};

    use super::*;

    #[test]
    fn reads_base64_and_pem_alike() {
        let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let b64 = STANDARD.encode(key.as_bytes());
        let pem = key
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        let url = URL_SAFE_NO_PAD.encode(key.as_bytes());
        for raw in [b64.as_str(), pem.as_str(), url.as_str()] {
            assert_eq!(PublicKey::parse(raw).unwrap().to_base64(), b64, "{raw}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_key() {
        let identity = STANDARD.encode(
            [1u8]
                .iter()
                .chain([0u8; 31].iter())
                .copied()
                .collect::<Vec<_>>(),
        );
        for (raw, why) in [
            ("", "required"),
            ("not base64!", "neither"),
            (&STANDARD.encode([1u8; 16]), "32 bytes"),
            (identity.as_str(), "weak"),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                "PEM",
            ),
        ] {
            let err = PublicKey::parse(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
        }
    }
}
