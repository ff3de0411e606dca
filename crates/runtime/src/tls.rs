//! Transport security: every gRPC server and the gateway can serve TLS from
//! a PEM certificate and key, require client certificates (mutual TLS), and
//! verify the services they call against a configured CA. Plain text stays
//! the default for the one-machine setup.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use serde::Deserialize;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// TLS settings of one service; all paths are PEM files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Certificate chain this service serves; with `key_file`, turns TLS on.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// When set, gRPC clients must present a certificate signed by this CA.
    pub client_ca_file: Option<PathBuf>,
    /// CA that signs the services this one calls over `https://`.
    pub ca_file: Option<PathBuf>,
    /// Certificate and key presented to services that require mutual TLS.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("failed to read {what} {}", path.display()))
}

impl TlsConfig {
    /// Collects configuration mistakes.
    pub fn validate(&self, errors: &mut Vec<String>) {
        let pairs = [
            (
                "tls.cert_file",
                &self.cert_file,
                "tls.key_file",
                &self.key_file,
            ),
            (
                "tls.client_cert_file",
                &self.client_cert_file,
                "tls.client_key_file",
                &self.client_key_file,
            ),
        ];
        for (a, va, b, vb) in pairs {
            if va.is_some() != vb.is_some() {
                errors.push(format!("{a} and {b}: set both or neither"));
            }
        }
        if self.client_ca_file.is_some() && self.cert_file.is_none() {
            errors.push("tls.client_ca_file: needs tls.cert_file and tls.key_file (mutual TLS runs over TLS)".into());
        }
        for (field, path) in [
            ("tls.cert_file", &self.cert_file),
            ("tls.key_file", &self.key_file),
            ("tls.client_ca_file", &self.client_ca_file),
            ("tls.ca_file", &self.ca_file),
            ("tls.client_cert_file", &self.client_cert_file),
            ("tls.client_key_file", &self.client_key_file),
        ] {
            if let Some(path) = path
                && !path.is_file()
            {
                errors.push(format!("{field}: no file at {}", path.display()));
            }
        }
    }

    /// Whether this service serves TLS.
    pub fn serves_tls(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }

    /// tonic server settings, or `None` for plain text.
    pub fn grpc_server(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let mut config = ServerTlsConfig::new().identity(Identity::from_pem(
            read(cert, "TLS certificate")?,
            read(key, "TLS key")?,
        ));
        if let Some(ca) = &self.client_ca_file {
            config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
        }
        Ok(Some(config))
    }

    /// tonic client settings for `https://` URLs.
    pub fn grpc_client(&self) -> anyhow::Result<ClientTlsConfig> {
        let ca = self
            .ca_file
            .as_ref()
            .context("tls.ca_file is required to call https:// services")?;
        let mut config =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca, "CA")?));
        if let (Some(cert), Some(key)) = (&self.client_cert_file, &self.client_key_file) {
            config = config.identity(Identity::from_pem(
                read(cert, "client certificate")?,
                read(key, "client key")?,
            ));
        }
        Ok(config)
    }

    /// rustls settings for an HTTPS listener, or `None` for plain HTTP.
    pub fn https_server(&self) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
        let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .with_context(|| format!("failed to read TLS certificate {}", cert.display()))?;
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("failed to read TLS key {}", key.display()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("TLS certificate and key do not match")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}
