//! The table of served operations. One row per operation: adding a path to the document is
//! adding a row to [`operations`] (the legacy single-token paths go in the same way).
//!
//! Operation ids are Graph's own (msgraph-metadata / the PowerShell SDK's `OpenAPI` documents),
//! except that bound operations keep their plain names where the PowerShell documents shorten
//! them (`shareGraphFPreSchoolDataSyncService`); paths use the unqualified operation segment,
//! as Graph's docs and the Kiota SDKs do (the gateway also accepts `microsoft.graph.`-qualified
//! ones).

use crate::auth::Permission;
use crate::domain::edm::{EdmType, EntityType};
use crate::domain::profiles::{self, Platform};
use crate::odata::QueryOption;
use crate::service::paging::{
    COLLECTION_OPTIONS, COUNT_OPTIONS, ENTITY_OPTIONS, EXPANDABLE_ENTITY_OPTIONS,
    SEARCHABLE_COLLECTION_OPTIONS, SEARCHABLE_COUNT_OPTIONS,
};

use super::catalog;

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// PUT.
    Put,
}

/// The type of one action parameter.
#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    /// A primitive, enum or complex value (or a collection of them).
    Edm(EdmType),
    /// A collection of entities, e.g. importAppleDeviceIdentityList's identities.
    Entities(&'static EntityType),
}

/// One parameter of a bound action, as CSDL declares it.
#[derive(Debug, Clone, Copy)]
pub struct ActionParam {
    /// Parameter name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// CSDL `Nullable`.
    pub nullable: bool,
}

const fn param(name: &'static str, ty: EdmType) -> ActionParam {
    ActionParam {
        name,
        ty: ParamType::Edm(ty),
        nullable: true,
    }
}

/// A bound action's request body.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// The action's name.
    pub name: &'static str,
    /// Its parameters (after the binding parameter), in CSDL order.
    pub params: &'static [ActionParam],
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Request {
    /// No body.
    None,
    /// A JSON entity of the named type (create: full; PATCH: the properties to change).
    Entity(&'static EntityType),
    /// An enrollment profile of any instantiable type (`@odata.type` required).
    AnyProfile,
    /// An action's parameters.
    Action(Action),
    /// An action without parameters: no body, `{}` or `null`.
    NoParams,
    /// A JSON body described by the named component (outside the EDM tables).
    Component(&'static str),
    /// The single-token API's importAppleDeviceIdentityList (old identity shape).
    OldImport,
}

/// What a success looks like.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// `204 No Content`.
    NoContent,
    /// `200` (or `201` when `created`) with an entity of the type.
    Entity(&'static EntityType, bool),
    /// `200` with a profile of any type (`201` when created).
    AnyProfile(bool),
    /// `200` with a profile of any type, or `204` when the navigation is empty.
    OptionalProfile,
    /// `200` with a page of the collection whose component is named.
    Collection(&'static EntityType),
    /// `200` with a page of profiles of any type.
    ProfileCollection,
    /// `200` `text/plain` with the number of items.
    Count,
    /// `200` with `{"value": …}`.
    Value(EdmType, bool),
    /// `200` (or `201` when `created`) with the named component (outside the EDM tables).
    Component(&'static str, bool),
    /// `200` with a page of the named component (outside the EDM tables).
    ComponentCollection(&'static str),
}

/// One served operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Method.
    pub verb: Verb,
    /// Path below `/beta`, with `{name}` parameters.
    pub path: String,
    /// Graph's operation id.
    pub id: String,
    /// One-line summary.
    pub summary: String,
    /// The least permission that allows it.
    pub permission: Permission,
    /// Accepted OData system query options.
    pub query: &'static [QueryOption],
    /// Request body.
    pub request: Request,
    /// Success response.
    pub reply: Reply,
    /// Tag grouping it in the docs.
    pub tag: &'static str,
    /// Kept for old clients only (the single-token API).
    pub deprecated: bool,
}

const SETTINGS: &str = "/deviceManagement/depOnboardingSettings";
const SETTING: &str = "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}";
const PROFILES: &str =
    "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/enrollmentProfiles";
const PROFILE: &str = "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/enrollmentProfiles/{enrollmentProfile-id}";
const DEVICES: &str = "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/importedAppleDeviceIdentities";
const DEVICE: &str = "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}/importedAppleDeviceIdentities/{importedAppleDeviceIdentity-id}";
const VPP_TOKENS: &str = "/deviceAppManagement/vppTokens";
const VPP_TOKEN: &str = "/deviceAppManagement/vppTokens/{vppToken-id}";

const TAG_SETTINGS: &str = "deviceManagement.depOnboardingSetting";
const TAG_PROFILES: &str = "deviceManagement.depOnboardingSetting.enrollmentProfile";
const TAG_DEVICES: &str = "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity";
const TAG_VPP: &str = "deviceAppManagement.vppToken";
const TAG_DEVICE_MANAGEMENT: &str = "deviceManagement.deviceManagement";

/// `uploadDepToken(appleId, depToken)`.
pub const UPLOAD_DEP_TOKEN: Action = Action {
    name: "uploadDepToken",
    params: &[
        param("appleId", EdmType::String),
        param("depToken", EdmType::String),
    ],
};
/// `releaseAppleDevices(depToken, deviceSerialNumbers)`.
pub const RELEASE_APPLE_DEVICES: Action = Action {
    name: "releaseAppleDevices",
    params: &[
        param("depToken", EdmType::String),
        param("deviceSerialNumbers", EdmType::StringCollection),
    ],
};
/// `updateDeviceProfileAssignment(deviceIds)`.
pub const UPDATE_DEVICE_PROFILE_ASSIGNMENT: Action = Action {
    name: "updateDeviceProfileAssignment",
    params: &[param("deviceIds", EdmType::StringCollection)],
};
/// `importAppleDeviceIdentityList(importedAppleDeviceIdentities, overwriteImportedDeviceIdentities)`.
pub const IMPORT_APPLE_DEVICE_IDENTITY_LIST: Action = Action {
    name: "importAppleDeviceIdentityList",
    params: &[
        ActionParam {
            name: "importedAppleDeviceIdentities",
            ty: ParamType::Entities(&catalog::IMPORTED_APPLE_DEVICE_IDENTITY),
            nullable: true,
        },
        ActionParam {
            name: "overwriteImportedDeviceIdentities",
            ty: ParamType::Edm(EdmType::Boolean),
            nullable: false,
        },
    ],
};

/// A row of the table.
#[expect(
    clippy::too_many_arguments,
    reason = "one positional argument per column keeps each row of the table short"
)]
fn op(
    verb: Verb,
    path: impl Into<String>,
    id: impl Into<String>,
    summary: impl Into<String>,
    permission: Permission,
    query: &'static [QueryOption],
    request: Request,
    reply: Reply,
    tag: &'static str,
) -> Operation {
    Operation {
        verb,
        path: path.into(),
        id: id.into(),
        summary: summary.into(),
        permission,
        query,
        request,
        reply,
        tag,
        deprecated: false,
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Every served operation, in document order.
#[expect(clippy::too_many_lines, reason = "the table itself: one row per operation")]
#[rustfmt::skip] // rows stay compact: method, path, id, summary, permission, query, body, reply, tag
pub fn operations() -> Vec<Operation> {
    use Permission::{Read, Write};
    use Verb::{Delete, Get, Patch, Post};
    let setting = &catalog::DEP_ONBOARDING_SETTING;
    let device = &catalog::IMPORTED_APPLE_DEVICE_IDENTITY;
    let vpp = &catalog::VPP_TOKEN;
    let (settings, profiles, devices) = (TAG_SETTINGS, TAG_PROFILES, TAG_DEVICES);
    let mut ops = vec![
        op(Get, "/deviceManagement", "deviceManagement.deviceManagement_GetDeviceManagement",
            "Get the DEP-related members of deviceManagement", Read, ENTITY_OPTIONS, Request::None,
            Reply::Entity(&catalog::DEVICE_MANAGEMENT, false), TAG_DEVICE_MANAGEMENT),
        op(Get, SETTINGS, "deviceManagement_ListDepOnboardingSetting",
            "List depOnboardingSettings", Read, COLLECTION_OPTIONS, Request::None,
            Reply::Collection(setting), settings),
        op(Post, SETTINGS, "deviceManagement_CreateDepOnboardingSetting",
            "Create a depOnboardingSetting", Write, &[], Request::Entity(setting),
            Reply::Entity(setting, true), settings),
        op(Get, format!("{SETTINGS}/$count"), "deviceManagement.depOnboardingSetting_GetCount",
            "Count depOnboardingSettings", Read, COUNT_OPTIONS, Request::None, Reply::Count, settings),
        op(Get, format!("{SETTINGS}/getExpiringVppTokenCount(expiringBeforeDateTime='{{expiringBeforeDateTime}}')"),
            "deviceManagement.depOnboardingSetting_getExpiringVppTokenCount",
            "Invoke function getExpiringVppTokenCount", Read, &[], Request::None,
            Reply::Value(EdmType::Int32, false), settings),
        op(Get, SETTING, "deviceManagement_GetDepOnboardingSetting",
            "Get a depOnboardingSetting", Read, EXPANDABLE_ENTITY_OPTIONS, Request::None,
            Reply::Entity(setting, false), settings),
        op(Patch, SETTING, "deviceManagement_UpdateDepOnboardingSetting",
            "Update a depOnboardingSetting", Write, &[], Request::Entity(setting), Reply::NoContent,
            settings),
        op(Delete, SETTING, "deviceManagement_DeleteDepOnboardingSetting",
            "Delete a depOnboardingSetting", Write, &[], Request::None, Reply::NoContent, settings),
        // GRAPH-COMPAT: Graph publishes the read permissions for generateEncryptionPublicKey
        // although it is a POST (graph-dep-api.md §1).
        op(Post, format!("{SETTING}/generateEncryptionPublicKey"),
            "deviceManagement.depOnboardingSetting_generateEncryptionPublicKey",
            "Invoke action generateEncryptionPublicKey", Read, &[], Request::NoParams,
            Reply::Value(EdmType::String, true), settings),
        op(Get, format!("{SETTING}/getEncryptionPublicKey()"),
            "deviceManagement.depOnboardingSetting_getEncryptionPublicKey",
            "Invoke function getEncryptionPublicKey", Read, &[], Request::None,
            Reply::Value(EdmType::String, true), settings),
        op(Post, format!("{SETTING}/uploadDepToken"),
            "deviceManagement.depOnboardingSetting_uploadDepToken", "Invoke action uploadDepToken",
            Write, &[], Request::Action(UPLOAD_DEP_TOKEN), Reply::NoContent, settings),
        op(Post, format!("{SETTING}/syncWithAppleDeviceEnrollmentProgram"),
            "deviceManagement.depOnboardingSetting_syncWithAppleDeviceEnrollmentProgram",
            "Invoke action syncWithAppleDeviceEnrollmentProgram", Write, &[], Request::NoParams,
            Reply::NoContent, settings),
        op(Post, format!("{SETTING}/shareForSchoolDataSyncService"),
            "deviceManagement.depOnboardingSetting_shareForSchoolDataSyncService",
            "Invoke action shareForSchoolDataSyncService", Write, &[], Request::NoParams,
            Reply::NoContent, settings),
        op(Post, format!("{SETTING}/unshareForSchoolDataSyncService"),
            "deviceManagement.depOnboardingSetting_unshareForSchoolDataSyncService",
            "Invoke action unshareForSchoolDataSyncService", Write, &[], Request::NoParams,
            Reply::NoContent, settings),
        op(Post, format!("{SETTING}/releaseAppleDevices"),
            "deviceManagement.depOnboardingSetting_releaseAppleDevices",
            "Invoke action releaseAppleDevices", Write, &[], Request::Action(RELEASE_APPLE_DEVICES),
            Reply::NoContent, settings),
    ];
    for p in Platform::ALL {
        let nav = p.default_navigation();
        ops.push(op(Get, format!("{SETTING}/{nav}"),
            format!("deviceManagement.depOnboardingSetting_Get{}", upper_first(nav)),
            format!("Get {nav} (204 when none is set)"), Read, ENTITY_OPTIONS, Request::None,
            Reply::OptionalProfile, settings));
    }
    ops.extend([
        op(Get, PROFILES, "deviceManagement.depOnboardingSetting_ListEnrollmentProfile",
            "List enrollmentProfiles of every type", Read, SEARCHABLE_COLLECTION_OPTIONS,
            Request::None, Reply::ProfileCollection, profiles),
        op(Post, PROFILES, "deviceManagement.depOnboardingSetting_CreateEnrollmentProfile",
            "Create an enrollmentProfile (`@odata.type` picks the type)", Write, &[],
            Request::AnyProfile, Reply::AnyProfile(true), profiles),
        op(Get, format!("{PROFILES}/$count"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_GetCount",
            "Count enrollmentProfiles", Read, SEARCHABLE_COUNT_OPTIONS, Request::None, Reply::Count,
            profiles),
        op(Get, PROFILE, "deviceManagement.depOnboardingSetting_GetEnrollmentProfile",
            "Get an enrollmentProfile", Read, ENTITY_OPTIONS, Request::None,
            Reply::AnyProfile(false), profiles),
        op(Patch, PROFILE, "deviceManagement.depOnboardingSetting_UpdateEnrollmentProfile",
            "Update an enrollmentProfile (`@odata.type` must be the stored type)", Write, &[],
            Request::AnyProfile, Reply::NoContent, profiles),
        op(Delete, PROFILE, "deviceManagement.depOnboardingSetting_DeleteEnrollmentProfile",
            "Delete an enrollmentProfile", Write, &[], Request::None, Reply::NoContent, profiles),
        op(Get, format!("{PROFILE}/exportMobileConfig()"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_exportMobileConfig",
            "Invoke function exportMobileConfig", Read, &[], Request::None,
            Reply::Value(EdmType::String, true), profiles),
        op(Post, format!("{PROFILE}/setDefaultProfile"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_setDefaultProfile",
            "Invoke action setDefaultProfile", Write, &[], Request::NoParams, Reply::NoContent,
            profiles),
        op(Post, format!("{PROFILE}/updateDeviceProfileAssignment"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_updateDeviceProfileAssignment",
            "Invoke action updateDeviceProfileAssignment", Write, &[],
            Request::Action(UPDATE_DEVICE_PROFILE_ASSIGNMENT), Reply::NoContent, profiles),
    ]);
    for t in profiles::all_profile_types()
        .iter()
        .filter(|t| t.name != profiles::ENROLLMENT_PROFILE.name)
    {
        let cast = format!("microsoft.graph.{}", t.name);
        let as_type = format!("As{}", upper_first(t.name));
        ops.extend([
            op(Get, format!("{PROFILES}/{cast}"),
                format!("deviceManagement.depOnboardingSetting.ListEnrollmentProfiles.{as_type}"),
                format!("List the enrollmentProfiles that are {}", t.name), Read,
                SEARCHABLE_COLLECTION_OPTIONS, Request::None, Reply::ProfileCollection, profiles),
            op(Get, format!("{PROFILES}/{cast}/$count"),
                format!("deviceManagement.depOnboardingSetting.enrollmentProfiles.GetCount.{as_type}"),
                format!("Count the enrollmentProfiles that are {}", t.name), Read,
                SEARCHABLE_COUNT_OPTIONS, Request::None, Reply::Count, profiles),
            op(Get, format!("{PROFILE}/{cast}"),
                format!("deviceManagement.depOnboardingSetting.GetEnrollmentProfiles.{as_type}"),
                format!("Get an enrollmentProfile if it is {}", t.name), Read, ENTITY_OPTIONS,
                Request::None, Reply::AnyProfile(false), profiles),
        ]);
    }
    ops.extend([
        op(Get, DEVICES, "deviceManagement.depOnboardingSetting_ListImportedAppleDeviceIdentity",
            "List importedAppleDeviceIdentities (`$search` matches serial numbers)", Read,
            SEARCHABLE_COLLECTION_OPTIONS, Request::None, Reply::Collection(device), devices),
        op(Post, DEVICES,
            "deviceManagement.depOnboardingSetting_CreateImportedAppleDeviceIdentity",
            "Create an importedAppleDeviceIdentity", Write, &[], Request::Entity(device),
            Reply::Entity(device, true), devices),
        op(Get, format!("{DEVICES}/$count"),
            "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity_GetCount",
            "Count importedAppleDeviceIdentities", Read, SEARCHABLE_COUNT_OPTIONS, Request::None,
            Reply::Count, devices),
        op(Post, format!("{DEVICES}/importAppleDeviceIdentityList"),
            "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity_importAppleDeviceIdentityList",
            "Invoke action importAppleDeviceIdentityList", Write, &[],
            Request::Action(IMPORT_APPLE_DEVICE_IDENTITY_LIST),
            Reply::Collection(&catalog::IMPORTED_APPLE_DEVICE_IDENTITY_RESULT), devices),
        op(Get, DEVICE, "deviceManagement.depOnboardingSetting_GetImportedAppleDeviceIdentity",
            "Get an importedAppleDeviceIdentity", Read, ENTITY_OPTIONS, Request::None,
            Reply::Entity(device, false), devices),
        op(Patch, DEVICE,
            "deviceManagement.depOnboardingSetting_UpdateImportedAppleDeviceIdentity",
            "Update an importedAppleDeviceIdentity", Write, &[], Request::Entity(device),
            Reply::NoContent, devices),
        op(Delete, DEVICE,
            "deviceManagement.depOnboardingSetting_DeleteImportedAppleDeviceIdentity",
            "Delete an importedAppleDeviceIdentity", Write, &[], Request::None, Reply::NoContent,
            devices),
        op(Get, VPP_TOKENS, "deviceAppManagement_ListVppToken", "List vppTokens", Read,
            COLLECTION_OPTIONS, Request::None, Reply::Collection(vpp), TAG_VPP),
        op(Post, VPP_TOKENS, "deviceAppManagement_CreateVppToken",
            "Create a vppToken from a .vpptoken file's content", Write, &[], Request::Entity(vpp),
            Reply::Entity(vpp, true), TAG_VPP),
        op(Get, format!("{VPP_TOKENS}/$count"), "deviceAppManagement.vppToken_GetCount",
            "Count vppTokens", Read, COUNT_OPTIONS, Request::None, Reply::Count, TAG_VPP),
        op(Get, VPP_TOKEN, "deviceAppManagement_GetVppToken", "Get a vppToken", Read,
            ENTITY_OPTIONS, Request::None, Reply::Entity(vpp, false), TAG_VPP),
        op(Patch, VPP_TOKEN, "deviceAppManagement_UpdateVppToken", "Update a vppToken", Write,
            &[], Request::Entity(vpp), Reply::NoContent, TAG_VPP),
        op(Delete, VPP_TOKEN, "deviceAppManagement_DeleteVppToken", "Delete a vppToken", Write,
            &[], Request::None, Reply::NoContent, TAG_VPP),
    ]);
    ops.extend(super::legacy::operations());
    ops
}
