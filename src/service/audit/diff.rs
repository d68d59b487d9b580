//! `modifiedProperties`: the properties that differ between two renderings of an entity, as
//! Intune writes them (`PascalCase` names, string values), with secrets left out entirely.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::storage::audit::AuditProperty;

/// Properties whose values never reach the trail, not even as "changed": write-only secrets
/// (the macOS admin password, a VPP token's content, a server token, key material, Apple's
/// OAuth credentials). Compared case-insensitively.
const SECRETS: &[&str] = &[
    "adminAccountPassword",
    "token",
    "depToken",
    "privateKey",
    "consumerKey",
    "consumerSecret",
    "accessToken",
    "accessSecret",
];

fn is_secret(name: &str) -> bool {
    SECRETS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The changed properties from `old` to `new` (either may be absent: create, delete), each
/// rendered as Graph renders it.
pub fn modified<A: Serialize + ?Sized, B: Serialize + ?Sized>(
    old: Option<&A>,
    new: Option<&B>,
) -> Vec<AuditProperty> {
    let object = |v: Option<Value>| match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let old = object(old.and_then(|o| serde_json::to_value(o).ok()));
    let new = object(new.and_then(|n| serde_json::to_value(n).ok()));
    changes(&old, &new)
}

/// [`modified`] on two JSON objects.
pub fn changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<AuditProperty> {
    let names = new
        .keys()
        .chain(old.keys().filter(|k| !new.contains_key(*k)));
    names
        .filter(|name| !name.starts_with('@') && !is_secret(name))
        .filter_map(|name| {
            // An absent property and a null one read the same.
            let (before, after) = (old.get(name), new.get(name));
            let null = &Value::Null;
            (before.unwrap_or(null) != after.unwrap_or(null)).then(|| AuditProperty {
                display_name: pascal(name),
                old_value: before.and_then(text),
                new_value: after.and_then(text),
            })
        })
        .collect()
}

/// `tokenName` → `TokenName`.
fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A value as the trail's string: text as is, `null` as absent, anything else as JSON.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
