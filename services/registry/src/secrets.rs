//! Client secrets: random, shown once, stored as Argon2id hashes. Hashing is
//! deliberately slow, so it runs off the async runtime.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use chiso_runtime::{ServiceError, ServiceResult};
use rand::RngCore;

/// 32 random bytes, hex-encoded.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id PHC string for `secret`.
pub async fn hash(secret: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("failed to hash secret: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
}

/// Whether `secret` matches the stored PHC string.
pub async fn verify(phc: String, secret: String) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored hash is invalid: {e}")))?;
        Ok(Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
}
