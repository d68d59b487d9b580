//! EDM tables to `OpenAPI` 3.1 schemas (utoipa's builder API): one component per entity, complex
//! and enum type, the polymorphic enrollment profile union, collection pages and the Graph
//! error envelope.

use std::collections::BTreeMap;

use utoipa::openapi::schema::{
    ArrayBuilder, Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Ref, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{ComponentsBuilder, RefOr};

use super::catalog;
use crate::domain::edm::{Access, ComplexType, EdmType, EntityType, EnumType, NAMESPACE, Property};
use crate::domain::profiles;

/// Component name of the union of every instantiable enrollment profile type.
pub const ANY_ENROLLMENT_PROFILE: &str = "microsoft.graph.enrollmentProfile.anyType";
/// Component name of the Graph error envelope.
pub const ODATA_ERROR: &str = "microsoft.graph.ODataErrors.ODataError";
const MAIN_ERROR: &str = "microsoft.graph.ODataErrors.MainError";
const INNER_ERROR: &str = "microsoft.graph.ODataErrors.InnerError";

/// `microsoft.graph.<name>`, the component name of an EDM type.
pub fn component(name: &str) -> String {
    format!("{NAMESPACE}.{name}")
}

/// A `$ref` to the component `name`.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// Whether a schema also admits JSON `null`. An enum rather than a `bool` argument, so that
/// `typed(Type::String, Null::Allowed)` says what it means at the call site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Null {
    /// `null` is a valid value (CSDL `Nullable="true"`).
    Allowed,
    /// Only values of the type itself.
    Refused,
}

impl Null {
    /// From a CSDL-style `nullable` flag held in a table's field.
    pub const fn allowed_if(nullable: bool) -> Self {
        if nullable {
            Self::Allowed
        } else {
            Self::Refused
        }
    }
}

fn typed(ty: Type, null: Null) -> ObjectBuilder {
    if null == Null::Allowed {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([ty, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(ty)
    }
}

fn formatted(ty: Type, format: KnownFormat, null: Null) -> ObjectBuilder {
    typed(ty, null).format(Some(SchemaFormat::KnownFormat(format)))
}

fn nullable_ref(name: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(reference(name))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// The schema of one value of `ty` (`null` applies to single values only: collections are
/// always arrays). String caps become `maxLength`, collection caps `maxItems`.
pub fn value_schema(ty: EdmType, null: Null, max_chars: Option<usize>) -> RefOr<Schema> {
    let text = |format: Option<SchemaFormat>, null: Null| {
        let b = typed(Type::String, null).max_length(max_chars);
        match format {
            Some(f) => b.format(Some(f)),
            None => b,
        }
    };
    match ty {
        EdmType::Boolean => typed(Type::Boolean, null).into(),
        EdmType::String => text(None, null).into(),
        EdmType::Int32 => formatted(Type::Integer, KnownFormat::Int32, null)
            .minimum(Some(i32::MIN))
            .maximum(Some(i32::MAX))
            .into(),
        EdmType::Guid => text(Some(uuid()), null).into(),
        EdmType::DateTimeOffset => formatted(Type::String, KnownFormat::DateTime, null).into(),
        EdmType::Enum(e) => enum_or_complex(&component(e.name), null),
        EdmType::Complex(c) => enum_or_complex(&component(c.name), null),
        EdmType::StringCollection => ArrayBuilder::new().items(text(None, Null::Refused)).into(),
        EdmType::GuidCollection => ArrayBuilder::new()
            .items(typed(Type::String, Null::Refused).format(Some(uuid())))
            .into(),
        EdmType::ComplexCollection(c) => ArrayBuilder::new()
            .items(reference(&component(c.name)))
            .into(),
    }
}

fn enum_or_complex(name: &str, null: Null) -> RefOr<Schema> {
    if null == Null::Allowed {
        nullable_ref(name)
    } else {
        reference(name)
    }
}

pub fn property_schema(p: &Property) -> RefOr<Schema> {
    let schema = value_schema(p.ty, Null::allowed_if(p.nullable), Some(p.max_chars));
    let schema = match (schema, p.ty.is_collection()) {
        (RefOr::T(Schema::Array(a)), true) => {
            let mut a = a;
            a.max_items = Some(p.max_items);
            RefOr::T(Schema::Array(a))
        }
        (other, _) => other,
    };
    if p.access == Access::ServerManaged {
        read_only(schema)
    } else {
        schema
    }
}

/// Marks a schema `readOnly` (3.1 allows it beside `$ref`); utoipa's arrays have no
/// `readOnly`, so theirs is said in the description.
fn read_only(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut o)) => {
            o.read_only = Some(true);
            RefOr::T(Schema::Object(o))
        }
        RefOr::T(Schema::OneOf(mut o)) => {
            o.read_only = Some(true);
            RefOr::T(Schema::OneOf(o))
        }
        RefOr::T(Schema::Array(mut a)) => {
            a.description = Some("Read-only: set by the service.".to_owned());
            RefOr::T(Schema::Array(a))
        }
        RefOr::Ref(mut r) => {
            r.read_only = Some(true);
            RefOr::Ref(r)
        }
        other @ RefOr::T(_) => other,
    }
}

fn uuid() -> SchemaFormat {
    SchemaFormat::Custom("uuid".to_owned())
}

fn object_of<'a>(title: &str, props: impl IntoIterator<Item = &'a Property>) -> ObjectBuilder {
    props.into_iter().fold(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some(title)),
        |b, p| b.property(p.name, property_schema(p)),
    )
}

/// Whether instances of `t` must say their type: the members of the polymorphic profile set.
fn is_polymorphic(t: &EntityType) -> bool {
    t.derives_from(&profiles::ENROLLMENT_PROFILE)
}

/// An entity type: `@odata.type`, `id`, then every structural property (inherited first).
pub fn entity_schema(t: &EntityType) -> Schema {
    let odata_type = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("The instance's type, e.g. `#microsoft.graph.<type>`."));
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(t.name))
        .description(Some(format!("`{}`", t.qualified_name())));
    if is_polymorphic(t) && !t.is_abstract {
        b = b
            .property(
                "@odata.type",
                odata_type.enum_values(Some([t.odata_type()])),
            )
            .required("@odata.type");
    } else {
        b = b.property("@odata.type", odata_type);
    }
    b = b.property(
        "id",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .read_only(true)
            .description(Some("The key, assigned by the service.")),
    );
    t.all_properties()
        .into_iter()
        .fold(b, |b, p| b.property(p.name, property_schema(p)))
        .into()
}

fn complex_schema(c: &ComplexType) -> Schema {
    object_of(c.name, c.properties.iter())
        .description(Some(format!("`{}`", c.qualified_name())))
        .into()
}

fn enum_schema(e: &EnumType) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .title(Some(e.name))
        .description(Some(format!("`{}`", e.qualified_name())))
        .enum_values(Some(e.members.iter().copied()))
        .into()
}

/// `oneOf` the instantiable profile types, told apart by `@odata.type`.
fn any_enrollment_profile() -> Schema {
    let concrete: Vec<_> = profiles::all_profile_types()
        .iter()
        .filter(|t| !t.is_abstract)
        .collect();
    let mut discriminator = Discriminator::new("@odata.type");
    discriminator.mapping = concrete
        .iter()
        .map(|t| {
            (
                t.odata_type(),
                format!("#/components/schemas/{}", component(t.name)),
            )
        })
        .collect::<BTreeMap<_, _>>();
    concrete
        .iter()
        .fold(OneOfBuilder::new(), |b, t| {
            b.item(reference(&component(t.name)))
        })
        .title(Some("enrollmentProfile (any type)"))
        .description(Some(
            "An enrollment profile of any instantiable type; `@odata.type` names the type.",
        ))
        .discriminator(Some(discriminator))
        .into()
}

/// Component name of the collection page of `item` (Graph's naming).
pub fn collection_name(item: &str) -> String {
    format!("{item}CollectionResponse")
}

pub fn collection_schema(item: RefOr<Schema>, title: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(title))
        .property("@odata.context", typed(Type::String, Null::Refused))
        .property(
            "@odata.count",
            formatted(Type::Integer, KnownFormat::Int64, Null::Refused),
        )
        .property("@odata.nextLink", typed(Type::String, Null::Allowed))
        .property("value", ArrayBuilder::new().items(item))
        .required("value")
        .into()
}

fn error_schemas() -> [(String, Schema); 3] {
    let text = || typed(Type::String, Null::Refused);
    [
        (
            ODATA_ERROR.to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some("ODataError"))
                .property("error", reference(MAIN_ERROR))
                .required("error")
                .into(),
        ),
        (
            MAIN_ERROR.to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some("MainError"))
                .property("code", text())
                .property("message", text())
                .property("innerError", reference(INNER_ERROR))
                .required("code")
                .required("message")
                .into(),
        ),
        (
            INNER_ERROR.to_owned(),
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some("InnerError"))
                .property(
                    "date",
                    formatted(Type::String, KnownFormat::DateTime, Null::Refused),
                )
                .property("request-id", text())
                .property("client-request-id", text())
                .into(),
        ),
    ]
}

/// Every schema component: EDM types, collection pages, the profile union and the error.
pub fn components(builder: ComponentsBuilder) -> ComponentsBuilder {
    let mut b = builder;
    for t in catalog::entity_types() {
        b = b.schema(component(t.name), entity_schema(t));
    }
    for c in catalog::complex_types() {
        b = b.schema(component(c.name), complex_schema(c));
    }
    for e in catalog::enum_types() {
        b = b.schema(component(e.name), enum_schema(e));
    }
    b = b.schema(ANY_ENROLLMENT_PROFILE, any_enrollment_profile());
    for item in [
        &catalog::DEP_ONBOARDING_SETTING,
        &catalog::IMPORTED_APPLE_DEVICE_IDENTITY,
        &catalog::IMPORTED_APPLE_DEVICE_IDENTITY_RESULT,
        &catalog::VPP_TOKEN,
    ] {
        let name = component(item.name);
        b = b.schema(
            collection_name(&name),
            collection_schema(reference(&name), &format!("Collection of {}", item.name)),
        );
    }
    b = b.schema(
        collection_name(&component(profiles::ENROLLMENT_PROFILE.name)),
        collection_schema(
            reference(ANY_ENROLLMENT_PROFILE),
            "Collection of enrollmentProfile",
        ),
    );
    for (name, schema) in error_schemas() {
        b = b.schema(name, schema);
    }
    super::audit::components(super::legacy::components(b))
}

/// `{"value": <ty>}`: the body of a function or action that returns one value.
pub fn value_result(ty: EdmType, null: Null) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("@odata.context", typed(Type::String, Null::Refused))
        .property("value", value_schema(ty, null, None))
        .required("value")
        .into()
}
