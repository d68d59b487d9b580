//! The audit trail's components (`microsoft.graph.auditEvent` and the complex types it holds),
//! written out here: the trail is not part of the DEP EDM tables (`reference/csdl`, beta shape;
//! v1.0 answers leave out the beta-only members).

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ComponentsBuilder, RefOr};

use super::schemas::{collection_name, collection_schema, reference};
use crate::api::handlers::audit::AUDIT_EVENT;

const ACTOR: &str = "microsoft.graph.auditActor";
const RESOURCE: &str = "microsoft.graph.auditResource";
const PROPERTY: &str = "microsoft.graph.auditProperty";

fn string(null: bool) -> ObjectBuilder {
    if null {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    }
}

fn strings() -> RefOr<Schema> {
    ArrayBuilder::new().items(string(false)).into()
}

fn object(title: &str, props: &[&str]) -> ObjectBuilder {
    props.iter().fold(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some(title)),
        |b, p| b.property(*p, string(true)),
    )
}

fn event() -> Schema {
    object(
        "auditEvent",
        &[
            "displayName",
            "componentName",
            "activity",
            "activityType",
            "activityOperationType",
            "activityResult",
            "category",
        ],
    )
    .property("id", string(false))
    .property(
        "activityDateTime",
        string(false).description(Some("UTC, seven fractional digits")),
    )
    .property("correlationId", string(false))
    .property("actor", reference(ACTOR))
    .property("resources", ArrayBuilder::new().items(reference(RESOURCE)))
    .required("id")
    .required("activityDateTime")
    .required("correlationId")
    .into()
}

/// The components of this module.
pub fn components(builder: ComponentsBuilder) -> ComponentsBuilder {
    let actor = object(
        "auditActor",
        &[
            "auditActorType",
            "type",
            "userId",
            "userPrincipalName",
            "applicationId",
            "applicationDisplayName",
            "servicePrincipalName",
            "ipAddress",
            "remoteTenantId",
            "remoteUserId",
        ],
    )
    .property("userPermissions", strings())
    .property(
        "userRoleScopeTags",
        ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object)),
    );
    let resource = object(
        "auditResource",
        &["displayName", "auditResourceType", "type", "resourceId"],
    )
    .property(
        "modifiedProperties",
        ArrayBuilder::new().items(reference(PROPERTY)),
    );
    let property = object("auditProperty", &["displayName", "oldValue", "newValue"]);
    builder
        .schema(AUDIT_EVENT, event())
        .schema(
            collection_name(AUDIT_EVENT),
            collection_schema(reference(AUDIT_EVENT), "Collection of auditEvent"),
        )
        .schema(ACTOR, Schema::from(actor))
        .schema(RESOURCE, Schema::from(resource))
        .schema(PROPERTY, Schema::from(property))
}
