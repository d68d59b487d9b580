//! The paths outside Graph's current DEP model: the retired single-token API (`crate::legacy`,
//! every operation `deprecated`, in its old shapes), the gateway's own
//! `depGateway.legacyDefaultToken` resource, and `$batch`.
//!
//! The old shapes are built from the tables `crate::legacy::convert` renders from
//! (`OLD_*_PROPERTIES`, `enrollment_state_to_old`, `platform_to_old`), with each property's type
//! taken from the current EDM tables, so the document cannot drift from what the legacy layer
//! serves. Their components live in the `depGateway.` namespace, which cannot collide with a
//! `microsoft.graph` component.

use std::collections::BTreeMap;

use utoipa::openapi::schema::{
    ArrayBuilder, Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{ComponentsBuilder, RefOr};

use super::catalog;
use super::schemas::{self, reference};
use crate::api::error::ApiError;
use crate::api::request::MAX_BATCH_REQUESTS as MAX_REQUESTS;
use crate::api::table::{Call, Operation, Query, Reply, Request, Status, Verb};
use crate::auth::Permission;
use crate::domain::devices::{DevicePlatform, EnrollmentState};
use crate::domain::edm::{EdmType, EntityType, Property};
use crate::domain::profiles;
use crate::legacy::convert::{
    OLD_DEP_PROFILE_PROPERTIES, OLD_DEVICE_PROPERTIES, OLD_PROFILE_PROPERTIES,
    OLD_SETTING_PROPERTIES, enrollment_state_to_old, platform_to_old,
};
pub use crate::legacy::routes::{
    DEFAULT_TOKEN, DEFAULT_TOKEN_UPDATE, OLD_ANY_PROFILE, OLD_DEVICE, OLD_DEVICE_RESULT,
    OLD_SETTING, TAG_GATEWAY, TAG_LEGACY,
};

/// Prefix of every component this module declares.
pub const NAMESPACE: &str = "depGateway.";
/// Old enrollmentProfile (Apple Configurator).
pub const OLD_PROFILE: &str = "depGateway.legacy.enrollmentProfile";
/// Old depEnrollmentProfile (one type for iOS and macOS).
pub const OLD_DEP_PROFILE: &str = "depGateway.legacy.depEnrollmentProfile";
/// `$batch` request body.
pub const BATCH_REQUEST: &str = "depGateway.batchRequestContent";
/// `$batch` response body.
pub const BATCH_RESPONSE: &str = "depGateway.batchResponseContent";

/// Tag of `$batch`.
pub const TAG_BATCH: &str = "batch";

/// The old-shape components that have a collection page.
pub const COLLECTIONS: [&str; 3] = [OLD_SETTING, OLD_DEVICE, OLD_DEVICE_RESULT];

fn typed(ty: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(ty)
}

/// The current property `name` of `t`: the old types' properties are a subset of the current
/// ones (the old macOS names live on today's `depEnrollmentProfile`).
fn current(t: &EntityType, name: &str) -> &'static Property {
    t.property(name)
        .unwrap_or_else(|| panic!("old property {name} is not a property of {}", t.name))
}

/// `@odata.type` (optionally fixed to one value), then a read-only `id`.
fn entity_head(title: &str, odata_type: Option<String>) -> ObjectBuilder {
    let odata = typed(Type::String).description(Some("The instance's type."));
    let b = typed(Type::Object).title(Some(title)).description(Some(
        "The retired single-token API's shape (deprecated): what old scripts send and get.",
    ));
    let b = match odata_type {
        Some(value) => b
            .property("@odata.type", odata.enum_values(Some([value])))
            .required("@odata.type"),
        None => b.property("@odata.type", odata),
    };
    b.property(
        "id",
        typed(Type::String)
            .read_only(true)
            .description(Some("The key, assigned by the service.")),
    )
}

fn old_members<T: Copy + PartialEq>(
    all: &[T],
    to_old: impl Fn(T) -> T,
    name: impl Fn(T) -> &'static str,
) -> Vec<&'static str> {
    all.iter()
        .copied()
        .filter(|m| to_old(*m) == *m)
        .map(name)
        .collect()
}

/// The old enums are subsets of today's: the members the conversion keeps as they are.
fn old_enum(name: &str) -> Option<RefOr<Schema>> {
    let members = match name {
        "enrollmentState" => old_members(
            EnrollmentState::ALL,
            enrollment_state_to_old,
            EnrollmentState::as_str,
        ),
        "platform" => old_members(DevicePlatform::ALL, platform_to_old, DevicePlatform::as_str),
        _ => return None,
    };
    Some(
        typed(Type::String)
            .title(Some(format!("{name} (single-token API members)")))
            .enum_values(Some(members))
            .into(),
    )
}

fn old_device_object(title: &str, odata_type: Option<String>) -> ObjectBuilder {
    let t = &catalog::IMPORTED_APPLE_DEVICE_IDENTITY;
    OLD_DEVICE_PROPERTIES
        .iter()
        .fold(entity_head(title, odata_type), |b, name| {
            let schema = match current(t, name).ty {
                EdmType::Enum(e) => {
                    old_enum(e.name).unwrap_or_else(|| schemas::property_schema(current(t, name)))
                }
                _ => schemas::property_schema(current(t, name)),
            };
            b.property(*name, schema)
        })
}

fn old_profile(t: &EntityType, names: &[&str], title: &str) -> Schema {
    let dep = &profiles::DEP_ENROLLMENT_PROFILE;
    names
        .iter()
        .fold(entity_head(title, Some(t.odata_type())), |b, name| {
            b.property(*name, schemas::property_schema(current(dep, name)))
        })
        .into()
}

fn old_any_profile() -> Schema {
    let items = [
        (profiles::ENROLLMENT_PROFILE.odata_type(), OLD_PROFILE),
        (
            profiles::DEP_ENROLLMENT_PROFILE.odata_type(),
            OLD_DEP_PROFILE,
        ),
    ];
    let mut discriminator = Discriminator::new("@odata.type");
    discriminator.mapping = items
        .iter()
        .map(|(odata, name)| (odata.clone(), format!("#/components/schemas/{name}")))
        .collect::<BTreeMap<_, _>>();
    items
        .iter()
        .fold(OneOfBuilder::new(), |b, (_, name)| b.item(reference(name)))
        .title(Some(
            "enrollmentProfile of the single-token API (either old type)",
        ))
        .discriminator(Some(discriminator))
        .into()
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
        Type::String,
        Type::Null,
    ]))
}

fn batch_request() -> Schema {
    let methods = ["GET", "POST", "PATCH", "PUT", "DELETE"];
    let id = || {
        OneOfBuilder::new()
            .item(typed(Type::String).min_length(Some(1)))
            .item(typed(Type::Integer))
            .description(Some("A request id: a string, or an integer."))
    };
    let item = typed(Type::Object)
        .title(Some("batchRequestStep"))
        .property("id", id())
        .property("method", typed(Type::String).enum_values(Some(methods)))
        .property(
            "url",
            typed(Type::String).description(Some(
                "Relative to the version root, e.g. `deviceManagement/depOnboardingSettings` (a leading `/beta` is accepted).",
            )),
        )
        .property(
            "headers",
            typed(Type::Object)
                .additional_properties(Some(typed(Type::String)))
                .description(Some("`Content-Type` is required with a body; `Authorization` is ignored.")),
        )
        .property(
            "body",
            ObjectBuilder::new().description(Some(
                "JSON, or a base64 string for other payloads.",
            )),
        )
        .property("dependsOn", ArrayBuilder::new().items(id()))
        .required("id")
        .required("method")
        .required("url");
    typed(Type::Object)
        .title(Some("batchRequestContent"))
        .description(Some(
            "JSON batching: the requests run as the batch's caller, concurrently unless `dependsOn` orders them.",
        ))
        .property(
            "requests",
            ArrayBuilder::new()
                .items(item)
                .min_items(Some(1))
                .max_items(Some(MAX_REQUESTS)),
        )
        .required("requests")
        .into()
}

fn batch_response() -> Schema {
    let item = typed(Type::Object)
        .title(Some("batchResponseStep"))
        .property("id", typed(Type::String))
        .property(
            "status",
            typed(Type::Integer).description(Some(
                "The request's HTTP status (424 when a dependency failed).",
            )),
        )
        .property(
            "headers",
            typed(Type::Object).additional_properties(Some(typed(Type::String))),
        )
        .property(
            "body",
            ObjectBuilder::new().description(Some(
                "The JSON body, or the text of a `text/plain` one; absent when empty.",
            )),
        )
        .required("id")
        .required("status")
        .required("headers");
    typed(Type::Object)
        .title(Some("batchResponseContent"))
        .property("responses", ArrayBuilder::new().items(item))
        .required("responses")
        .into()
}

fn default_token() -> Schema {
    typed(Type::Object)
        .title(Some(DEFAULT_TOKEN))
        .description(Some(
            "The depOnboardingSetting the single-token API's calls go to (a gateway resource, not a Graph entity).",
        ))
        .property("@odata.context", typed(Type::String))
        .property(
            "designatedDepOnboardingSettingId",
            nullable_string().description(Some("The designated setting, if any.")),
        )
        .property(
            "effectiveDepOnboardingSettingId",
            nullable_string().description(Some(
                "The setting old calls go to now: the designated one, or the only one; null when undecided.",
            )),
        )
        .property(
            "depOnboardingSettingCount",
            typed(Type::Integer).minimum(Some(0)),
        )
        .required("designatedDepOnboardingSettingId")
        .required("effectiveDepOnboardingSettingId")
        .required("depOnboardingSettingCount")
        .into()
}

fn default_token_update() -> Schema {
    typed(Type::Object)
        .title(Some(DEFAULT_TOKEN_UPDATE))
        .property(
            "depOnboardingSettingId",
            nullable_string().description(Some("A depOnboardingSetting id, or null to clear.")),
        )
        .required("depOnboardingSettingId")
        .into()
}

/// The components of this module.
pub fn components(builder: ComponentsBuilder) -> ComponentsBuilder {
    let setting = OLD_SETTING_PROPERTIES.iter().fold(
        entity_head("depOnboardingSetting (single-token API)", None),
        |b, name| {
            b.property(
                *name,
                schemas::property_schema(current(&catalog::DEP_ONBOARDING_SETTING, name)),
            )
        },
    );
    let device = old_device_object("importedAppleDeviceIdentity (single-token API)", None);
    let result = old_device_object("importedAppleDeviceIdentityResult (single-token API)", None)
        .property(
            "status",
            typed(Type::Boolean).description(Some("Whether this item was imported.")),
        );
    let mut dep_names = OLD_PROFILE_PROPERTIES.to_vec();
    dep_names.extend(OLD_DEP_PROFILE_PROPERTIES);
    let mut b = builder
        .schema(OLD_SETTING, Schema::from(setting))
        .schema(OLD_DEVICE, Schema::from(device))
        .schema(OLD_DEVICE_RESULT, Schema::from(result))
        .schema(
            OLD_PROFILE,
            old_profile(
                &profiles::ENROLLMENT_PROFILE,
                &OLD_PROFILE_PROPERTIES,
                "enrollmentProfile (single-token API)",
            ),
        )
        .schema(
            OLD_DEP_PROFILE,
            old_profile(
                &profiles::DEP_ENROLLMENT_PROFILE,
                &dep_names,
                "depEnrollmentProfile (single-token API)",
            ),
        )
        .schema(OLD_ANY_PROFILE, old_any_profile());
    for name in COLLECTIONS.into_iter().chain([OLD_ANY_PROFILE]) {
        b = b.schema(
            schemas::collection_name(name),
            schemas::collection_schema(reference(name), &format!("Collection of {name}")),
        );
    }
    b.schema(DEFAULT_TOKEN, default_token())
        .schema(DEFAULT_TOKEN_UPDATE, default_token_update())
        .schema(BATCH_REQUEST, batch_request())
        .schema(BATCH_RESPONSE, batch_response())
}

/// An old action's body: the current action's parameters with the old item type.
pub fn old_import_parameters() -> RefOr<Schema> {
    typed(Type::Object)
        .title(Some("importAppleDeviceIdentityListParameters"))
        .property(
            "importedAppleDeviceIdentities",
            ArrayBuilder::new().items(reference(OLD_DEVICE)),
        )
        .required("importedAppleDeviceIdentities")
        .property("overwriteImportedDeviceIdentities", typed(Type::Boolean))
        .required("overwriteImportedDeviceIdentities")
        .into()
}

/// `$batch`: answered before the operation table (`http::batch`), documented here.
pub fn batch_operation() -> Operation {
    Operation {
        verb: Verb::Post,
        path: "/$batch".to_owned(),
        id: "batch_PostBatch".to_owned(),
        summary: "JSON batching: up to 20 requests in one call".to_owned(),
        // The batch needs a token; each request is authorised on its own (a 403 comes back
        // inside the batch).
        permission: Permission::Read,
        query: Query::Ignored,
        request: Request::Component(BATCH_REQUEST),
        reply: Reply::Component(BATCH_RESPONSE, Status::Ok),
        tag: TAG_BATCH,
        deprecated: false,
        documented: true,
        legacy: None,
        handler: crate::handler!(not_in_the_table),
    }
}

/// `$batch` never reaches the table (a nested one is refused before routing).
async fn not_in_the_table(_: Call<'_>) -> Result<crate::api::response::GraphResponse, ApiError> {
    Err(ApiError::BadRequest(
        "A $batch request cannot contain another $batch request.".to_owned(),
    ))
}
