//! Named profiles under the user's config folder
//! (`$XDG_CONFIG_HOME/chiso/`, by default `~/.config/chiso/`): where the
//! server is, the client credentials, the cached token and the signing key.
//! The folders are 0700 and every file 0600: a profile holds a secret.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::error::{CliError, CliResult};

/// The folders of one user's client state.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// One profile: a server and who this client is there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// The gateway's base URL, e.g. `https://chiso.example.gov.vn`.
    pub url: String,
    pub client_id: String,
    /// Kept to renew tokens; the file is readable by its owner only.
    pub client_secret: String,
    /// CA certificate (PEM) the server's certificate is checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// As the token endpoint said at login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    /// The registered signing key's id (`chiso keys register`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// A bearer token and when it stops working (Unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedToken {
    pub access_token: String,
    pub expires_at: i64,
}

impl CachedToken {
    /// Renewed this long before it expires, so a request never carries a
    /// token that dies on the way.
    pub const MARGIN_SECS: i64 = 60;

    pub fn is_fresh(&self, now: i64) -> bool {
        self.expires_at - now > Self::MARGIN_SECS
    }
}

/// A profile name: letters, digits, `-` and `_`, as it names files.
pub fn check_name(name: &str) -> CliResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "profile name `{name}`: use letters, digits, - and _ (at most 64)"
        )))
    }
}

impl Home {
    /// `$XDG_CONFIG_HOME/chiso` (or the platform's config folder).
    pub fn locate() -> CliResult<Self> {
        use etcetera::BaseStrategy;
        let base = etcetera::choose_base_strategy()
            .map_err(|e| CliError::usage(format!("no home folder: {e}")))?;
        Ok(Self::at(base.config_dir().join("chiso")))
    }

    pub fn at(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn profile_file(&self, name: &str) -> PathBuf {
        self.root.join("profiles").join(format!("{name}.toml"))
    }

    fn token_file(&self, name: &str) -> PathBuf {
        self.root.join("tokens").join(format!("{name}.json"))
    }

    /// The private (PKCS#8 PEM) and public (SPKI PEM) signing key files.
    pub fn key_files(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = self.root.join("keys");
        (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.pub.pem")),
        )
    }

    pub fn load(&self, name: &str) -> CliResult<Profile> {
        check_name(name)?;
        let file = self.profile_file(name);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::usage(format!(
                    "no profile `{name}` ({}): run `chiso login URL --client-id ID` first",
                    file.display()
                )));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to read {}", file.display()))
                    .into());
            }
        };
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid profile", file.display()))
            .map_err(Into::into)
    }

    pub fn save(&self, name: &str, profile: &Profile) -> CliResult<PathBuf> {
        check_name(name)?;
        let file = self.profile_file(name);
        let text = toml::to_string(profile).context("failed to write the profile")?;
        write_private(&file, text.as_bytes())?;
        Ok(file)
    }

    /// Removes the profile and its token; says whether there was one.
    pub fn remove(&self, name: &str) -> CliResult<bool> {
        check_name(name)?;
        let mut removed = false;
        for file in [self.profile_file(name), self.token_file(name)] {
            match std::fs::remove_file(&file) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("failed to remove {}", file.display()))
                        .into());
                }
            }
        }
        Ok(removed)
    }

    /// The cached token, if any and readable.
    pub fn token(&self, name: &str) -> Option<CachedToken> {
        let text = std::fs::read_to_string(self.token_file(name)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn save_token(&self, name: &str, token: &CachedToken) -> CliResult<()> {
        let text = serde_json::to_vec(token).context("failed to write the token")?;
        write_private(&self.token_file(name), &text)
    }
}

/// Creates `dir` and its parents readable by their owner only.
pub fn private_dir(dir: &Path) -> CliResult<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("failed to create {}", dir.display()))?;
    // An existing folder keeps its mode under `create`: tighten it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("failed to restrict {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `file` (mode 0600) through a temporary file and a rename, so a
/// reader never sees half of it and the secret is never world-readable.
pub fn write_private(file: &Path, bytes: &[u8]) -> CliResult<()> {
    let dir = file.parent().context("a file has a folder")?;
    private_dir(dir)?;
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, file)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e)
            .context(format!("failed to write {}", file.display()))
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            url: "http://127.0.0.1:8080".into(),
            client_id: "agency-1".into(),
            client_secret: "s3cret".into(),
            ca_file: None,
            role: Some("agency_reporter".into()),
            agency_code: Some("000.00.15.H51".into()),
            province_code: Some("51".into()),
            key_id: None,
        }
    }

    #[test]
    fn profiles_round_trip_private() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("chiso"));
        let file = home.save("work", &profile()).unwrap();
        let loaded = home.load("work").unwrap();
        assert_eq!(loaded.client_secret, "s3cret");
        assert_eq!(loaded.agency_code.as_deref(), Some("000.00.15.H51"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
            assert_eq!(mode(home.root()), 0o700);
        }
        home.save_token(
            "work",
            &CachedToken {
                access_token: "t".into(),
                expires_at: 100,
            },
        )
        .unwrap();
        assert_eq!(home.token("work").unwrap().expires_at, 100);
        assert!(home.remove("work").unwrap());
        assert!(matches!(home.load("work"), Err(CliError::Usage(_))));
        assert!(home.token("work").is_none());
    }

    #[test]
    fn names_are_file_safe() {
        assert!(check_name("default").is_ok());
        assert!(check_name("so-tttt_51").is_ok());
        for bad in ["", "../x", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_renewed_a_minute_early() {
        let token = CachedToken {
            access_token: "t".into(),
            expires_at: 1_000,
        };
        assert!(token.is_fresh(900));
        assert!(!token.is_fresh(941));
    }
}
