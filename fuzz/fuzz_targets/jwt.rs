//! Bearer tokens as every service verifies them, with one fixed Ed25519 key.
//! The first byte picks the input's shape:
//! - even: the rest is a token string as a client sends it. It must never
//!   panic, and it verifies only if it carries a genuine signature by the
//!   key (the fuzzer may replay a token it saw signed, never forge one);
//! - odd: the rest is a claims payload, or `header\npayload`, which the
//!   target signs with the key, so the claim checks behind the signature
//!   (times, lifetime, role, agency and province codes) see any JSON.
//!   A token that verifies says what its claims say, and lives at most
//!   the 15 minutes a token may.
#![no_main]

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chiso_runtime::auth::{MAX_TOKEN_TTL, PublicKey, TokenVerifier};
use ed25519_dalek::{
    Signer, SigningKey, Verifier,
    pkcs8::{EncodePublicKey, spki::der::pem::LineEnding},
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    signing: SigningKey,
    kid: String,
    verifier: TokenVerifier,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let signing = SigningKey::from_bytes(&[7; 32]);
    let pem = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let kid = PublicKey::from_pem(pem.as_bytes()).unwrap().kid().to_owned();
    let verifier = TokenVerifier::from_pem(pem.as_bytes()).unwrap();
    Fixture {
        signing,
        kid,
        verifier,
    }
});

/// True when `token` is `header.payload.signature` signed by the key.
fn genuinely_signed(token: &str) -> bool {
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(&signature) else {
        return false;
    };
    FIXTURE
        .signing
        .verifying_key()
        .verify(signed.as_bytes(), &signature)
        .is_ok()
}

fn sign(header: &[u8], payload: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = FIXTURE.signing.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        assert!(
            FIXTURE.verifier.verify(&token).is_err() || genuinely_signed(&token),
            "a token verified without the key's signature"
        );
        assert!(
            FIXTURE.verifier.verify_header(&token).is_err()
                || token
                    .split_once(' ')
                    .is_some_and(|(_, t)| genuinely_signed(t.trim())),
            "a header verified without the key's signature"
        );
        return;
    }
    let default_header = format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#, FIXTURE.kid);
    let (header, payload) = match rest.iter().position(|b| *b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (default_header.as_bytes(), rest),
    };
    let token = sign(header, payload);
    let Ok(principal) = FIXTURE.verifier.verify(&token) else {
        return;
    };
    // The verifier reads its own claims and skips the others unread, so a
    // claim it does not know may hold what serde_json's Value refuses (a lone
    // surrogate escape, found by this target): only a token we signed gets
    // here, and nothing reads such a claim.
    let Ok(claims) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    assert_eq!(claims["sub"].as_str(), Some(principal.subject.as_str()));
    assert_eq!(claims["role"].as_str(), Some(principal.role.as_str()));
    let (exp, iat) = (claims["exp"].as_i64().unwrap(), claims["iat"].as_i64().unwrap());
    assert!(
        i128::from(exp) - i128::from(iat) <= i128::from(MAX_TOKEN_TTL.as_secs()),
        "a token living from {iat} to {exp} verified"
    );
    match &principal.agency {
        Some(a) => assert_eq!(claims["agency"].as_str(), Some(a.as_str())),
        None => assert!(claims.get("agency").is_none_or(Value::is_null)),
    }
});
