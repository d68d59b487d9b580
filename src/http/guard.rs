//! Edge checks made once, before routing, on every direct request and every `$batch` item: text
//! that no backend can store is refused here with a Graph 400 naming where it was, rather than by
//! each handler (or, worse, by PostgreSQL with a 500 while SQLite stores it).

use std::fmt::Write as _;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::error::ApiError;

/// Why a character is refused: PostgreSQL `text` cannot hold U+0000, and SQLite would store it,
/// so both backends refuse it alike. (Invalid UTF-8 and lone surrogates are refused earlier by
/// the path, query and JSON decoders.)
fn unstorable(text: &str) -> bool {
    text.contains('\0')
}

const REASON: &str = "the character U+0000 (NUL) is not allowed";

/// Checks a raw (percent-encoded) path, query string and body of one request.
pub fn check_request(raw_path: &str, raw_query: &str, body: &[u8]) -> Result<(), ApiError> {
    check_path(raw_path)?;
    check_query(raw_query)?;
    check_body(body)
}

/// Every path segment, percent-decoded.
pub fn check_path(raw_path: &str) -> Result<(), ApiError> {
    let nul = raw_path
        .split('/')
        .any(|segment| percent_decode_str(segment).any(|b| b == 0));
    if nul {
        return Err(ApiError::BadRequest(format!(
            "Invalid request path: {REASON}."
        )));
    }
    Ok(())
}

/// Every query option's name and value, decoded as the OData parser decodes them (`+` is a
/// space); what does not decode is left to that parser's own error.
pub fn check_query(raw_query: &str) -> Result<(), ApiError> {
    for piece in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
        let name = decode(raw_name);
        if unstorable(&name) {
            return Err(ApiError::BadRequest(format!(
                "Invalid query option name: {REASON}."
            )));
        }
        if unstorable(&decode(raw_value)) {
            return Err(ApiError::BadRequest(format!(
                "Invalid value for query option '{name}': {REASON}."
            )));
        }
    }
    Ok(())
}

fn decode(raw: &str) -> String {
    percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Every string and member name of a JSON body, named by its property path
/// (`requests[0].body.tokenName`). A body that is not JSON is left to the handler.
pub fn check_body(body: &[u8]) -> Result<(), ApiError> {
    // Cheap pre-check: a NUL can only arrive escaped (`\u0000`) or raw (not valid JSON anyway).
    if !body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    match find_unstorable(&value, &mut String::new()) {
        Some(path) if path.is_empty() => Err(ApiError::BadRequest(format!(
            "Invalid request body: {REASON}."
        ))),
        Some(path) => Err(ApiError::BadRequest(format!(
            "Invalid value for property '{path}': {REASON}."
        ))),
        None => Ok(()),
    }
}

/// The property path of the first string (or member name) holding an unstorable character.
fn find_unstorable(value: &Value, path: &mut String) -> Option<String> {
    match value {
        Value::String(s) if unstorable(s) => Some(path.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = find_unstorable(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(members) => members.iter().find_map(|(name, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            // A member name with a NUL is named escaped, so the message itself stays storable.
            path.push_str(&name.replace('\0', "\\u0000"));
            let found = if unstorable(name) {
                Some(path.clone())
            } else {
                find_unstorable(item, path)
            };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<(), ApiError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn refuses_nul_in_paths_and_query_options() {
        assert!(check_path("deviceManagement/depOnboardingSettings/abc").is_ok());
        assert!(
            message(check_path("deviceManagement/depOnboardingSettings/%00")).contains("U+0000")
        );
        assert!(check_query("$filter=tokenName%20eq%20'a'&$top=1").is_ok());
        assert_eq!(
            message(check_query("$top=1&$filter=tokenName eq '%00'")),
            "Invalid value for query option '$filter': the character U+0000 (NUL) is not allowed."
        );
        assert!(message(check_query("%24search=%00")).contains("'$search'"));
        assert!(message(check_query("x%00=1")).contains("option name"));
        // Undecodable text is the OData parser's to report.
        assert!(check_query("$filter=%ff").is_ok());
    }

    #[test]
    fn names_the_property_path_of_a_nul_in_a_body() {
        assert!(check_body(br#"{"tokenName":"a"}"#).is_ok());
        assert!(check_body(b"not json \\u0000").is_ok());
        assert_eq!(
            message(check_body(br#"{"tokenName":"a\u0000b"}"#)),
            "Invalid value for property 'tokenName': the character U+0000 (NUL) is not allowed."
        );
        assert!(
            message(check_body(
                br#"{"requests":[{"id":"1"},{"id":"2","body":{"x":["ok","\u0000"]}}]}"#
            ))
            .contains("'requests[1].body.x[1]'")
        );
        assert!(message(check_body(br#"{"a\u0000":1}"#)).contains(r"'a\u0000'"));
        assert!(message(check_body(br#""\u0000""#)).contains("request body"));
        assert!(check_body(br#"{"a":"\\u0000"}"#).is_ok());
    }
}
