//! Per-entity allow-lists: which Graph properties exist, their columns and types, and which may
//! be filtered and sorted. Storage defines the real specs; this module only reads them.

use super::ODataError;

/// The type of a property as far as `$filter` and `$orderby` care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// The key: text compared exactly (ids are case-sensitive in Graph).
    Id,
    /// Text: `eq`/`ne`/`in` and the string functions are case-insensitive.
    Text,
    /// Text the domain stores normalised to ASCII upper-case letters and digits (serial numbers,
    /// `crate::domain::ids::Serial`): the same case-insensitive tests as [`FieldKind::Text`], but
    /// the SQL compares the upper-cased value with the bare column (and `startswith` becomes a
    /// range), so an index on the column serves `eq`, `in` and prefix searches.
    Serial,
    /// An integer column.
    Int,
    /// A boolean column.
    Bool,
    /// A `DateTimeOffset` stored as ticks (`crate::domain::time`).
    DateTime,
    /// A string enum with its canonical members (stored by member name).
    Enum(&'static [&'static str]),
    /// A collection, stored serialised: selectable only, never filtered or sorted.
    Collection,
}

impl FieldKind {
    /// Text whose `eq`/`ne`/`in` ignore ASCII case.
    pub fn is_text(self) -> bool {
        matches!(self, Self::Text | Self::Serial)
    }
}

/// One property of an entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Graph property name, exact CSDL casing.
    pub name: &'static str,
    /// Column name; the only text of a spec that reaches SQL.
    pub column: &'static str,
    /// Property type.
    pub kind: FieldKind,
    /// The column may be NULL.
    pub nullable: bool,
    /// Allowed in `$filter`.
    pub filterable: bool,
    /// Allowed in `$orderby`.
    pub sortable: bool,
}

impl Field {
    /// A filterable, sortable property whose column is never NULL. Named constructors rather than
    /// a `nullable: bool` argument, so a table of fields reads without counting positions.
    pub const fn required(name: &'static str, column: &'static str, kind: FieldKind) -> Self {
        Self {
            name,
            column,
            kind,
            nullable: false,
            filterable: true,
            sortable: true,
        }
    }

    /// A filterable, sortable property whose column may be NULL.
    pub const fn nullable(name: &'static str, column: &'static str, kind: FieldKind) -> Self {
        Self {
            nullable: true,
            ..Self::required(name, column, kind)
        }
    }
}

/// One concrete type of a polymorphic set, for `isof` and type-cast paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecType {
    /// Unqualified type name, e.g. `depIOSEnrollmentProfile`.
    pub name: &'static str,
    /// Qualified type name, e.g. `microsoft.graph.depIOSEnrollmentProfile`.
    pub qualified: &'static str,
    /// The unqualified names of every type an instance of it is: itself and its ancestors.
    pub is: &'static [&'static str],
    /// The properties the type declares or inherits (a subset of the spec's fields' names).
    pub properties: &'static [&'static str],
}

/// The queryable shape of one entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntitySpec {
    /// Qualified type name used in messages, e.g. `microsoft.graph.depOnboardingSetting`.
    pub entity: &'static str,
    /// Every selectable property; must include `id` (kind [`FieldKind::Id`], column `id`).
    pub fields: &'static [Field],
    /// The types of a polymorphic set, whose items carry `@odata.type` and are evaluated in
    /// memory; empty for a set of one type (every item is an `entity`).
    pub types: &'static [SpecType],
}

/// The namespace prefix of Graph type names.
pub const NAMESPACE: &str = "microsoft.graph.";

/// `microsoft.graph.T`, `graph.T` or `#microsoft.graph.T` without the namespace.
pub(crate) fn unqualified(name: &str) -> &str {
    let name = name.trim_start_matches('#');
    let lower = name.to_ascii_lowercase();
    for prefix in [NAMESPACE, "graph."] {
        if lower.starts_with(prefix) {
            return &name[prefix.len()..];
        }
    }
    name
}

impl EntitySpec {
    /// Finds a property case-insensitively (clients send `tokentype`).
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Finds a property or fails with Graph's "Could not find a property" message.
    pub fn resolve(&self, name: &str) -> Result<&'static Field, ODataError> {
        self.field(name).ok_or_else(|| ODataError::UnknownProperty {
            property: name.to_owned(),
            entity: self.entity,
        })
    }

    /// The key property.
    pub fn id_field(&self) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.kind == FieldKind::Id)
    }

    /// The unqualified name of the set's own type.
    pub fn base_type(&self) -> &'static str {
        self.entity.strip_prefix(NAMESPACE).unwrap_or(self.entity)
    }

    /// Resolves a type name (qualified or not, any case) that a cast or `isof` may name: the
    /// set's own type or one of its [`SpecType`]s. `None` for the set's own type of a
    /// single-type set (the cast changes nothing).
    pub fn cast_type(&self, name: &str) -> Result<Option<&'static SpecType>, ODataError> {
        let bare = unqualified(name);
        if let Some(t) = self
            .types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(bare))
        {
            return Ok(Some(t));
        }
        if self.types.is_empty() && self.base_type().eq_ignore_ascii_case(bare) {
            return Ok(None);
        }
        Err(ODataError::InvalidCast {
            name: name.to_owned(),
            entity: self.entity,
        })
    }

    /// Resolves `name`, or `Type/name` where `Type` is a cast the set allows and declares the
    /// property; returns the field and the cast's type, if it narrows the set.
    pub fn resolve_path(
        &self,
        cast: Option<&str>,
        name: &str,
    ) -> Result<(&'static Field, Option<&'static SpecType>), ODataError> {
        let Some(cast) = cast else {
            return Ok((self.resolve(name)?, None));
        };
        let ty = self.cast_type(cast)?;
        let field = self.resolve(name)?;
        if let Some(t) = ty
            && !t.properties.contains(&field.name)
        {
            return Err(ODataError::UnknownProperty {
                property: name.to_owned(),
                entity: t.qualified,
            });
        }
        Ok((field, ty))
    }

    /// Resolves a property usable in `$filter`.
    pub(crate) fn filterable(&self, name: &str) -> Result<&'static Field, ODataError> {
        let field = self.resolve(name)?;
        if field.filterable && field.kind != FieldKind::Collection {
            Ok(field)
        } else {
            Err(ODataError::NotAllowed {
                property: field.name,
                clause: "$filter",
            })
        }
    }
}

/// Resolves `$select` names to fields, without duplicates and in request order; `*` selects all
/// and a type-cast path (`microsoft.graph.T/name`) selects the property `T` declares.
pub fn resolve_select(
    select: &[String],
    spec: &EntitySpec,
) -> Result<Vec<&'static Field>, ODataError> {
    let mut fields: Vec<&'static Field> = Vec::new();
    for name in select {
        let found: Vec<&'static Field> = if name == "*" {
            spec.fields.iter().collect()
        } else if let Some((cast, property)) = name.rsplit_once('/')
            && cast.contains('.')
            && !property.is_empty()
        {
            vec![spec.resolve_path(Some(cast), property)?.0]
        } else {
            vec![spec.resolve(name)?]
        };
        for field in found {
            if !fields.iter().any(|f| f.name == field.name) {
                fields.push(field);
            }
        }
    }
    Ok(fields)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const TOKEN_TYPES: &[&str] = &["none", "dep", "appleSchoolManager"];

    const fn field(
        name: &'static str,
        column: &'static str,
        kind: FieldKind,
        nullable: bool,
    ) -> Field {
        let listable = !matches!(kind, FieldKind::Collection);
        Field {
            name,
            column,
            kind,
            nullable,
            filterable: listable,
            sortable: listable,
        }
    }

    /// The depOnboardingSetting spec as storage is expected to define it.
    pub(crate) static DEP: EntitySpec = EntitySpec {
        entity: "microsoft.graph.depOnboardingSetting",
        fields: &[
            field("id", "id", FieldKind::Id, false),
            field("appleIdentifier", "apple_identifier", FieldKind::Text, true),
            field(
                "tokenExpirationDateTime",
                "token_expiration_date_time",
                FieldKind::DateTime,
                false,
            ),
            field(
                "lastModifiedDateTime",
                "last_modified_date_time",
                FieldKind::DateTime,
                false,
            ),
            field(
                "lastSuccessfulSyncDateTime",
                "last_successful_sync_date_time",
                FieldKind::DateTime,
                false,
            ),
            field(
                "lastSyncTriggeredDateTime",
                "last_sync_triggered_date_time",
                FieldKind::DateTime,
                false,
            ),
            field(
                "shareTokenWithSchoolDataSyncService",
                "share_token_with_school_data_sync_service",
                FieldKind::Bool,
                false,
            ),
            field(
                "lastSyncErrorCode",
                "last_sync_error_code",
                FieldKind::Int,
                false,
            ),
            field(
                "tokenType",
                "token_type",
                FieldKind::Enum(TOKEN_TYPES),
                false,
            ),
            field("tokenName", "token_name", FieldKind::Text, true),
            field(
                "syncedDeviceCount",
                "synced_device_count",
                FieldKind::Int,
                false,
            ),
            field(
                "dataSharingConsentGranted",
                "data_sharing_consent_granted",
                FieldKind::Bool,
                false,
            ),
            field(
                "roleScopeTagIds",
                "role_scope_tag_ids",
                FieldKind::Collection,
                false,
            ),
        ],
        types: &[],
    };

    #[test]
    fn resolves_names_case_insensitively() {
        assert_eq!(DEP.resolve("TOKENTYPE").unwrap().column, "token_type");
        let err = DEP.resolve("x").unwrap_err().to_string();
        assert_eq!(
            err,
            "Could not find a property named 'x' on type 'microsoft.graph.depOnboardingSetting'."
        );
        let err = DEP.filterable("roleScopeTagIds").unwrap_err().to_string();
        assert_eq!(
            err,
            "The property 'roleScopeTagIds' cannot be used in $filter."
        );
    }

    #[test]
    fn resolves_select_lists() {
        let names = |s: &[&str]| {
            resolve_select(&s.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(), &DEP)
        };
        let got: Vec<&str> = names(&["tokenname", "id", "tokenName"])
            .unwrap()
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(got, ["tokenName", "id"]);
        assert_eq!(names(&["*"]).unwrap().len(), DEP.fields.len());
        assert!(names(&["nope"]).is_err());
    }
}
