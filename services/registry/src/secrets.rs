//! Client secrets: random, shown once, stored as Argon2id hashes.
//!
//! Argon2 is slow and memory-hard on purpose: one check with [`PARAMS`]
//! fills 19 MiB. Run freely (a blocking thread per login, each allocating
//! its own memory), 48 wrong logins at once left the process at 3.2 GB
//! resident: the allocator keeps what each thread's arena once held. So
//! every hash and check goes through one [`Hasher`]: at most `concurrency`
//! run at once, on blocking threads, the rest wait their turn on a
//! semaphore; and each runs in one of at most `concurrency` memory buffers,
//! allocated once and reused, so Argon2 never holds more than
//! `concurrency` × 19 MiB, whatever the allocator does.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng as SaltRng},
};
use chiso_runtime::{ServiceError, ServiceResult};
use rand::RngCore;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Argon2id, 19 MiB (19 456 KiB), 2 passes, 1 lane: the first of OWASP's
/// recommended Argon2id profiles, and the `argon2` crate's default, which
/// every stored hash was made with. Pinned here so that upgrading the crate
/// cannot change what a login costs without anyone deciding it.
pub const PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

/// The most memory a stored hash may ask for (64 MiB), so that a hash
/// written with other parameters cannot make one check allocate without
/// bound.
const MAX_BLOCKS: usize = 64 * 1024;

fn internal(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("{what}: {e}"))
}

/// 32 random bytes, hex-encoded.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A secret just generated, with its hash: made before the transaction
/// that stores it, so that no transaction waits for a turn to hash.
pub struct NewSecret {
    /// Shown to the client once.
    pub secret: String,
    pub hash: String,
}

/// Hashes and checks secrets, a bounded number at a time.
pub struct Hasher {
    argon2: Argon2<'static>,
    /// One per hash or check allowed to run at once ([`Turn`]).
    permits: Arc<Semaphore>,
    /// Argon2's working memory, one buffer per running hash at most.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// How many buffers were ever allocated (never more than the permits).
    allocated: Arc<AtomicUsize>,
    /// A hash no secret matches, checked when a client id is unknown so
    /// that an unknown id costs and takes what a wrong secret does, and
    /// answer times do not tell which client ids exist.
    decoy: String,
}

impl Hasher {
    /// A hasher running at most `concurrency` hashes at once.
    pub async fn start(concurrency: usize) -> ServiceResult<Self> {
        let (m_cost, t_cost, p_cost) = PARAMS;
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|e| internal("invalid Argon2 parameters", e))?;
        let mut hasher = Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            buffers: Arc::default(),
            allocated: Arc::default(),
            decoy: String::new(),
        };
        hasher.decoy = hasher.hash(generate_secret()).await?;
        Ok(hasher)
    }

    /// Waits for a turn to hash: a permit, held until dropped. A login
    /// takes its turn before it looks the client up, so that a burst of
    /// logins waits here, cheaply, rather than each loading its client and
    /// holding a database connection while it waits.
    pub async fn turn(&self) -> ServiceResult<Turn<'_>> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| internal("hashing pool closed", e))?;
        Ok(Turn {
            hasher: self,
            permit: Some(permit),
        })
    }

    /// Argon2id PHC string for `secret`.
    pub async fn hash(&self, secret: String) -> ServiceResult<String> {
        self.turn().await?.hash(secret).await
    }

    /// A fresh random secret and its hash.
    pub async fn new_secret(&self) -> ServiceResult<NewSecret> {
        let secret = generate_secret();
        let hash = self.hash(secret.clone()).await?;
        Ok(NewSecret { secret, hash })
    }

    /// Whether `secret` matches the stored PHC string.
    #[cfg(test)]
    async fn verify(&self, phc: &str, secret: &str) -> ServiceResult<bool> {
        self.turn().await?.verify(phc, secret).await
    }

    /// How many Argon2 buffers were ever allocated.
    #[cfg(test)]
    fn buffers_allocated(&self) -> usize {
        self.allocated.load(Ordering::Relaxed)
    }
}

/// A turn to hash ([`Hasher::turn`]): any number of hashes and checks, one
/// after the other.
pub struct Turn<'a> {
    hasher: &'a Hasher,
    /// Lent to each hash while it runs; `None` only after one panicked.
    permit: Option<OwnedSemaphorePermit>,
}

impl Turn<'_> {
    /// Argon2id PHC string for `secret`.
    pub async fn hash(&mut self, secret: String) -> ServiceResult<String> {
        let argon2 = self.hasher.argon2.clone();
        let salt = SaltString::generate(&mut SaltRng);
        self.run(move |memory| {
            let mut salt_bytes = [0u8; 64];
            let salt_bytes = salt
                .decode_b64(&mut salt_bytes)
                .map_err(|e| internal("failed to decode salt", e))?;
            let blocks = argon2.params().block_count();
            fit(memory, blocks);
            let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
                argon2
                    .hash_password_into_with_memory(
                        secret.as_bytes(),
                        salt_bytes,
                        out,
                        &mut memory[..blocks],
                    )
                    .map_err(Into::into)
            })
            .map_err(|e| internal("failed to hash secret", e))?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(argon2.params())
                    .map_err(|e| internal("failed to encode parameters", e))?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(phc.to_string())
        })
        .await?
    }

    /// Whether `secret` matches the stored PHC string.
    pub async fn verify(&mut self, phc: &str, secret: &str) -> ServiceResult<bool> {
        let stored = Stored::parse(phc)?;
        let secret = secret.to_owned();
        self.run(move |memory| stored.matches(secret.as_bytes(), memory))
            .await?
    }

    /// Checks `secret` against the decoy, for a client id that is unknown
    /// or revoked: always `false`, after as long as a real check.
    pub async fn verify_unknown(&mut self, secret: &str) -> ServiceResult<bool> {
        let decoy = self.hasher.decoy.clone();
        self.verify(&decoy, secret).await?;
        Ok(false)
    }

    /// Runs `work` on a blocking thread with a buffer of the pool. The
    /// permit and the buffer travel with the work, not with the caller: a
    /// caller that goes away (a client hanging up) leaves its hash running,
    /// and its permit taken, until the hash ends, so abandoned logins
    /// cannot pile up more hashes than there are permits.
    async fn run<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let permit = self
            .permit
            .take()
            .ok_or_else(|| internal("hashing turn lost", "an earlier hash panicked"))?;
        let (buffers, allocated) = (self.hasher.buffers.clone(), self.hasher.allocated.clone());
        let (result, permit) = tokio::task::spawn_blocking(move || {
            let pooled = buffers.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut memory = pooled.unwrap_or_else(|| {
                allocated.fetch_add(1, Ordering::Relaxed);
                Vec::new()
            });
            let result = work(&mut memory);
            buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
            (result, permit)
        })
        .await
        .map_err(|e| internal("hashing task failed", e))?;
        self.permit = Some(permit);
        Ok(result)
    }
}

/// Grows a pooled buffer to `blocks` (it never shrinks: the next hash
/// needs the same).
fn fit(memory: &mut Vec<Block>, blocks: usize) {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
}

/// A stored PHC string, parsed into what a check needs.
struct Stored {
    argon2: Argon2<'static>,
    salt: Vec<u8>,
    hash: Output,
}

impl Stored {
    fn parse(phc: &str) -> ServiceResult<Self> {
        let invalid = |e: argon2::password_hash::Error| internal("stored hash is invalid", e);
        let parsed = PasswordHash::new(phc).map_err(invalid)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(invalid)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| internal("stored hash is invalid", e))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(invalid)?;
        if params.block_count() > MAX_BLOCKS {
            return Err(internal(
                "stored hash is invalid",
                format!("it needs {} KiB of memory", params.m_cost()),
            ));
        }
        let salt = parsed
            .salt
            .ok_or_else(|| internal("stored hash is invalid", "no salt"))?;
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes).map_err(invalid)?.to_vec();
        let hash = parsed
            .hash
            .ok_or_else(|| internal("stored hash is invalid", "no hash"))?;
        Ok(Self {
            argon2: Argon2::new(algorithm, version, params),
            salt,
            hash,
        })
    }

    /// Whether `secret` hashes to the stored hash (compared in constant time).
    fn matches(&self, secret: &[u8], memory: &mut Vec<Block>) -> ServiceResult<bool> {
        let blocks = self.argon2.params().block_count();
        fit(memory, blocks);
        let computed = Output::init_with(self.hash.len(), |out| {
            self.argon2
                .hash_password_into_with_memory(secret, &self.salt, out, &mut memory[..blocks])
                .map_err(Into::into)
        })
        .map_err(|e| internal("failed to check secret", e))?;
        Ok(computed == self.hash)
    }
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;

    use super::*;

    #[tokio::test]
    async fn hashes_verify_with_the_pinned_parameters() {
        let hasher = Hasher::start(1).await.unwrap();
        let phc = hasher.hash("s3cret-s3cret".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify(&phc, "s3cret-s3cret").await.unwrap());
        assert!(!hasher.verify(&phc, "s3cret-s3cres").await.unwrap());
        let mut turn = hasher.turn().await.unwrap();
        assert!(!turn.verify_unknown("s3cret-s3cret").await.unwrap());
        assert!(turn.verify(&phc, "s3cret-s3cret").await.unwrap());
        drop(turn);
        let err = hasher.verify("$argon2id$x", "s").await.unwrap_err();
        assert!(matches!(err, ServiceError::Internal(_)), "{err:?}");
    }

    /// Every hash stored so far was made by `Argon2::default()` with the
    /// `password_hash` API; the pool checks them, and makes the same kind.
    #[tokio::test]
    async fn hashes_stored_before_the_pool_still_verify() {
        let salt = SaltString::generate(&mut SaltRng);
        let old = Argon2::default()
            .hash_password(b"an-older-secret", &salt)
            .unwrap()
            .to_string();
        let hasher = Hasher::start(1).await.unwrap();
        assert!(hasher.verify(&old, "an-older-secret").await.unwrap());
        assert!(!hasher.verify(&old, "another").await.unwrap());
        let new = hasher.hash("x".into()).await.unwrap();
        assert_eq!(old.split('$').nth(3), new.split('$').nth(3), "{old} {new}");
    }

    #[tokio::test]
    async fn memory_is_bounded_by_the_permits() {
        let hasher = Arc::new(Hasher::start(2).await.unwrap());
        let phc = hasher.hash("right".into()).await.unwrap();
        let checks = (0..12).map(|i| {
            let (hasher, phc) = (hasher.clone(), phc.clone());
            tokio::spawn(async move {
                let secret = if i == 7 { "right" } else { "wrong" };
                hasher.verify(&phc, secret).await.unwrap()
            })
        });
        let results = futures::future::join_all(checks).await;
        let matched: Vec<usize> = results
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| r.unwrap().then_some(i))
            .collect();
        assert_eq!(matched, [7]);
        assert!(
            hasher.buffers_allocated() <= 2,
            "{} buffers",
            hasher.buffers_allocated()
        );
    }

    #[tokio::test]
    async fn abandoned_checks_keep_their_permit_until_they_end() {
        let hasher = Hasher::start(1).await.unwrap();
        let phc = hasher.hash("right".into()).await.unwrap();
        // Started, then dropped by a caller that stopped waiting.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(1),
            hasher.verify(&phc, "wrong"),
        )
        .await;
        assert!(abandoned.is_err(), "one check takes longer than 1 ms");
        assert!(hasher.verify(&phc, "right").await.unwrap());
        assert_eq!(hasher.buffers_allocated(), 1);
    }
}
