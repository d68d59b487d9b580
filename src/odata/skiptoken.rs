//! Opaque, tamper-evident `$skiptoken` values: base64url (no padding) of the cursor as compact
//! JSON followed by a 16-byte HMAC-SHA256 tag over a fingerprint of the query and the cursor.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::ODataError;
use super::paging::PageCursor;
use super::sql::SqlValue;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the HMAC tag kept in a token.
const TAG_LEN: usize = 16;

/// Longest token accepted before decoding.
const MAX_TOKEN_LEN: usize = 4096;

/// The gateway-wide secret that signs skip tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct PagingKey(pub [u8; 32]);

impl fmt::Debug for PagingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PagingKey(<redacted>)")
    }
}

/// Signs a cursor for use as `$skiptoken`. `fingerprint` binds it to one query (e.g. resource
/// path + normalised `$orderby` + `$filter`, see `QueryOptions::paging_fingerprint`).
pub fn encode_skiptoken(cursor: &PageCursor, fingerprint: &str, key: &PagingKey) -> String {
    let json: Vec<Value> = cursor.values.iter().map(to_json).collect();
    let mut bytes = Value::Array(json).to_string().into_bytes();
    let tag = mac(key, fingerprint, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Verifies and decodes a `$skiptoken`; any tampering, other key or other fingerprint fails.
pub fn decode_skiptoken(
    token: &str,
    fingerprint: &str,
    key: &PagingKey,
) -> Result<PageCursor, ODataError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(ODataError::InvalidSkipToken);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| ODataError::InvalidSkipToken)?;
    let Some(split) = bytes.len().checked_sub(TAG_LEN) else {
        return Err(ODataError::InvalidSkipToken);
    };
    let (payload, tag) = bytes.split_at(split);
    mac(key, fingerprint, payload)
        .verify_truncated_left(tag)
        .map_err(|_| ODataError::InvalidSkipToken)?;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(payload) else {
        return Err(ODataError::InvalidSkipToken);
    };
    let values = items
        .iter()
        .map(from_json)
        .collect::<Option<Vec<_>>>()
        .ok_or(ODataError::InvalidSkipToken)?;
    Ok(PageCursor { values })
}

fn mac(key: &PagingKey, fingerprint: &str, payload: &[u8]) -> HmacSha256 {
    // HMAC zero-pads keys shorter than the 64-byte block, so this equals keying with the 32 bytes,
    // without the fallible `new_from_slice`.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&key.0);
    let mut mac = <HmacSha256 as Mac>::new(&block.into());
    let len = u64::try_from(fingerprint.len()).unwrap_or(u64::MAX);
    mac.update(&len.to_be_bytes());
    mac.update(fingerprint.as_bytes());
    mac.update(payload);
    mac
}

fn to_json(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Text(s) => Value::String(s.clone()),
        SqlValue::Int(n) => Value::from(*n),
        SqlValue::Bool(b) => Value::Bool(*b),
    }
}

fn from_json(value: &Value) -> Option<SqlValue> {
    match value {
        Value::Null => Some(SqlValue::Null),
        Value::String(s) => Some(SqlValue::Text(s.clone())),
        Value::Number(n) => n.as_i64().map(SqlValue::Int),
        Value::Bool(b) => Some(SqlValue::Bool(*b)),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> PageCursor {
        PageCursor {
            values: vec![
                SqlValue::Text("to{k}en é".into()),
                SqlValue::Int(i64::MIN),
                SqlValue::Bool(true),
                SqlValue::Null,
            ],
        }
    }

    const KEY: PagingKey = PagingKey([7; 32]);

    #[test]
    fn round_trips_url_safe() {
        let token = encode_skiptoken(&cursor(), "/fp", &KEY);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{token}"
        );
        assert_eq!(decode_skiptoken(&token, "/fp", &KEY), Ok(cursor()));
    }

    #[test]
    fn rejects_tampering_other_fingerprint_and_other_key() {
        let token = encode_skiptoken(&cursor(), "/fp", &KEY);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in [0, bytes.len() / 2, bytes.len() - 1] {
            bytes[i] ^= 1;
            let tampered = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(
                decode_skiptoken(&tampered, "/fp", &KEY),
                Err(ODataError::InvalidSkipToken)
            );
            bytes[i] ^= 1;
        }
        assert_eq!(
            decode_skiptoken(&token, "/other", &KEY),
            Err(ODataError::InvalidSkipToken)
        );
        assert_eq!(
            decode_skiptoken(&token, "/fp", &PagingKey([8; 32])),
            Err(ODataError::InvalidSkipToken)
        );
        for junk in [
            "",
            "abc",
            "!!!!",
            &"A".repeat(5000),
            &token[..token.len() - 2],
        ] {
            assert_eq!(
                decode_skiptoken(junk, "/fp", &KEY),
                Err(ODataError::InvalidSkipToken),
                "{junk}"
            );
        }
        assert_eq!(
            ODataError::InvalidSkipToken.to_string(),
            "The $skiptoken is invalid or has expired."
        );
    }

    #[test]
    fn key_debug_is_redacted() {
        assert_eq!(format!("{KEY:?}"), "PagingKey(<redacted>)");
    }
}
