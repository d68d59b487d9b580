//! A Graph request after version routing (what `$batch` also produces), and the body parsers
//! every write shares.

use actix_web::http::Method;
use actix_web::web::Bytes;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::path::Segment;

/// Most requests one `$batch` may carry.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// A Graph request after version routing: what `$batch` will also produce.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Segments below `/beta`.
    pub segments: Vec<Segment>,
    /// Raw query string (still percent-encoded).
    pub query: String,
    /// Request body.
    pub body: Bytes,
}

/// Parses a write body into a JSON object, with Graph's messages for what is wrong.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "The request body is empty; a JSON object is required.".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("The request body must be a JSON object.".into())),
        Err(_) => Err(ApiError::BadRequest(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
                .into(),
        )),
    }
}

/// Parses the body of an action that takes no parameters: empty, `{}` or `null` are accepted
/// (clients send all three); anything else must still be a JSON object.
// GRAPH-COMPAT: bodiless actions arrive with no body, an empty JSON body or `{}`
// (graph-http-conventions.md §8).
pub fn optional_json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) || body == b"null" {
        return Ok(Map::new());
    }
    json_object(body)
}

/// Checks the body of `action`, which takes no parameters: as [`optional_json_object`], and
/// any member other than an instance annotation (`@odata.type` and the like) is refused.
// GRAPH-COMPAT: OData refuses a parameter the action does not declare, with the message below;
// the gateway used to ignore it silently (issue 13).
pub fn no_parameters(body: &[u8], action: &str) -> Result<(), ApiError> {
    let members = optional_json_object(body)?;
    match members.keys().find(|name| !name.starts_with('@')) {
        Some(name) => Err(ApiError::BadRequest(format!(
            "The parameter '{name}' in the request payload is not a valid parameter for the operation '{action}'."
        ))),
        None => Ok(()),
    }
}
