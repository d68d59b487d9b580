//! The decrypted server-token payload: a text MIME entity wrapping one line of OAuth JSON
//! between `-----BEGIN MESSAGE-----` and `-----END MESSAGE-----` (reference §9.4).

use super::{ServerTokenCredentials, TokenFileError};

const BEGIN: &str = "-----BEGIN MESSAGE-----";
const END: &str = "-----END MESSAGE-----";

/// The payload exactly as Apple writes it (CRLF in the MIME headers, LF after).
pub fn token_payload(creds: &ServerTokenCredentials) -> String {
    // Serialising a struct of strings cannot fail; an empty object would fail parsing anyway.
    let json = serde_json::to_string(creds).unwrap_or_default();
    format!(
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
         {BEGIN}\n{json}\n{END}\n"
    )
}

/// Parses a decrypted payload: skips MIME headers up to the blank line (if any), drops the
/// `MESSAGE` markers (by prefix, tolerating CRLF and JSON over several lines) and requires the
/// four secrets to be non-empty. Bare JSON is accepted too.
pub fn parse_token_payload(text: &str) -> Result<ServerTokenCredentials, TokenFileError> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let body = if starts_with_header(text) {
        after_blank_line(text)
    } else {
        text
    };
    let json: Vec<&str> = body
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.starts_with(BEGIN) && !l.starts_with(END))
        .collect();
    let creds: ServerTokenCredentials = serde_json::from_str(json.join("\n").trim())
        .map_err(|e| TokenFileError::InvalidPayload(e.to_string()))?;
    let secrets = [
        &creds.consumer_key,
        &creds.consumer_secret,
        &creds.access_token,
        &creds.access_secret,
    ];
    if secrets.iter().any(|s| s.trim().is_empty()) {
        return Err(TokenFileError::InvalidPayload(
            "an OAuth value is empty".to_owned(),
        ));
    }
    Ok(creds)
}

fn starts_with_header(text: &str) -> bool {
    let first = text.lines().next().unwrap_or_default();
    first
        .split_once(':')
        .is_some_and(|(name, _)| !name.is_empty() && !name.contains([' ', '{', '"']))
}

fn after_blank_line(text: &str) -> &str {
    let lf = text.find("\n\n").map(|i| i + 2);
    let crlf = text.find("\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => &text[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &text[a..],
        (None, None) => "",
    }
}
