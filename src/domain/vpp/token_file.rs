//! Apple's `.vpptoken` file: a base64 JSON document holding the token, its expiry and the
//! organisation. Parsed once on upload; the content itself is a secret.

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::super::ValidationError;
use super::super::time::{parse_ticks, to_ticks};

/// The `.vpptoken` content as uploaded. A secret: `Debug` redacts it and it serialises as null.
#[derive(Clone, PartialEq, Eq)]
pub struct VppSecret(String);

impl VppSecret {
    /// Wraps stored content.
    pub fn new(content: String) -> Self {
        Self(content)
    }

    /// The content, for storage only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VppSecret([redacted])")
    }
}

/// GRAPH-COMPAT: `token` is a declared (nullable) property, so SDK models keep their full
/// shape, but its value is never sent back: it is always `null`.
impl Serialize for VppSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// What a `.vpptoken` file says about its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VppTokenFile {
    /// `orgName`.
    pub organization_name: String,
    /// `expDate`, in ticks.
    pub expiration: i64,
    /// SHA-256 (hex) of the inner `token`: recognises a token uploaded twice.
    pub fingerprint: String,
}

/// Base64 as Apple writes it, padding optional.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a `.vpptoken` file: Base64 of `{"token": "…", "expDate": "2027-05-06T10:15:30-0700",
/// "orgName": "…"}` (Apple, "Managing Apps and Books Through Web Services"). Messages never
/// quote the secret.
pub fn parse_vpptoken(content: &str) -> Result<VppTokenFile, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::new(format!(
            "The property 'token' is not a valid .vpptoken file: {why}."
        ))
    };
    let compact: String = content
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(invalid("it is empty"));
    }
    let bytes = LENIENT
        .decode(compact)
        .map_err(|_| invalid("it is not Base64 text (upload the file's content unchanged)"))?;
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(invalid("its decoded content is not a JSON object"));
    };
    let text = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(&format!("'{key}' is missing or empty")))
    };
    let (token, organization_name, exp_date) = (text("token")?, text("orgName")?, text("expDate")?);
    let expiration = parse_exp_date(exp_date).ok_or_else(|| {
        invalid(&format!(
            "'expDate' '{}' is not an ISO 8601 date and time",
            exp_date.chars().take(64).collect::<String>()
        ))
    })?;
    Ok(VppTokenFile {
        organization_name: organization_name.to_owned(),
        expiration,
        fingerprint: format!("{:x}", Sha256::digest(token.as_bytes())),
    })
}

/// Apple writes `2014-08-15T18:13:52-0700` (no colon in the offset); RFC 3339 is accepted too.
fn parse_exp_date(s: &str) -> Option<i64> {
    parse_ticks(s).or_else(|| {
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .ok()
            .map(|t| to_ticks(t.with_timezone(&Utc)))
    })
}
