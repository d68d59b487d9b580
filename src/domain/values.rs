//! Parsers for property values in write bodies, shared by the typed entities: each checks the
//! JSON type and names the property and the expected Edm type when it is wrong.

use serde_json::Value;

use super::ValidationError;
use super::time::{parse_ticks, repeats_ticks};

/// Most role scope tags on one entity, and the longest tag id.
pub const MAX_SCOPE_TAGS: usize = 500;
const MAX_SCOPE_TAG_CHARS: usize = 128;

/// Whether a write body creates an entity or patches a stored one: some properties are stored
/// from a create body but not from a PATCH (see the README's "Write bodies" table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// `POST` to a collection (a restore or copy sends a whole GET body here).
    Create,
    /// `PATCH` of a stored entity.
    Update,
}

/// GRAPH-COMPAT: config-as-code tools PATCH back the whole GET body; a read-only property is
/// accepted when it repeats the stored value and rejected when it tries to change it.
pub fn read_only(name: &str, type_name: &str, unchanged: bool) -> Result<(), ValidationError> {
    if unchanged {
        Ok(())
    } else {
        Err(ValidationError::new(format!(
            "The property '{name}' is read-only on type '{type_name}' and cannot be changed."
        )))
    }
}

/// `Edm.Boolean`.
pub fn boolean(name: &str, value: &Value) -> Result<bool, ValidationError> {
    value
        .as_bool()
        .ok_or_else(|| ValidationError::wrong_type(name, "Edm.Boolean", value))
}

/// `Edm.Int32`.
pub fn int32(name: &str, value: &Value) -> Result<i32, ValidationError> {
    value
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| ValidationError::wrong_type(name, "Edm.Int32", value))
}

/// `Edm.DateTimeOffset`, as ticks.
pub fn datetime(name: &str, value: &Value) -> Result<i64, ValidationError> {
    value
        .as_str()
        .and_then(parse_ticks)
        .ok_or_else(|| ValidationError::wrong_type(name, "Edm.DateTimeOffset", value))
}

/// Whether `value`, an `Edm.DateTimeOffset`, repeats the stored `ticks` (see [`repeats_ticks`]).
pub fn same_datetime(name: &str, value: &Value, ticks: i64) -> Result<bool, ValidationError> {
    datetime(name, value).map(|sent| repeats_ticks(sent, ticks))
}

/// A nullable `Edm.String` of at most `max` characters.
pub fn optional_string(
    name: &str,
    value: &Value,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= max => Ok(Some(s.clone())),
        Value::String(_) => Err(ValidationError::new(format!(
            "The property '{name}' is longer than {max} characters."
        ))),
        other => Err(ValidationError::wrong_type(name, "Edm.String", other)),
    }
}

/// `roleScopeTagIds`: `Collection(Edm.String)`, `null` meaning none.
pub fn scope_tags(value: &Value) -> Result<Vec<String>, ValidationError> {
    let name = "roleScopeTagIds";
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(ValidationError::wrong_type(
                name,
                "Collection(Edm.String)",
                other,
            ));
        }
    };
    if items.len() > MAX_SCOPE_TAGS {
        return Err(ValidationError::new(format!(
            "The property '{name}' holds more than {MAX_SCOPE_TAGS} values."
        )));
    }
    items
        .iter()
        .map(|item| {
            optional_string(name, item, MAX_SCOPE_TAG_CHARS)?
                .ok_or_else(|| ValidationError::wrong_type(name, "Edm.String", item))
        })
        .collect()
}
