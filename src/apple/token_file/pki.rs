//! Key pairs and certificates for server tokens: the MDM's RSA key with its self-signed
//! certificate (what `generateEncryptionPublicKey` hands to Apple Business Manager), and the
//! recipient certificate used when producing a token.

use anyhow::Context;
use chrono::Utc;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

use crate::x509::{CertSpec, Usage};

/// Validity of generated certificates. Apple only checks it at upload (reference §9.2), so it
/// follows `MicroMDM`'s year rather than `NanoDEP`'s one day, leaving admins time to upload.
pub const CERT_VALIDITY_DAYS: u32 = 365;

/// Backdating of `notBefore` against clock skew (`NanoDEP`: ten minutes).
const BACKDATE_SECS: i64 = 600;

/// Generates an RSA-2048 key and a self-signed X.509 v3 certificate (SHA-256, subject and
/// issuer `CN=<common_name>`, random positive 127-bit serial, `notBefore` now − 10 min,
/// `notAfter` now + [`CERT_VALIDITY_DAYS`], key usage keyEncipherment + digitalSignature,
/// `CA:FALSE`). Returns `(PKCS#8 private key PEM, certificate PEM)`.
pub fn generate_key_and_certificate(common_name: &str) -> anyhow::Result<(String, String)> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let cert = self_signed(&key, &key, common_name)?;
    let key_pem = String::from_utf8(key.private_key_to_pem_pkcs8()?)?;
    let cert_pem = String::from_utf8(cert.to_pem()?)?;
    Ok((key_pem, cert_pem))
}

/// The recipient of a token: a PEM certificate, or a bare PEM public key wrapped in a
/// throw-away certificate signed by an ephemeral key.
pub(super) fn recipient_certificate(pem: &str) -> anyhow::Result<X509> {
    if let Ok(cert) = X509::from_pem(pem.as_bytes()) {
        return Ok(cert);
    }
    let public: PKey<Public> = PKey::public_key_from_pem(pem.as_bytes())
        .context("the recipient PEM is neither a certificate nor a public key")?;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let signer = PKey::from_ec_key(EcKey::generate(&group)?)?;
    self_signed(&public, &signer, "dep-token-recipient")
}

/// A [`crate::x509::self_signed`] key-encipherment certificate valid from ten minutes ago for
/// [`CERT_VALIDITY_DAYS`].
fn self_signed<T: HasPublic>(
    subject_key: &PKeyRef<T>,
    signer: &PKeyRef<Private>,
    common_name: &str,
) -> anyhow::Result<X509> {
    let now = Utc::now().timestamp();
    let spec = CertSpec {
        common_name,
        not_before: now - BACKDATE_SECS,
        not_after: now + i64::from(CERT_VALIDITY_DAYS) * 86_400,
        usage: Usage::KeyEncipherment,
    };
    Ok(crate::x509::self_signed(subject_key, signer, &spec)?)
}
