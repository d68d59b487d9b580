//! Opaque, tamper-evident cursors: a compact JSON position in one server's change log, followed
//! by a truncated HMAC-SHA256 tag, all base64url. The key lives in the (persisted) state, so
//! cursors survive a restart; a modified, foreign or oversized cursor is `INVALID_CURSOR`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Apple: cursors are at most 1000 characters (reference §5).
pub(crate) const MAX_CURSOR_LEN: usize = 1000;
const TAG_LEN: usize = 16;

/// A position in a server's change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// The MDM server it belongs to.
    #[serde(rename = "s")]
    pub server: String,
    /// Last change-log sequence number covered. For a fetch: the log end when it started.
    #[serde(rename = "q")]
    pub seq: u64,
    /// During a full fetch with more to follow: the last serial number returned.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Issue time (Unix seconds), for `EXPIRED_CURSOR`.
    #[serde(rename = "t")]
    pub issued: i64,
}

fn mac(key: &[u8], payload: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(payload);
    Some(mac)
}

/// Encodes `cursor` under `key`.
pub(crate) fn encode(key: &[u8], cursor: &Cursor) -> String {
    // A struct of strings and integers always serialises.
    let mut bytes = serde_json::to_vec(cursor).unwrap_or_default();
    let tag = mac(key, &bytes)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    bytes.extend_from_slice(&tag[..TAG_LEN.min(tag.len())]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes and authenticates `text`; `None` for anything not issued under `key`.
pub(crate) fn decode(key: &[u8], text: &str) -> Option<Cursor> {
    if text.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    let split = bytes.len().checked_sub(TAG_LEN)?;
    let (payload, tag) = bytes.split_at(split);
    mac(key, payload)?.verify_truncated_left(tag).ok()?;
    serde_json::from_slice(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor {
            server: "F6E1E81A93837E1E87D6F4D99E235117".into(),
            seq: 42,
            after: Some("C02T0HL0GGC0".into()),
            issued: 1_700_000_000,
        }
    }

    #[test]
    fn round_trips_and_stays_short() {
        let text = encode(b"key", &sample());
        assert!(text.len() < 200, "{}", text.len());
        assert!(!text.contains("F6E1E81A"), "opaque");
        assert_eq!(decode(b"key", &text), Some(sample()));
        let sync = Cursor {
            after: None,
            ..sample()
        };
        assert_eq!(decode(b"key", &encode(b"key", &sync)), Some(sync));
    }

    #[test]
    fn rejects_tampering_other_keys_and_junk() {
        let text = encode(b"key", &sample());
        assert_eq!(decode(b"other", &text), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        bytes[10] ^= 1;
        assert_eq!(decode(b"key", &URL_SAFE_NO_PAD.encode(&bytes)), None);
        assert_eq!(decode(b"key", "MTY1NzI2ODE5Ny0x"), None);
        assert_eq!(decode(b"key", ""), None);
        assert_eq!(decode(b"key", &"A".repeat(1001)), None);
    }
}
