//! How stored profiles look to Graph: the query spec of the polymorphic set and the rendered
//! entity.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::WRITE_ONLY_PASSWORD;
use crate::domain::edm::{self, EdmType, EntityType};
use crate::domain::profiles;
use crate::odata::{EntitySpec, Field, FieldKind, SpecType};
use crate::service::ServiceError;
use crate::storage::profiles::ProfileRecord;

/// `$filter`/`$orderby`/`$select` properties of the polymorphic set: every scalar property of
/// every profile type (a property the item's type lacks behaves as null), and the types that
/// `isof` and cast paths (`microsoft.graph.depIOSEnrollmentProfile/…`) may name.
pub fn spec() -> &'static EntitySpec {
    static SPEC: OnceLock<EntitySpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut fields: Vec<Field> = vec![Field {
            name: "id",
            column: "id",
            kind: FieldKind::Id,
            nullable: false,
            filterable: true,
            sortable: true,
        }];
        for ty in profiles::all_profile_types() {
            for p in ty.all_properties() {
                if !fields.iter().any(|f| f.name == p.name) {
                    fields.push(field(p));
                }
            }
        }
        let types: Vec<SpecType> = profiles::all_profile_types()
            .iter()
            .map(|ty| spec_type(ty))
            .collect();
        EntitySpec {
            entity: "microsoft.graph.enrollmentProfile",
            fields: Vec::leak(fields),
            types: Vec::leak(types),
        }
    })
}

/// A profile type as the query layer sees it (built once, so the leaks are bounded).
fn spec_type(ty: &'static EntityType) -> SpecType {
    let mut is = vec![ty.name];
    let mut base = ty.base;
    while let Some(b) = base {
        is.push(b.name);
        base = b.base;
    }
    let mut properties = vec!["id"];
    properties.extend(ty.all_properties().iter().map(|p| p.name));
    SpecType {
        name: ty.name,
        qualified: String::leak(format!("microsoft.graph.{}", ty.name)),
        is: Vec::leak(is),
        properties: Vec::leak(properties),
    }
}

fn field(p: &edm::Property) -> Field {
    let (kind, scalar) = match p.ty {
        EdmType::Boolean => (FieldKind::Bool, true),
        EdmType::String => (FieldKind::Text, true),
        EdmType::Int32 => (FieldKind::Int, true),
        EdmType::Guid => (FieldKind::Id, true),
        EdmType::DateTimeOffset => (FieldKind::DateTime, true),
        EdmType::Enum(e) => (FieldKind::Enum(e.members), true),
        _ => (FieldKind::Collection, false),
    };
    Field {
        name: p.name,
        column: p.name,
        kind,
        nullable: true,
        filterable: scalar,
        sortable: scalar,
    }
}

pub(super) fn type_of(rec: &ProfileRecord) -> Result<&'static EntityType, ServiceError> {
    profiles::find_profile_type(&rec.odata_type)
        .ok_or_else(|| ServiceError::Storage(anyhow_storage(&rec.odata_type)))
}

fn anyhow_storage(odata_type: &str) -> crate::storage::StorageError {
    crate::storage::StorageError::Query(diesel::result::Error::DeserializationError(
        format!("unknown stored profile type {odata_type}").into(),
    ))
}

/// A profile as Graph renders it: `@odata.type`, `id`, then every property of its type, with
/// `isDefault` derived from the token's default designations.
pub(super) fn render(
    rec: &ProfileRecord,
    defaults: &[(String, String)],
) -> Result<Value, ServiceError> {
    let ty = type_of(rec)?;
    let mut props = rec.properties.clone();
    let is_default = defaults.iter().any(|(_, id)| *id == rec.id);
    props.insert("isDefault".to_owned(), Value::Bool(is_default));
    // The macOS local admin password is write-only: it is never sent back.
    if props.contains_key(WRITE_ONLY_PASSWORD) {
        props.insert(WRITE_ONLY_PASSWORD.to_owned(), Value::Null);
    }
    let mut out = Map::new();
    out.insert("@odata.type".to_owned(), Value::String(ty.odata_type()));
    out.extend(edm::render_with_id(ty, &rec.id, &props));
    Ok(Value::Object(out))
}
