//! Rendering stored documents in Graph's full shape, and validating write bodies against a type.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Access, ComplexType, EdmType, EntityType, NAMESPACE, Property};
use crate::domain::ValidationError;
use crate::domain::time::{UNSET_TICKS, format_ticks, parse_ticks};

/// Every property of `ty` in Graph's order: `id` (taken from `stored`, omitted when absent), then
/// the inherited and the declared properties in CSDL order. Missing values get their defaults:
/// `null` when nullable, else `false`, `0`, the enum's first member or `0001-01-01T00:00:00Z`;
/// collections `[]`. `@odata.type` is not included (the response layer puts it first).
pub fn render(ty: &EntityType, stored: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(id) = stored.get("id") {
        out.insert("id".to_owned(), id.clone());
    }
    for p in ty.all_properties() {
        out.insert(p.name.to_owned(), render_property(p, stored.get(p.name)));
    }
    out
}

/// [`render`] with the given `id` (for documents stored without theirs; it wins over a stored one).
pub fn render_with_id(
    ty: &EntityType,
    id: &str,
    stored: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".to_owned(), Value::String(id.to_owned()));
    out.extend(render(ty, stored).into_iter().filter(|(k, _)| k != "id"));
    out
}

/// The rendered value of one property from its stored value (`None` when never stored).
pub fn render_property(p: &Property, stored: Option<&Value>) -> Value {
    match (p.ty, stored) {
        (EdmType::Complex(c), Some(Value::Object(obj))) => render_complex(c, obj),
        (EdmType::Complex(c), _) if !p.nullable => render_complex(c, &Map::new()),
        (EdmType::ComplexCollection(c), Some(Value::Array(items))) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    Value::Object(obj) => render_complex(c, obj),
                    other => other.clone(),
                })
                .collect(),
        ),
        (ty, Some(Value::Array(items))) if ty.is_collection() => Value::Array(items.clone()),
        (ty, _) if ty.is_collection() => Value::Array(Vec::new()),
        (_, Some(v)) if !v.is_null() => v.clone(),
        _ => default_value(p),
    }
}

fn render_complex(c: &ComplexType, stored: &Map<String, Value>) -> Value {
    let out = c
        .properties
        .iter()
        .map(|p| (p.name.to_owned(), render_property(p, stored.get(p.name))))
        .collect();
    Value::Object(out)
}

fn default_value(p: &Property) -> Value {
    if p.nullable {
        return Value::Null;
    }
    match p.ty {
        EdmType::Boolean => Value::Bool(false),
        EdmType::Int32 => Value::from(0),
        EdmType::Enum(e) => e.members.first().map_or(Value::Null, |m| Value::from(*m)),
        EdmType::DateTimeOffset => Value::String(format_ticks(UNSET_TICKS)),
        EdmType::Guid => Value::String(Uuid::nil().hyphenated().to_string()),
        EdmType::String => Value::String(String::new()),
        EdmType::Complex(c) => render_complex(c, &Map::new()),
        EdmType::StringCollection | EdmType::GuidCollection | EdmType::ComplexCollection(_) => {
            Value::Array(Vec::new())
        }
    }
}

/// Applies a create or PATCH body to `current` (the stored properties, seeded by the caller on
/// create). Writable properties are validated, normalised (canonical enum members, lower-case
/// GUIDs, Graph-formatted dates, complex values with every member) and stored; server-managed
/// ones are validated and ignored (the service keeps its own value); `id` and every key
/// containing `@` are ignored; navigation and unknown properties are rejected. On error
/// `current` is unchanged.
pub fn apply(
    ty: &EntityType,
    current: &mut Map<String, Value>,
    body: &Map<String, Value>,
) -> Result<(), ValidationError> {
    let mut next = current.clone();
    for (name, value) in body {
        apply_one(ty, &mut next, name, value)?;
    }
    *current = next;
    Ok(())
}

fn apply_one(
    ty: &EntityType,
    next: &mut Map<String, Value>,
    name: &str,
    value: &Value,
) -> Result<(), ValidationError> {
    // GRAPH-COMPAT: SDK models and portal traffic send `id` and `@odata.*` annotations in write
    // bodies (graph-http-conventions.md §4.2); they are ignored.
    if name == "id" || name.contains('@') {
        return Ok(());
    }
    let type_name = ty.qualified_name();
    let Some(p) = ty.property(name) else {
        if ty.is_navigation(name) {
            return Err(ValidationError::new(format!(
                "Cannot write navigation property '{name}' through type '{type_name}'."
            )));
        }
        return Err(ValidationError::unknown_property(name, &type_name));
    };
    let normalised = normalise(p, name, value)?;
    match p.access {
        Access::Writable => {
            next.insert(name.to_owned(), normalised);
        }
        // GRAPH-COMPAT: Microsoft's CSDL marks none of these read-only, and config-as-code
        // tools create from a copied GET body (IntuneCD, Terraform: `configurationEndpointUrl`,
        // `isDefault: true`) and PATCH back whole bodies: the value is type-checked, then the
        // service's own stands (`Property::note` says how it does change).
        Access::ServerManaged => {}
    }
    Ok(())
}

/// Validates `value` for property `p` (shown as `path` in messages) and returns its stored form.
fn normalise(p: &Property, path: &str, value: &Value) -> Result<Value, ValidationError> {
    if value.is_null() {
        return null(p, path);
    }
    match p.ty {
        EdmType::Complex(c) => complex(path, c, value),
        EdmType::StringCollection => collection(p, path, value, |v| string(path, v, p.max_chars)),
        EdmType::GuidCollection => collection(p, path, value, |v| guid(path, v)),
        EdmType::ComplexCollection(c) => collection(p, path, value, |v| complex(path, c, v)),
        _ => scalar(p, path, value),
    }
}

/// A JSON `null`: an empty collection, `null` when nullable, else an error.
fn null(p: &Property, path: &str) -> Result<Value, ValidationError> {
    if p.ty.is_collection() {
        Ok(Value::Array(Vec::new()))
    } else if p.nullable {
        Ok(Value::Null)
    } else {
        Err(ValidationError::new(format!(
            "The property '{path}' of type '{}' cannot be null.",
            p.ty.name()
        )))
    }
}

fn scalar(p: &Property, path: &str, value: &Value) -> Result<Value, ValidationError> {
    let expected = p.ty.name();
    let stored = match p.ty {
        EdmType::Boolean => value.as_bool().map(Value::Bool),
        EdmType::Int32 => value
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .map(Value::from),
        EdmType::String => return string(path, value, p.max_chars),
        EdmType::Guid => return guid(path, value),
        EdmType::DateTimeOffset => value
            .as_str()
            .and_then(parse_ticks)
            .map(|t| Value::String(format_ticks(t))),
        EdmType::Enum(e) => {
            let member = value.as_str().and_then(|s| e.parse(s));
            return member.map(Value::from).ok_or_else(|| {
                ValidationError::new(format!(
                    "The value {value} of property '{path}' is not a member of '{expected}' ({}).",
                    e.members.join(", ")
                ))
            });
        }
        _ => None,
    };
    stored.ok_or_else(|| ValidationError::wrong_type(path, &expected, value))
}

fn string(path: &str, value: &Value, max: usize) -> Result<Value, ValidationError> {
    match value {
        Value::String(s) if s.chars().count() <= max => Ok(value.clone()),
        Value::String(_) => Err(ValidationError::new(format!(
            "The property '{path}' is longer than {max} characters."
        ))),
        other => Err(ValidationError::wrong_type(path, "Edm.String", other)),
    }
}

fn guid(path: &str, value: &Value) -> Result<Value, ValidationError> {
    value
        .as_str()
        // Edm.Guid's JSON form is the 36-character hyphenated one only.
        .filter(|s| s.len() == 36)
        .and_then(|s| Uuid::parse_str(s).ok())
        .map(|u| Value::String(u.hyphenated().to_string()))
        .ok_or_else(|| ValidationError::wrong_type(path, "Edm.Guid", value))
}

fn collection(
    p: &Property,
    path: &str,
    value: &Value,
    item: impl Fn(&Value) -> Result<Value, ValidationError>,
) -> Result<Value, ValidationError> {
    let Value::Array(items) = value else {
        return Err(ValidationError::wrong_type(path, &p.ty.name(), value));
    };
    if items.len() > p.max_items {
        return Err(ValidationError::new(format!(
            "The property '{path}' holds more than {} values.",
            p.max_items
        )));
    }
    if items.iter().any(Value::is_null) {
        return Err(ValidationError::new(format!(
            "The property '{path}' cannot hold null values."
        )));
    }
    items
        .iter()
        .map(item)
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

fn complex(path: &str, c: &ComplexType, value: &Value) -> Result<Value, ValidationError> {
    let type_name = c.qualified_name();
    let Value::Object(obj) = value else {
        return Err(ValidationError::wrong_type(path, &type_name, value));
    };
    if let Some(given) = obj.get("@odata.type")
        && !given.as_str().is_some_and(|g| type_name_matches(g, c.name))
    {
        return Err(ValidationError::new(format!(
            "The @odata.type {given} of property '{path}' does not match its type '{type_name}'."
        )));
    }
    let mut stored = Map::new();
    for (name, inner) in obj {
        if name.contains('@') {
            continue;
        }
        let p = c
            .property(name)
            .ok_or_else(|| ValidationError::unknown_property(name, &type_name))?;
        stored.insert(
            name.clone(),
            normalise(p, &format!("{path}/{name}"), inner)?,
        );
    }
    Ok(render_complex(c, &stored))
}

/// Whether an `@odata.type` value names the type `name` of the `microsoft.graph` namespace:
/// with or without the leading `#` and the namespace, case-insensitively.
// GRAPH-COMPAT: doc examples annotate complex values as `microsoft.graph.X` without `#`
// (graph-dep-api.md §3.10), and the Python SDK matches type names case-insensitively.
pub fn type_name_matches(given: &str, name: &str) -> bool {
    unqualified_type_name(given).eq_ignore_ascii_case(name)
}

/// An `@odata.type` value without its leading `#` and `microsoft.graph.` namespace (matched
/// case-insensitively), e.g. `depIOSEnrollmentProfile`.
pub fn unqualified_type_name(given: &str) -> &str {
    let bare = given.strip_prefix('#').unwrap_or(given);
    let prefix_len = NAMESPACE.len() + 1;
    match (bare.get(..prefix_len), bare.get(prefix_len..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case(&format!("{NAMESPACE}.")) => rest,
        _ => bare,
    }
}
