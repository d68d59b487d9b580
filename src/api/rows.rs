//! The rows of the multi-token (current) Graph operations: adding an endpoint is adding a row
//! here and a handler in [`super::handlers`]. The single-token API adds its rows in
//! `crate::legacy::routes`.
//!
//! Operation ids are Graph's own (msgraph-metadata / the PowerShell SDK's `OpenAPI` documents),
//! except that bound operations keep their plain names where the PowerShell documents shorten
//! them (`shareGraphFPreSchoolDataSyncService`); paths use the unqualified operation segment,
//! as Graph's docs and the Kiota SDKs do (the gateway also accepts `microsoft.graph.`-qualified
//! ones).

use super::catalog;
use super::handlers::{
    audit, devices, onboarding, onboarding_actions as actions, profiles, vpp_tokens,
};
use super::table::{
    Action, ActionParam, Handler, Nullable, Operation, ParamType, Query, Reply, Request, Status,
    Verb,
};
use crate::auth::Permission;
use crate::domain::edm::EdmType;
use crate::domain::profiles::{self as profile_types, Platform};
use crate::handler;
use crate::service::paging::{
    COLLECTION_OPTIONS, COUNT_OPTIONS, ENTITY_OPTIONS, EXPANDABLE_ENTITY_OPTIONS,
    EXPANDABLE_SEARCHABLE_COLLECTION_OPTIONS, SEARCHABLE_COUNT_OPTIONS,
};

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
const TAG_AUDIT: &str = "deviceManagement.auditEvent";
const AUDIT_EVENTS: &str = "/deviceManagement/auditEvents";
const TAG_DEVICE_MANAGEMENT: &str = "deviceManagement.deviceManagement";

const NONE: Query = Query::Ignored;
const ENTITY: Query = Query::Only(ENTITY_OPTIONS);
const EXPANDABLE: Query = Query::Only(EXPANDABLE_ENTITY_OPTIONS);
const LIST: Query = Query::Only(COLLECTION_OPTIONS);
// GRAPH-COMPAT: the SDKs' URL templates offer `$expand` on every DEP collection and entity
// (real-clients.md); on types without navigations only `*` is accepted (it expands nothing).
const SEARCHABLE_LIST: Query = Query::Only(EXPANDABLE_SEARCHABLE_COLLECTION_OPTIONS);
const COUNT: Query = Query::Only(COUNT_OPTIONS);
const SEARCHABLE_COUNT: Query = Query::Only(SEARCHABLE_COUNT_OPTIONS);

const fn param(name: &'static str, ty: EdmType) -> ActionParam {
    ActionParam {
        name,
        ty: ParamType::Edm(ty),
        nullable: true,
    }
}

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
    query: Query,
    request: Request,
    reply: Reply,
    tag: &'static str,
    handler: Handler,
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
        documented: true,
        legacy: None,
        handler,
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Every multi-token operation, in document order.
#[expect(clippy::too_many_lines, reason = "the table itself: one row per operation")]
#[rustfmt::skip] // rows stay compact: method, path, id, summary, permission, query, body, reply, tag, handler
pub fn operations() -> Vec<Operation> {
    use Permission::{Read, Write};
    use Verb::{Delete, Get, Patch, Post};
    let setting = &catalog::DEP_ONBOARDING_SETTING;
    let device = &catalog::IMPORTED_APPLE_DEVICE_IDENTITY;
    let vpp = &catalog::VPP_TOKEN;
    let (settings, tag_profiles, tag_devices) = (TAG_SETTINGS, TAG_PROFILES, TAG_DEVICES);
    let mut ops = vec![
        op(Get, "/deviceManagement", "deviceManagement.deviceManagement_GetDeviceManagement",
            "Get the DEP-related members of deviceManagement", Read, ENTITY, Request::None,
            Reply::Entity(&catalog::DEVICE_MANAGEMENT, Status::Ok), TAG_DEVICE_MANAGEMENT,
            handler!(onboarding::get_device_management)),
        op(Get, SETTINGS, "deviceManagement_ListDepOnboardingSetting",
            "List depOnboardingSettings (`$search` matches token names and Apple IDs)", Read,
            SEARCHABLE_LIST, Request::None,
            Reply::Collection(setting), settings, handler!(onboarding::list_dep_onboarding_settings)),
        op(Post, SETTINGS, "deviceManagement_CreateDepOnboardingSetting",
            "Create a depOnboardingSetting", Write, NONE, Request::Entity(setting),
            Reply::Entity(setting, Status::Created), settings, handler!(onboarding::create_dep_onboarding_setting)),
        op(Get, format!("{SETTINGS}/$count"), "deviceManagement.depOnboardingSetting_GetCount",
            "Count depOnboardingSettings", Read, SEARCHABLE_COUNT, Request::None, Reply::Count, settings,
            handler!(onboarding::count_dep_onboarding_settings)),
        op(Get, format!("{SETTINGS}/getExpiringVppTokenCount(expiringBeforeDateTime='{{expiringBeforeDateTime}}')"),
            "deviceManagement.depOnboardingSetting_getExpiringVppTokenCount",
            "Invoke function getExpiringVppTokenCount", Read, Query::Only(&[]), Request::None,
            Reply::Value(EdmType::Int32, Nullable::No), settings,
            handler!(vpp_tokens::get_expiring_vpp_token_count)),
        op(Get, SETTING, "deviceManagement_GetDepOnboardingSetting",
            "Get a depOnboardingSetting", Read, EXPANDABLE, Request::None,
            Reply::Entity(setting, Status::Ok), settings, handler!(onboarding::get_dep_onboarding_setting)),
        op(Patch, SETTING, "deviceManagement_UpdateDepOnboardingSetting",
            "Update a depOnboardingSetting", Write, NONE, Request::Entity(setting), Reply::NoContent,
            settings, handler!(onboarding::update_dep_onboarding_setting)),
        op(Delete, SETTING, "deviceManagement_DeleteDepOnboardingSetting",
            "Delete a depOnboardingSetting", Write, NONE, Request::None, Reply::NoContent, settings,
            handler!(onboarding::delete_dep_onboarding_setting)),
        // GRAPH-COMPAT: Graph publishes the read permissions for generateEncryptionPublicKey
        // (graph-dep-api.md §1), but the action stages a new key pair in place of the one an
        // admin may just have downloaded: a state change, so it needs ReadWrite here (issue 12).
        op(Post, format!("{SETTING}/generateEncryptionPublicKey"),
            "deviceManagement.depOnboardingSetting_generateEncryptionPublicKey",
            "Invoke action generateEncryptionPublicKey", Write, NONE, Request::NoParams,
            Reply::Value(EdmType::String, Nullable::Yes), settings,
            handler!(actions::generate_encryption_public_key)),
        op(Get, format!("{SETTING}/getEncryptionPublicKey()"),
            "deviceManagement.depOnboardingSetting_getEncryptionPublicKey",
            "Invoke function getEncryptionPublicKey", Read, NONE, Request::None,
            Reply::Value(EdmType::String, Nullable::Yes), settings,
            handler!(actions::get_encryption_public_key)),
        op(Post, format!("{SETTING}/uploadDepToken"),
            "deviceManagement.depOnboardingSetting_uploadDepToken", "Invoke action uploadDepToken",
            Write, NONE, Request::Action(UPLOAD_DEP_TOKEN), Reply::NoContent, settings,
            handler!(actions::upload_dep_token)),
        op(Post, format!("{SETTING}/syncWithAppleDeviceEnrollmentProgram"),
            "deviceManagement.depOnboardingSetting_syncWithAppleDeviceEnrollmentProgram",
            "Invoke action syncWithAppleDeviceEnrollmentProgram", Write, NONE, Request::NoParams,
            Reply::NoContent, settings, handler!(actions::sync_with_apple_device_enrollment_program)),
        op(Post, format!("{SETTING}/shareForSchoolDataSyncService"),
            "deviceManagement.depOnboardingSetting_shareForSchoolDataSyncService",
            "Invoke action shareForSchoolDataSyncService", Write, NONE, Request::NoParams,
            Reply::NoContent, settings, handler!(actions::share_for_school_data_sync_service)),
        op(Post, format!("{SETTING}/unshareForSchoolDataSyncService"),
            "deviceManagement.depOnboardingSetting_unshareForSchoolDataSyncService",
            "Invoke action unshareForSchoolDataSyncService", Write, NONE, Request::NoParams,
            Reply::NoContent, settings, handler!(actions::unshare_for_school_data_sync_service)),
        // Graph's page lists read permissions for this destructive action (a doc error, by the
        // look of it); the gateway is stricter and requires ReadWrite.
        op(Post, format!("{SETTING}/releaseAppleDevices"),
            "deviceManagement.depOnboardingSetting_releaseAppleDevices",
            "Invoke action releaseAppleDevices", Write, NONE, Request::Action(RELEASE_APPLE_DEVICES),
            Reply::NoContent, settings, handler!(actions::release_apple_devices)),
    ];
    for p in Platform::ALL {
        let nav = p.default_navigation();
        ops.push(op(Get, format!("{SETTING}/{nav}"),
            format!("deviceManagement.depOnboardingSetting_Get{}", upper_first(nav)),
            format!("Get {nav} (204 when none is set)"), Read, ENTITY, Request::None,
            Reply::OptionalProfile, settings, handler!(profiles::get_default_profile)));
    }
    ops.extend([
        op(Get, PROFILES, "deviceManagement.depOnboardingSetting_ListEnrollmentProfile",
            "List enrollmentProfiles of every type", Read, SEARCHABLE_LIST,
            Request::None, Reply::ProfileCollection, tag_profiles,
            handler!(profiles::list_enrollment_profiles)),
        op(Post, PROFILES, "deviceManagement.depOnboardingSetting_CreateEnrollmentProfile",
            "Create an enrollmentProfile (`@odata.type` picks the type)", Write, NONE,
            Request::AnyProfile, Reply::AnyProfile(Status::Created), tag_profiles,
            handler!(profiles::create_enrollment_profile)),
        op(Get, format!("{PROFILES}/$count"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_GetCount",
            "Count enrollmentProfiles", Read, SEARCHABLE_COUNT, Request::None, Reply::Count,
            tag_profiles, handler!(profiles::count_enrollment_profiles)),
        op(Get, PROFILE, "deviceManagement.depOnboardingSetting_GetEnrollmentProfile",
            "Get an enrollmentProfile", Read, EXPANDABLE, Request::None,
            Reply::AnyProfile(Status::Ok), tag_profiles, handler!(profiles::get_enrollment_profile)),
        op(Patch, PROFILE, "deviceManagement.depOnboardingSetting_UpdateEnrollmentProfile",
            "Update an enrollmentProfile (`@odata.type` must be the stored type)", Write, NONE,
            Request::AnyProfile, Reply::NoContent, tag_profiles,
            handler!(profiles::update_enrollment_profile)),
        op(Delete, PROFILE, "deviceManagement.depOnboardingSetting_DeleteEnrollmentProfile",
            "Delete an enrollmentProfile", Write, NONE, Request::None, Reply::NoContent,
            tag_profiles, handler!(profiles::delete_enrollment_profile)),
        op(Get, format!("{PROFILE}/exportMobileConfig()"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_exportMobileConfig",
            "Invoke function exportMobileConfig", Read, NONE, Request::None,
            Reply::Value(EdmType::String, Nullable::Yes), tag_profiles,
            handler!(profiles::export_mobile_config)),
        op(Post, format!("{PROFILE}/setDefaultProfile"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_setDefaultProfile",
            "Invoke action setDefaultProfile", Write, NONE, Request::NoParams, Reply::NoContent,
            tag_profiles, handler!(profiles::set_default_profile)),
        op(Post, format!("{PROFILE}/updateDeviceProfileAssignment"),
            "deviceManagement.depOnboardingSetting.enrollmentProfile_updateDeviceProfileAssignment",
            "Invoke action updateDeviceProfileAssignment", Write, NONE,
            Request::Action(UPDATE_DEVICE_PROFILE_ASSIGNMENT), Reply::NoContent, tag_profiles,
            handler!(profiles::update_device_profile_assignment)),
    ]);
    // GRAPH-COMPAT: a cast to the set's own type (`…/microsoft.graph.enrollmentProfile`) is the
    // set itself in OData, and served; Graph's documents list only the derived types.
    for t in profile_types::all_profile_types() {
        let cast = format!("microsoft.graph.{}", t.name);
        let as_type = format!("As{}", upper_first(t.name));
        let documented = t.name != profile_types::ENROLLMENT_PROFILE.name;
        let at = ops.len();
        ops.extend([
            op(Get, format!("{PROFILES}/{cast}"),
                format!("deviceManagement.depOnboardingSetting.ListEnrollmentProfiles.{as_type}"),
                format!("List the enrollmentProfiles that are {}", t.name), Read,
                SEARCHABLE_LIST, Request::None, Reply::ProfileCollection, tag_profiles,
                handler!(profiles::list_enrollment_profiles)),
            op(Get, format!("{PROFILES}/{cast}/$count"),
                format!("deviceManagement.depOnboardingSetting.enrollmentProfiles.GetCount.{as_type}"),
                format!("Count the enrollmentProfiles that are {}", t.name), Read,
                SEARCHABLE_COUNT, Request::None, Reply::Count, tag_profiles,
                handler!(profiles::count_enrollment_profiles)),
            op(Get, format!("{PROFILE}/{cast}"),
                format!("deviceManagement.depOnboardingSetting.GetEnrollmentProfiles.{as_type}"),
                format!("Get an enrollmentProfile if it is {}", t.name), Read, EXPANDABLE,
                Request::None, Reply::AnyProfile(Status::Ok), tag_profiles,
                handler!(profiles::get_enrollment_profile)),
        ]);
        for row in &mut ops[at..] {
            row.documented = documented;
        }
    }
    ops.extend([
        op(Get, DEVICES, "deviceManagement.depOnboardingSetting_ListImportedAppleDeviceIdentity",
            "List importedAppleDeviceIdentities (`$search` matches serial numbers)", Read,
            SEARCHABLE_LIST, Request::None, Reply::Collection(device), tag_devices,
            handler!(devices::list_imported_devices)),
        op(Post, DEVICES,
            "deviceManagement.depOnboardingSetting_CreateImportedAppleDeviceIdentity",
            "Create an importedAppleDeviceIdentity", Write, NONE, Request::Entity(device),
            Reply::Entity(device, Status::Created), tag_devices, handler!(devices::create_imported_device)),
        op(Get, format!("{DEVICES}/$count"),
            "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity_GetCount",
            "Count importedAppleDeviceIdentities", Read, SEARCHABLE_COUNT, Request::None,
            Reply::Count, tag_devices, handler!(devices::count_imported_devices)),
        op(Post, format!("{DEVICES}/importAppleDeviceIdentityList"),
            "deviceManagement.depOnboardingSetting.importedAppleDeviceIdentity_importAppleDeviceIdentityList",
            "Invoke action importAppleDeviceIdentityList", Write, NONE,
            Request::Action(IMPORT_APPLE_DEVICE_IDENTITY_LIST),
            Reply::Collection(&catalog::IMPORTED_APPLE_DEVICE_IDENTITY_RESULT), tag_devices,
            handler!(devices::import_apple_device_identity_list)),
        op(Get, DEVICE, "deviceManagement.depOnboardingSetting_GetImportedAppleDeviceIdentity",
            "Get an importedAppleDeviceIdentity", Read, EXPANDABLE, Request::None,
            Reply::Entity(device, Status::Ok), tag_devices, handler!(devices::get_imported_device)),
        op(Patch, DEVICE,
            "deviceManagement.depOnboardingSetting_UpdateImportedAppleDeviceIdentity",
            "Update an importedAppleDeviceIdentity", Write, NONE, Request::Entity(device),
            Reply::NoContent, tag_devices, handler!(devices::update_imported_device)),
        op(Delete, DEVICE,
            "deviceManagement.depOnboardingSetting_DeleteImportedAppleDeviceIdentity",
            "Delete an importedAppleDeviceIdentity", Write, NONE, Request::None, Reply::NoContent,
            tag_devices, handler!(devices::delete_imported_device)),
        op(Get, VPP_TOKENS, "deviceAppManagement_ListVppToken", "List vppTokens", Read,
            LIST, Request::None, Reply::Collection(vpp), TAG_VPP, handler!(vpp_tokens::list_vpp_tokens)),
        op(Post, VPP_TOKENS, "deviceAppManagement_CreateVppToken",
            "Create a vppToken from a .vpptoken file's content", Write, NONE, Request::Entity(vpp),
            Reply::Entity(vpp, Status::Created), TAG_VPP, handler!(vpp_tokens::create_vpp_token)),
        op(Get, format!("{VPP_TOKENS}/$count"), "deviceAppManagement.vppToken_GetCount",
            "Count vppTokens", Read, COUNT, Request::None, Reply::Count, TAG_VPP,
            handler!(vpp_tokens::count_vpp_tokens)),
        op(Get, VPP_TOKEN, "deviceAppManagement_GetVppToken", "Get a vppToken", Read,
            ENTITY, Request::None, Reply::Entity(vpp, Status::Ok), TAG_VPP,
            handler!(vpp_tokens::get_vpp_token)),
        op(Patch, VPP_TOKEN, "deviceAppManagement_UpdateVppToken", "Update a vppToken", Write,
            NONE, Request::Entity(vpp), Reply::NoContent, TAG_VPP,
            handler!(vpp_tokens::update_vpp_token)),
        op(Delete, VPP_TOKEN, "deviceAppManagement_DeleteVppToken", "Delete a vppToken", Write,
            NONE, Request::None, Reply::NoContent, TAG_VPP, handler!(vpp_tokens::delete_vpp_token)),
    ]);
    ops.extend(audit_rows());
    ops
}

/// The audit trail's rows (served on `/beta` and `/v1.0`; reads only: events are written by
/// the gateway's own writes).
#[rustfmt::skip]
fn audit_rows() -> [Operation; 5] {
    use Permission::AuditRead;
    use Verb::Get;
    const EVENT: &str = "/deviceManagement/auditEvents/{auditEvent-id}";
    let lowered = |options| Query::Lowered(options, crate::service::audit::filter::lower_query);
    [
        op(Get, AUDIT_EVENTS, "deviceManagement_ListAuditEvent", "List auditEvents", AuditRead,
            lowered(COLLECTION_OPTIONS), Request::None, Reply::ComponentCollection(audit::AUDIT_EVENT),
            TAG_AUDIT, handler!(audit::list_audit_events)),
        op(Get, format!("{AUDIT_EVENTS}/$count"), "deviceManagement.auditEvent_GetCount",
            "Count auditEvents", AuditRead, lowered(COUNT_OPTIONS), Request::None, Reply::Count,
            TAG_AUDIT, handler!(audit::count_audit_events)),
        op(Get, format!("{AUDIT_EVENTS}/getAuditCategories()"),
            "deviceManagement.auditEvent_getAuditCategories", "Invoke function getAuditCategories",
            AuditRead, NONE, Request::None, Reply::Value(EdmType::StringCollection, Nullable::No), TAG_AUDIT,
            handler!(audit::get_audit_categories)),
        op(Get, format!("{AUDIT_EVENTS}/getAuditActivityTypes(category='{{category}}')"),
            "deviceManagement.auditEvent_getAuditActivityTypes",
            "Invoke function getAuditActivityTypes", AuditRead, NONE, Request::None,
            Reply::Value(EdmType::StringCollection, Nullable::No), TAG_AUDIT,
            handler!(audit::get_audit_activity_types)),
        op(Get, EVENT, "deviceManagement_GetAuditEvent", "Get an auditEvent", AuditRead, ENTITY,
            Request::None, Reply::Component(audit::AUDIT_EVENT, Status::Ok), TAG_AUDIT,
            handler!(audit::get_audit_event)),
    ]
}

/// Known Graph members this gateway does not serve yet: `(path template, name)`; a request
/// reaching one answers 501 `NotImplemented` naming it. With `below`, any unknown segment
/// right below it answers the same (`/organization/{id}/branding`).
pub const NOT_BUILT: &[(&str, &str, bool)] = &[
    ("/organization", "organization", true),
    ("/organization/{organization-id}", "organization", true),
    ("/deviceAppManagement", "deviceAppManagement", false),
    (
        "/deviceAppManagement/vppTokens/{vppToken-id}/syncLicenses",
        "syncLicenses",
        false,
    ),
    (
        "/deviceAppManagement/vppTokens/{vppToken-id}/revokeLicenses",
        "revokeLicenses",
        false,
    ),
    (
        "/deviceAppManagement/vppTokens/{vppToken-id}/getLicensesForApp",
        "getLicensesForApp",
        false,
    ),
    (
        "/deviceAppManagement/vppTokens/{vppToken-id}/syncLicenseCounts",
        "syncLicenseCounts",
        false,
    ),
];
