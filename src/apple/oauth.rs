//! OAuth 1.0a (RFC 5849) HMAC-SHA1 signing as Apple's DEP `GET /session` expects it, shared by
//! the gateway's client (which signs) and the bundled simulator (which verifies).
//!
//! The signature base string is `METHOD&pct(base URI)&pct(sorted, encoded parameters)` and the
//! key is `pct(consumer_secret)&pct(access_secret)` (RFC 5849 §3.4). HMAC-SHA1 is `RustCrypto`'s
//! `hmac` + `sha1`, whose verification compares tags in constant time.

use std::fmt;
use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rand::Rng;
use sha1::Sha1;
use url::Url;

type HmacSha1 = Hmac<Sha1>;

/// RFC 5849 §3.6: every byte except ALPHA, DIGIT, `-`, `.`, `_` and `~` is percent-encoded.
const RFC5849: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The only signature method Apple accepts.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";

/// The four OAuth values of a server token, borrowed.
#[derive(Clone, Copy)]
pub struct OAuthKeys<'a> {
    /// `consumer_key` (`CK_…`).
    pub consumer_key: &'a str,
    /// `consumer_secret` (`CS_…`).
    pub consumer_secret: &'a str,
    /// `access_token` (`AT_…`), sent as `oauth_token`.
    pub access_token: &'a str,
    /// `access_secret` (`AS_…`), the token secret.
    pub access_secret: &'a str,
}

impl fmt::Debug for OAuthKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthKeys")
            .field("consumer_key", &self.consumer_key)
            .field("access_token", &self.access_token)
            .finish_non_exhaustive()
    }
}

/// Why an `Authorization` header could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthHeaderError {
    /// The header does not use the `OAuth` scheme.
    #[error("not an OAuth authorization header")]
    NotOAuth,
    /// A parameter is not of the form `name="value"`.
    #[error("malformed OAuth parameter")]
    Malformed,
}

/// Percent-encodes `s` as RFC 5849 §3.6 requires.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RFC5849).to_string()
}

/// The base string URI of RFC 5849 §3.4.1.2: lower-case scheme and host, the port only when it
/// is not the scheme's default, the path, no query and no fragment.
pub fn base_string_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

/// The signature base string of RFC 5849 §3.4.1 from already-decoded parameters (`oauth_*`
/// without `oauth_signature` and `realm`, plus query and form parameters).
pub fn signature_base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized)
    )
}

/// HMAC-SHA1 (RFC 2104) of `message` under `key`.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    // An all-zero tag for the impossible keying error only ever fails verification.
    mac(key, message)
        .map(|m| m.finalize().into_bytes().into())
        .unwrap_or_default()
}

/// HMAC-SHA1 keyed with `key` over `message`. `new_from_slice` accepts keys of any length
/// (longer ones are hashed first, RFC 2104 §2), so `None` does not happen in practice.
fn mac(key: &[u8], message: &[u8]) -> Option<HmacSha1> {
    let mut mac = HmacSha1::new_from_slice(key).ok()?;
    mac.update(message);
    Some(mac)
}

fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    format!("{}&{}", encode(consumer_secret), encode(token_secret))
}

/// The base64 `oauth_signature` of `base_string` (RFC 5849 §3.4.2).
pub fn signature(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = signing_key(consumer_secret, token_secret);
    STANDARD.encode(hmac_sha1(key.as_bytes(), base_string.as_bytes()))
}

/// The signature of a request to `url` carrying the protocol parameters `oauth` (without
/// `oauth_signature`); the query parameters of `url` are signed too.
pub fn request_signature(
    method: &str,
    url: &Url,
    oauth: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let base = signature_base_string(method, &base_string_uri(url), &request_params(url, oauth));
    signature(&base, consumer_secret, token_secret)
}

/// Whether the base64 `signature` is the HMAC-SHA1 signature of a request to `url` carrying
/// `oauth` (without `oauth_signature`), compared in constant time.
pub fn verify_request_signature(
    method: &str,
    url: &Url,
    oauth: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
    signature: &str,
) -> bool {
    let Ok(tag) = STANDARD.decode(signature) else {
        return false;
    };
    let base = signature_base_string(method, &base_string_uri(url), &request_params(url, oauth));
    let key = signing_key(consumer_secret, token_secret);
    mac(key.as_bytes(), base.as_bytes()).is_some_and(|m| m.verify_slice(&tag).is_ok())
}

fn request_params(url: &Url, oauth: &[(String, String)]) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    params.extend_from_slice(oauth);
    params
}

/// The protocol parameters a DEP client sends, without `oauth_signature`.
pub fn protocol_params(keys: &OAuthKeys<'_>, timestamp: i64, nonce: &str) -> Vec<(String, String)> {
    [
        ("oauth_consumer_key", keys.consumer_key),
        ("oauth_token", keys.access_token),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", &timestamp.to_string()),
        ("oauth_nonce", nonce),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// The `Authorization` header value (`OAuth oauth_consumer_key="…", …, oauth_signature="…"`)
/// for `method url`, signed with `keys` at `timestamp` (Unix seconds) with `nonce`.
pub fn sign_request(
    method: &str,
    url: &Url,
    keys: &OAuthKeys<'_>,
    timestamp: i64,
    nonce: &str,
) -> String {
    let mut params = protocol_params(keys, timestamp, nonce);
    let sig = request_signature(
        method,
        url,
        &params,
        keys.consumer_secret,
        keys.access_secret,
    );
    params.push(("oauth_signature".to_owned(), sig));
    let fields: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

/// [`sign_request`] with the current time and a fresh random nonce.
pub fn sign_request_now(method: &str, url: &Url, keys: &OAuthKeys<'_>) -> String {
    sign_request(
        method,
        url,
        keys,
        chrono::Utc::now().timestamp(),
        &new_nonce(),
    )
}

/// A random 32-hex-character nonce.
pub fn new_nonce() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    lower_hex(&bytes)
}

/// `bytes` as lower-case hex.
pub fn lower_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Splits an `OAuth …` header into decoded `(name, value)` pairs, `realm` included, in order.
pub fn parse_authorization_header(value: &str) -> Result<Vec<(String, String)>, OAuthHeaderError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').ok_or(OAuthHeaderError::NotOAuth)?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return Err(OAuthHeaderError::NotOAuth);
    }
    rest.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_param)
        .collect()
}

fn parse_param(part: &str) -> Result<(String, String), OAuthHeaderError> {
    let (name, quoted) = part.split_once('=').ok_or(OAuthHeaderError::Malformed)?;
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or(OAuthHeaderError::Malformed)?;
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| OAuthHeaderError::Malformed)
    };
    Ok((decode(name.trim())?, decode(inner)?))
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
