//! HTTPS: the rustls server configuration (ring provider, ALPN `h2` + `http/1.1` added by
//! `http::serve`) and `dep-gateway dev-cert`, a self-signed certificate for local use.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::x509::{CertSpec, Usage};

/// File names `dev-cert` writes.
pub const DEV_CERT_FILE: &str = "dev-cert.pem";
/// The private key of [`DEV_CERT_FILE`].
pub const DEV_KEY_FILE: &str = "dev-key.pem";
const DEV_CERT_DAYS: i64 = 365;
/// Backdating of `notBefore` against clock skew between this host and its clients.
const BACKDATE_SECS: i64 = 600;

/// Loads a PEM certificate chain and its private key into a rustls server configuration;
/// every failure names the file and what is wrong with it.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("TLS certificate {} is not valid PEM", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "TLS certificate {} contains no PEM certificate",
        cert.display()
    );
    let private = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "TLS key {} is missing or holds no PEM private key",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .with_context(|| {
            format!(
                "TLS key {} does not fit certificate {}",
                key.display(),
                cert.display()
            )
        })
}

/// Writes a self-signed certificate for `localhost`, `127.0.0.1` and `::1` (ECDSA P-256,
/// valid for a year) and its key (mode 0600) into `dir`; returns their paths.
pub fn write_dev_cert(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (cert_pem, key_pem) = dev_cert()?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let cert_path = dir.join(DEV_CERT_FILE);
    let key_path = dir.join(DEV_KEY_FILE);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&key_path)
        .and_then(|mut f| f.write_all(&key_pem))
        .with_context(|| format!("writing {}", key_path.display()))?;
    fs::write(&cert_path, &cert_pem).with_context(|| format!("writing {}", cert_path.display()))?;
    Ok((cert_path, key_path))
}

/// A self-signed end-entity certificate and its PKCS#8 key, both PEM.
fn dev_cert() -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let now = chrono::Utc::now().timestamp();
    let spec = CertSpec {
        common_name: "dep-gateway development certificate",
        not_before: now - BACKDATE_SECS,
        not_after: now + DEV_CERT_DAYS * 86_400,
        usage: Usage::TlsServer {
            dns: &["localhost"],
            ips: &["127.0.0.1", "::1"],
        },
    };
    let cert = crate::x509::self_signed(&key, &key, &spec)?;
    Ok((cert.to_pem()?, key.private_key_to_pem_pkcs8()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_cert_loads_into_rustls() {
        let dir = std::env::temp_dir().join(format!("dep-gateway-tls-{}", uuid::Uuid::new_v4()));
        let (cert, key) = write_dev_cert(&dir).unwrap();
        server_config(&cert, &key).unwrap();
        // A key of another certificate is refused with both names.
        let other = dir.join("other");
        let (_, other_key) = write_dev_cert(&other).unwrap();
        let err = format!("{:#}", server_config(&cert, &other_key).unwrap_err());
        assert!(err.contains("does not fit"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
