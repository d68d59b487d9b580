//! A small, table-driven model of Graph (EDM) entity types for entities kept as JSON documents:
//! static tables describe each type, [`render`] fills a stored document out to Graph's full shape
//! and [`apply`] validates and normalises create/PATCH bodies against the table.

mod value;

#[cfg(test)]
mod tests;

pub use value::{
    apply, render, render_property, render_with_id, type_name_matches, unqualified_type_name,
};

/// Namespace of every type modelled here.
pub const NAMESPACE: &str = "microsoft.graph";
/// Longest accepted string when a property sets no cap of its own.
pub const DEFAULT_MAX_CHARS: usize = 1024;
/// Most items in a collection when a property sets no cap of its own.
pub const DEFAULT_MAX_ITEMS: usize = 500;

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdmType {
    /// `Edm.Boolean`.
    Boolean,
    /// `Edm.String`.
    String,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.Guid`, stored lower-case hyphenated.
    Guid,
    /// `Edm.DateTimeOffset`, stored as Graph renders it (UTC, seven fractional digits).
    DateTimeOffset,
    /// A `microsoft.graph` enum, stored as its canonical member name.
    Enum(&'static EnumType),
    /// A `microsoft.graph` complex type, stored as an object with every declared property.
    Complex(&'static ComplexType),
    /// `Collection(Edm.String)`.
    StringCollection,
    /// `Collection(Edm.Guid)`.
    GuidCollection,
    /// `Collection(microsoft.graph.<complex>)`.
    ComplexCollection(&'static ComplexType),
}

impl EdmType {
    /// The type's name as CSDL spells it, e.g. `Edm.Int32` or `Collection(Edm.Guid)`.
    pub fn name(self) -> String {
        match self {
            Self::Boolean => "Edm.Boolean".to_owned(),
            Self::String => "Edm.String".to_owned(),
            Self::Int32 => "Edm.Int32".to_owned(),
            Self::Guid => "Edm.Guid".to_owned(),
            Self::DateTimeOffset => "Edm.DateTimeOffset".to_owned(),
            Self::Enum(e) => e.qualified_name(),
            Self::Complex(c) => c.qualified_name(),
            Self::StringCollection => "Collection(Edm.String)".to_owned(),
            Self::GuidCollection => "Collection(Edm.Guid)".to_owned(),
            Self::ComplexCollection(c) => format!("Collection({})", c.qualified_name()),
        }
    }

    /// Whether values are JSON arrays.
    pub fn is_collection(self) -> bool {
        matches!(
            self,
            Self::StringCollection | Self::GuidCollection | Self::ComplexCollection(_)
        )
    }
}

/// A `microsoft.graph` enum type.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumType {
    /// Unqualified name, e.g. `iTunesPairingMode`.
    pub name: &'static str,
    /// Member names in CSDL order and casing; the first is the default.
    pub members: &'static [&'static str],
}

impl EnumType {
    /// `microsoft.graph.<name>`.
    pub fn qualified_name(&self) -> String {
        format!("{NAMESPACE}.{}", self.name)
    }

    /// The canonical member matching `s` case-insensitively.
    pub fn parse(&self, s: &str) -> Option<&'static str> {
        self.members
            .iter()
            .copied()
            .find(|m| m.eq_ignore_ascii_case(s))
    }
}

/// A `microsoft.graph` complex type.
#[derive(Debug, PartialEq, Eq)]
pub struct ComplexType {
    /// Unqualified name, e.g. `managementCertificateWithThumbprint`.
    pub name: &'static str,
    /// Declared properties in CSDL order.
    pub properties: &'static [Property],
}

impl ComplexType {
    /// `microsoft.graph.<name>`.
    pub fn qualified_name(&self) -> String {
        format!("{NAMESPACE}.{}", self.name)
    }

    /// The declared property called `name` (case-sensitive, as OData property names are).
    pub fn property(&self, name: &str) -> Option<&'static Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// Who may change a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Clients set it on create and PATCH.
    Writable,
    /// The service sets it; a write body's value is type-checked and ignored.
    ServerManaged,
}

/// One structural property of an entity or complex type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    /// Name as CSDL spells it.
    pub name: &'static str,
    /// Its type.
    pub ty: EdmType,
    /// CSDL `Nullable` (true unless `Nullable="false"`); for collections it is informative only.
    pub nullable: bool,
    /// Who may change it.
    pub access: Access,
    /// Longest accepted string (for string collections: per item).
    pub max_chars: usize,
    /// Most items accepted in a collection.
    pub max_items: usize,
    /// For server-managed properties: how the value does change (documentation only).
    pub note: &'static str,
}

impl Property {
    /// A nullable, writable property with the default caps.
    pub const fn new(name: &'static str, ty: EdmType) -> Self {
        Self {
            name,
            ty,
            nullable: true,
            access: Access::Writable,
            max_chars: DEFAULT_MAX_CHARS,
            max_items: DEFAULT_MAX_ITEMS,
            note: "",
        }
    }

    /// The same property with `Nullable="false"`.
    #[must_use]
    pub const fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// The same property, managed by the service; `note` says how it changes (may be empty).
    #[must_use]
    pub const fn server_managed(mut self, note: &'static str) -> Self {
        self.access = Access::ServerManaged;
        self.note = note;
        self
    }

    /// The same property with its own string length cap.
    #[must_use]
    pub const fn max_chars(mut self, max: usize) -> Self {
        self.max_chars = max;
        self
    }

    /// The same property with its own collection size cap.
    #[must_use]
    pub const fn max_items(mut self, max: usize) -> Self {
        self.max_items = max;
        self
    }
}

/// A `microsoft.graph` entity type deriving (implicitly) from `graph.entity`, whose key `id` is
/// handled by the caller.
#[derive(Debug, PartialEq, Eq)]
pub struct EntityType {
    /// Unqualified name, e.g. `depIOSEnrollmentProfile`.
    pub name: &'static str,
    /// Base type, `None` when the base is `graph.entity`.
    pub base: Option<&'static EntityType>,
    /// CSDL `Abstract="true"`: never instantiated.
    pub is_abstract: bool,
    /// Declared (not inherited) structural properties in CSDL order.
    pub properties: &'static [Property],
    /// Declared navigation property names.
    pub navigations: &'static [&'static str],
}

impl EntityType {
    /// `microsoft.graph.<name>`.
    pub fn qualified_name(&self) -> String {
        format!("{NAMESPACE}.{}", self.name)
    }

    /// `#microsoft.graph.<name>`, the `@odata.type` value of instances.
    pub fn odata_type(&self) -> String {
        format!("#{NAMESPACE}.{}", self.name)
    }

    /// Every structural property except `id`: the base type's first, each in CSDL order.
    pub fn all_properties(&self) -> Vec<&'static Property> {
        let mut all = self.base.map(Self::all_properties).unwrap_or_default();
        all.extend(self.properties.iter());
        all
    }

    /// The structural property called `name`, declared here or inherited.
    pub fn property(&self, name: &str) -> Option<&'static Property> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .or_else(|| self.base.and_then(|b| b.property(name)))
    }

    /// Whether `name` is a navigation property, declared here or inherited.
    pub fn is_navigation(&self, name: &str) -> bool {
        self.navigations.contains(&name) || self.base.is_some_and(|b| b.is_navigation(name))
    }

    /// Whether this type is `other` or derives from it (directly or not).
    pub fn derives_from(&self, other: &EntityType) -> bool {
        self.name == other.name || self.base.is_some_and(|b| b.derives_from(other))
    }
}
