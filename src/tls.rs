//! HTTPS: the rustls server configuration (ring provider, ALPN `h2` + `http/1.1` added by
//! actix-http) and `dep-gateway dev-cert`, a self-signed certificate for local use.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509NameBuilder};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// File names `dev-cert` writes.
pub const DEV_CERT_FILE: &str = "dev-cert.pem";
/// The private key of [`DEV_CERT_FILE`].
pub const DEV_KEY_FILE: &str = "dev-key.pem";
const DEV_CERT_DAYS: u32 = 365;

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
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, "dep-gateway development certificate")?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;

    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    let not_after = Asn1Time::days_from_now(DEV_CERT_DAYS)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    // An end-entity certificate (CA:FALSE): rustls/webpki clients refuse a CA certificate as
    // the server's own, while OpenSSL, Node and Python accept a trusted self-signed leaf.
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_agreement()
            .build()?,
    )?;
    builder.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .ip("::1")
        .build(&builder.x509v3_context(None, None))?;
    builder.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(None, None))?;
    builder.append_extension(aki)?;
    builder.sign(&key, MessageDigest::sha256())?;
    Ok((builder.build().to_pem()?, key.private_key_to_pem_pkcs8()?))
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
