//! Apple server token files (`*_smime.p7m`): producing them as Apple Business Manager does and
//! reading them back with the MDM's private key.
//!
//! **What a token holds** (reference §9.4): a small MIME entity,
//! `Content-Type: text/plain;charset=UTF-8` / `Content-Transfer-Encoding: 7bit`, a blank line,
//! then `-----BEGIN MESSAGE-----`, one line of OAuth JSON (`consumer_key`, `consumer_secret`,
//! `access_token`, `access_secret`, `access_token_expiry`) and `-----END MESSAGE-----`.
//!
//! **What [`make_server_token_p7m`] writes** (reference §9.3): that payload in a PKCS#7 / CMS
//! `EnvelopedData` encrypted to the recipient certificate (RSA key transport, AES-256-CBC or
//! DES-EDE3-CBC content encryption), as an S/MIME entity with Apple's four headers
//! (`Content-Type: application/pkcs7-mime; name="smime.p7m"; smime-type=enveloped-data`,
//! `Content-Transfer-Encoding: base64`, `Content-Disposition`, `Content-Description`), a blank
//! line and base64 wrapped at 76 columns. The default encoding is **BER with indefinite
//! lengths** (`30 80 …`, end-of-contents octets), produced through OpenSSL's streaming S/MIME
//! writer exactly like `openssl smime -encrypt -stream`; [`TokenEncoding::Der`] gives DER.
//!
//! **What [`read_server_token_p7m`] accepts**: that S/MIME text (any headers), OpenSSL's own
//! S/MIME output, PEM (`-----BEGIN PKCS7-----`), bare base64, and — through
//! [`read_server_token_bytes`] — raw DER or BER.

mod container;
mod payload;
mod pki;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use openssl::cms::CmsContentInfo;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::apple::oauth::{OAuthKeys, lower_hex};
use container::{base64_body, container_bytes};

pub use payload::{parse_token_payload, token_payload};
pub use pki::{CERT_VALIDITY_DAYS, generate_key_and_certificate};

/// The decrypted content of a server token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTokenCredentials {
    /// `CK_…`.
    pub consumer_key: String,
    /// `CS_…`.
    pub consumer_secret: String,
    /// `AT_…`.
    pub access_token: String,
    /// `AS_…`.
    pub access_secret: String,
    /// When Apple stops accepting the token (download time + 1 year).
    #[serde(with = "whole_seconds")]
    pub access_token_expiry: DateTime<Utc>,
}

impl fmt::Debug for ServerTokenCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTokenCredentials")
            .field("consumer_key", &self.consumer_key)
            .field("access_token_expiry", &self.access_token_expiry)
            .finish_non_exhaustive()
    }
}

impl ServerTokenCredentials {
    /// Fresh random credentials shaped like Apple's (prefix + 128 hex characters).
    pub fn generate(access_token_expiry: DateTime<Utc>) -> Self {
        Self {
            consumer_key: random_secret("CK_"),
            consumer_secret: random_secret("CS_"),
            access_token: random_secret("AT_"),
            access_secret: random_secret("AS_"),
            access_token_expiry,
        }
    }

    /// The values the OAuth signer needs.
    pub fn oauth_keys(&self) -> OAuthKeys<'_> {
        OAuthKeys {
            consumer_key: &self.consumer_key,
            consumer_secret: &self.consumer_secret,
            access_token: &self.access_token,
            access_secret: &self.access_secret,
        }
    }
}

/// `prefix` followed by 128 random hex characters.
pub fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 64] = rand::rng().random();
    format!("{prefix}{}", lower_hex(&bytes))
}

/// Content-encryption algorithm of a produced token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCipher {
    /// AES-256 in CBC mode.
    Aes256Cbc,
    /// Triple DES (DES-EDE3) in CBC mode.
    Des3Cbc,
}

impl TokenCipher {
    fn openssl(self) -> Cipher {
        match self {
            Self::Aes256Cbc => Cipher::aes_256_cbc(),
            Self::Des3Cbc => Cipher::des_ede3_cbc(),
        }
    }
}

/// ASN.1 encoding of a produced token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenEncoding {
    /// BER with indefinite lengths, as in Apple's files.
    #[default]
    Ber,
    /// DER (definite lengths).
    Der,
}

/// Why a token file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFileError {
    /// Not a PKCS#7 / CMS enveloped-data token in any accepted form.
    #[error("the file is not an S/MIME encrypted server token")]
    Garbage,
    /// It starts like a token but ends early.
    #[error("the server token is truncated")]
    Truncated,
    /// It was not encrypted to this key pair.
    #[error("the server token was not encrypted to this key")]
    WrongKey,
    /// The private key or certificate PEM is unusable, or they do not belong together.
    #[error("invalid key material: {0}")]
    InvalidKeyMaterial(String),
    /// It decrypted, but the content is not Apple's OAuth payload.
    #[error("the decrypted server token is not valid: {0}")]
    InvalidPayload(String),
    /// The token's `access_token_expiry` has passed (see [`check_not_expired`]).
    #[error("the server token expired at {0}")]
    Expired(DateTime<Utc>),
}

/// Encrypts `creds` to `recipient_cert_pem` as an Apple-style BER S/MIME `.p7m` text.
///
/// `recipient_cert_pem` is a PEM certificate; a bare PEM public key is accepted too (a
/// throw-away certificate carries it, so readers must then try the key without a certificate
/// match, as [`read_server_token_p7m`] does).
pub fn make_server_token_p7m(
    creds: &ServerTokenCredentials,
    recipient_cert_pem: &str,
    cipher: TokenCipher,
) -> anyhow::Result<String> {
    make_server_token_p7m_with(creds, recipient_cert_pem, cipher, TokenEncoding::Ber)
}

/// [`make_server_token_p7m`] with a chosen ASN.1 encoding.
pub fn make_server_token_p7m_with(
    creds: &ServerTokenCredentials,
    recipient_cert_pem: &str,
    cipher: TokenCipher,
    encoding: TokenEncoding,
) -> anyhow::Result<String> {
    let mut recipients = Stack::new()?;
    recipients.push(pki::recipient_certificate(recipient_cert_pem)?)?;
    let payload = token_payload(creds);
    let input = payload.as_bytes();
    let der = match encoding {
        TokenEncoding::Der => {
            Pkcs7::encrypt(&recipients, input, cipher.openssl(), Pkcs7Flags::BINARY)?.to_der()?
        }
        TokenEncoding::Ber => {
            // STREAM defers encryption to the S/MIME writer, which emits indefinite lengths.
            let flags = Pkcs7Flags::BINARY | Pkcs7Flags::STREAM;
            let p7 = Pkcs7::encrypt(&recipients, input, cipher.openssl(), flags)?;
            let smime = String::from_utf8(p7.to_smime(input, flags)?)?;
            base64_body(&smime).ok_or_else(|| anyhow::anyhow!("unexpected S/MIME output"))?
        }
    };
    Ok(apple_smime(&der))
}

fn apple_smime(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n\
         Content-Transfer-Encoding: base64\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\n\
         Content-Description: S/MIME Encrypted Message\n\n",
    );
    for line in b64.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out
}

/// Decrypts a `.p7m` text (S/MIME, PEM or bare base64) with the MDM's key pair and parses it.
/// Expiry is not checked here; call [`check_not_expired`].
pub fn read_server_token_p7m(
    p7m: &str,
    private_key_pem: &str,
    cert_pem: &str,
) -> Result<ServerTokenCredentials, TokenFileError> {
    read_server_token_bytes(p7m.as_bytes(), private_key_pem, cert_pem)
}

/// [`read_server_token_p7m`] for any input form, raw DER/BER included.
pub fn read_server_token_bytes(
    p7m: &[u8],
    private_key_pem: &str,
    cert_pem: &str,
) -> Result<ServerTokenCredentials, TokenFileError> {
    let invalid = |what: &str| TokenFileError::InvalidKeyMaterial(what.to_owned());
    let pkey = PKey::private_key_from_pem(private_key_pem.as_bytes())
        .map_err(|_| invalid("unreadable private key PEM"))?;
    let cert =
        X509::from_pem(cert_pem.as_bytes()).map_err(|_| invalid("unreadable certificate PEM"))?;
    let matches = cert.public_key().is_ok_and(|k| k.public_eq(&pkey));
    if !matches {
        return Err(invalid(
            "the private key does not belong to the certificate",
        ));
    }
    let der = container_bytes(p7m)?;
    let cms = CmsContentInfo::from_der(&der).map_err(|_| TokenFileError::Truncated)?;
    if let Ok(plain) = cms.decrypt(&pkey, &cert) {
        return parse_token_payload(&String::from_utf8_lossy(&plain));
    }
    // No recipient matched the certificate (e.g. a token made for the bare public key): try the
    // key on every recipient. A wrong key then yields a decryption error or noise.
    cms.decrypt_without_cert_check(&pkey)
        .ok()
        .and_then(|plain| parse_token_payload(&String::from_utf8_lossy(&plain)).ok())
        .ok_or(TokenFileError::WrongKey)
}

/// `Err(Expired)` when `creds` expired at or before `now`.
pub fn check_not_expired(
    creds: &ServerTokenCredentials,
    now: DateTime<Utc>,
) -> Result<(), TokenFileError> {
    if creds.access_token_expiry <= now {
        return Err(TokenFileError::Expired(creds.access_token_expiry));
    }
    Ok(())
}

/// `access_token_expiry` as Apple writes it: RFC 3339 in UTC, whole seconds, `Z`.
mod whole_seconds {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
