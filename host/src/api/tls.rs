//! HTTPS for the API: upstream's `SECRETS_RSTUF_SSL_CERT` and
//! `SECRETS_RSTUF_SSL_KEY` (PEM files: the certificate chain, leaf first,
//! and its private key), served with rustls.
//!
//! The files are read at start (a bad file stops the service with the
//! file named, as `rstuf-host check` does) and again on `SIGHUP`, so a
//! renewed certificate is picked up without a restart. A reload that
//! fails keeps the certificate being served and logs why: a half-written
//! renewal must never take the API down. Connections already open keep
//! the certificate they were made with.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path} (SECRETS_RSTUF_SSL_CERT): {source}")]
    Cert {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate file {0} (SECRETS_RSTUF_SSL_CERT) holds no PEM certificate")]
    NoCert(PathBuf),
    #[error("cannot read the TLS private key {path} (SECRETS_RSTUF_SSL_KEY): {source}; it must be a PEM PKCS#8, PKCS#1 or SEC1 key")]
    Key {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate {cert} and key {key} cannot be used together: {source}")]
    Config {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// The certificate and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Read both files into a server configuration.
pub fn load(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|source| TlsError::Key {
        path: files.key.clone(),
        source,
    })?;
    let config_error = |source| TlsError::Config {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    };
    // ring, chosen explicitly: more than one provider is compiled in
    // (reqwest's and the AWS SDK's), so there is no unambiguous default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(config_error)?;
    // HTTP/1.1 only: the listener's limits (header-read timeout, keep-alive
    // off on spare connections) are HTTP/1 settings; an HTTP/2 connection
    // would hold its slot without them.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Cert {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(path.to_path_buf()));
    }
    Ok(certs)
}

/// The configuration being served, replaced on reload.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

impl Tls {
    pub fn new(files: TlsFiles) -> Result<Tls, TlsError> {
        let current = RwLock::new(load(&files)?);
        Ok(Tls { files, current })
    }

    /// The configuration for a new connection.
    pub fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Read the files again; on error the served configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let next = load(&self.files)?;
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(())
    }

    /// Reload on every `SIGHUP` for as long as the process runs.
    pub fn reload_on_sighup(self: &Arc<Self>) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        let tls = self.clone();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match tls.reload() {
                    Ok(()) => tracing::info!(
                        "SIGHUP: reloaded the TLS certificate {}",
                        tls.files.cert.display()
                    ),
                    Err(e) => tracing::error!("SIGHUP: kept the previous TLS certificate: {e}"),
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert).unwrap();
        std::fs::write(&k, key).unwrap();
        TlsFiles { cert: c, key: k }
    }

    #[test]
    fn bad_files_are_named_with_what_they_must_be() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("absent.pem"),
            key: dir.path().join("absent.key"),
        };
        let e = load(&missing).unwrap_err().to_string();
        assert!(
            e.contains("absent.pem") && e.contains("SECRETS_RSTUF_SSL_CERT"),
            "{e}"
        );

        let e = load(&files(dir.path(), "not a certificate", "")).unwrap_err();
        assert!(matches!(e, TlsError::NoCert(_)), "{e}");

        // A certificate-shaped block and no key.
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = load(&files(dir.path(), cert, "no key here"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("key.pem") && e.contains("SECRETS_RSTUF_SSL_KEY"),
            "{e}"
        );
    }
}
