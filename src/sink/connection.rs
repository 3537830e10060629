//! How to reach ClickHouse: the settings `config` resolves and the sink connects with. They
//! live here, not in `config`, so the sink depends on nothing above it.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

use super::retry::RetryPolicy;

#[derive(Clone)]
pub struct ClickHouse {
    /// The endpoints as the user gave them, comma-separated: for messages.
    pub url: String,
    /// Each endpoint's URL, in the order they are tried.
    pub urls: Vec<String>,
    /// `--ch-cluster`: the schema is created ON CLUSTER in its cluster form.
    pub cluster: Option<String>,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// `CH_CA_FILE`: certificates trusted beside the bundled Mozilla roots, for a server
    /// whose certificate a private CA signed.
    pub ca: Option<CaCerts>,
    /// The largest answer read from ClickHouse, in bytes (`CH_MAX_RESPONSE`).
    pub max_response: u64,
}

/// The certificates of a `CH_CA_FILE`, read once when the settings are checked.
#[derive(Clone)]
pub struct CaCerts {
    pub path: PathBuf,
    pub certs: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for CaCerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} certificates)",
            self.path.display(),
            self.certs.len()
        )
    }
}

/// Far above a CA bundle (the system's whole bundle is about 200 KiB).
const MAX_CA_BYTES: u64 = 1024 * 1024;

impl CaCerts {
    /// Reads the PEM certificates of `path` (at most [`MAX_CA_BYTES`]); a file without any is
    /// refused, since trusting nothing new is surely not what was meant.
    pub fn load(path: &Path) -> Result<CaCerts> {
        let what = || {
            format!(
                "cannot read CH_CA_FILE {}: give a PEM file of the CA's certificate",
                path.display()
            )
        };
        let file = crate::smallfile::open_regular(path).with_context(what)?;
        if !file.metadata().with_context(what)?.is_file() {
            bail!(
                "CH_CA_FILE {} is not a regular file: give a PEM file of the CA's certificate",
                path.display()
            );
        }
        let mut bytes = Vec::new();
        file.take(MAX_CA_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(what)?;
        if bytes.len() as u64 > MAX_CA_BYTES {
            bail!(
                "CH_CA_FILE {} is larger than {} KiB: is it the right file?",
                path.display(),
                MAX_CA_BYTES / 1024
            );
        }
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .with_context(|| {
                format!(
                    "CH_CA_FILE {} is not PEM: give the CA's certificate as PEM \
                     (-----BEGIN CERTIFICATE-----)",
                    path.display()
                )
            })?;
        for (n, cert) in certs.iter().enumerate() {
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .with_context(|| {
                    format!(
                        "CH_CA_FILE {}: certificate {} cannot be used as a CA: give the CA's \
                         own certificate",
                        path.display(),
                        n + 1
                    )
                })?;
        }
        if certs.is_empty() {
            bail!(
                "CH_CA_FILE {} holds no certificate: give the CA's certificate as PEM \
                 (-----BEGIN CERTIFICATE-----)",
                path.display()
            );
        }
        Ok(CaCerts {
            path: path.to_path_buf(),
            certs,
        })
    }
}

impl fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouse")
            .field("url", &self.url)
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("ca", &self.ca)
            .field("retry", &self.retry)
            .field("max_response", &self.max_response)
            .finish()
    }
}

/// A password: usable, never printed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(password: String) -> Secret {
        Secret(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}
