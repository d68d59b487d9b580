//! The parameters of the Apple-facing actions, validated.

use serde_json::{Map, Value};

use crate::domain::ValidationError;
use crate::domain::ids::Serial;

/// The parameters of `uploadDepToken`.
#[derive(Clone)]
pub struct Upload {
    /// Apple ID (Managed Apple ID) the token was downloaded with.
    pub apple_id: String,
    /// The `.p7m` file's content.
    pub dep_token: String,
}

/// Validates an `uploadDepToken` body.
pub fn parse_upload(body: &Map<String, Value>) -> Result<Upload, ValidationError> {
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "appleId" | "depToken") && !k.contains('@'))
    {
        return Err(ValidationError::new(format!(
            "'{other}' is not a parameter of uploadDepToken."
        )));
    }
    let text = |name: &str, max: usize| match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(ValidationError::new(format!(
            "The parameter '{name}' is empty or longer than {max} characters."
        ))),
        Some(other) => Err(ValidationError::wrong_type(name, "Edm.String", other)),
        None => Err(ValidationError::new(format!(
            "The parameter '{name}' is required."
        ))),
    };
    Ok(Upload {
        apple_id: text("appleId", 256)?,
        dep_token: text("depToken", 64 * 1024)?,
    })
}

/// The parameters of `releaseAppleDevices`.
pub struct Release {
    /// Serial numbers to release, normalised.
    pub serials: Vec<String>,
}

/// Validates a `releaseAppleDevices` body: `depToken` (a non-empty string; Graph documents it
/// without saying what it must hold, so only its presence is checked) and
/// `deviceSerialNumbers` (1–1,000 serial numbers, Apple's per-request limit).
pub fn parse_release(body: &Map<String, Value>) -> Result<Release, ValidationError> {
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "depToken" | "deviceSerialNumbers") && !k.contains('@'))
    {
        return Err(ValidationError::new(format!(
            "'{other}' is not a parameter of releaseAppleDevices."
        )));
    }
    match body.get("depToken") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) | None => {
            return Err(ValidationError::new(
                "The parameter 'depToken' is required.",
            ));
        }
        Some(other) => return Err(ValidationError::wrong_type("depToken", "Edm.String", other)),
    }
    let Some(Value::Array(items)) = body.get("deviceSerialNumbers") else {
        return Err(ValidationError::new(
            "The parameter 'deviceSerialNumbers' is required and must be an array of serial numbers.",
        ));
    };
    if items.is_empty() || items.len() > 1000 {
        return Err(ValidationError::new(
            "'deviceSerialNumbers' must hold between 1 and 1000 serial numbers.",
        ));
    }
    let serials = items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ValidationError::wrong_type("deviceSerialNumbers", "Edm.String", v))
                .and_then(|s| Serial::parse(s).map(String::from))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Release { serials })
}
