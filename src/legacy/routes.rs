//! The rows of the old single-token paths — organization-scoped (2016–2017) and
//! deviceManagement-scoped (2017–2018) — and of the gateway's own legacy-default-token
//! resource, added to the multi-token rows of `crate::api::rows` to make the whole operation
//! table ([`table`]). Every row names the segment Graph reports when `legacy_api = false`.

use std::sync::LazyLock;

use super::{default_token, devices, profiles, settings};
use crate::api::matcher::Table;
use crate::api::rows::{UPDATE_DEVICE_PROFILE_ASSIGNMENT, UPLOAD_DEP_TOKEN};
use crate::api::table::{Handler, Nullable, Operation, Query, Reply, Request, Status, Verb};
use crate::auth::Permission;
use crate::domain::edm::EdmType;
use crate::handler;
use crate::service::paging::{
    COLLECTION_OPTIONS, ENTITY_OPTIONS, SEARCHABLE_COLLECTION_OPTIONS, SEARCHABLE_COUNT_OPTIONS,
};

/// The gateway-specific resource that designates the legacy default token. Namespaced so that
/// it cannot be mistaken for (or collide with) a Graph member of deviceManagement.
pub const DEFAULT_TOKEN_SEGMENT: &str = "depGateway.legacyDefaultToken";

/// Old depOnboardingSetting (`OpenAPI` component).
pub const OLD_SETTING: &str = "depGateway.legacy.depOnboardingSetting";
/// Old importedAppleDeviceIdentity.
pub const OLD_DEVICE: &str = "depGateway.legacy.importedAppleDeviceIdentity";
/// Old importedAppleDeviceIdentityResult.
pub const OLD_DEVICE_RESULT: &str = "depGateway.legacy.importedAppleDeviceIdentityResult";
/// Either old profile type, told apart by `@odata.type`.
pub const OLD_ANY_PROFILE: &str = "depGateway.legacy.enrollmentProfile.anyType";
/// The `depGateway.legacyDefaultToken` resource (GET).
pub const DEFAULT_TOKEN: &str = "depGateway.legacyDefaultToken";
/// Its PUT/PATCH body.
pub const DEFAULT_TOKEN_UPDATE: &str = "depGateway.legacyDefaultTokenUpdate";
/// Tag of the single-token operations.
pub const TAG_LEGACY: &str = "legacy.singleToken";
/// Tag of the gateway's own resources.
pub const TAG_GATEWAY: &str = "depGateway";

/// The whole operation table: the multi-token rows, then the single-token API's.
pub fn table() -> &'static Table {
    static ROWS: LazyLock<Vec<Operation>> = LazyLock::new(|| {
        let mut rows = crate::api::rows::operations();
        rows.extend(operations());
        rows
    });
    static TABLE: LazyLock<Table> =
        LazyLock::new(|| Table::new(&ROWS, crate::api::rows::NOT_BUILT));
    &TABLE
}

/// Every row of [`table`], in document order.
pub fn rows() -> &'static [Operation] {
    table().rows()
}

const ORG: &str = "/organization/{organization-id}";
const ORG_SETTINGS: &str = "/organization/{organization-id}/depOnboardingSettings";
const ORG_SETTING: &str =
    "/organization/{organization-id}/depOnboardingSettings/{depOnboardingSetting-id}";
const OLD_PROFILES: &str = "/deviceManagement/enrollmentProfiles";
const OLD_PROFILE_PATH: &str = "/deviceManagement/enrollmentProfiles/{enrollmentProfile-id}";
const OLD_DEVICES: &str = "/deviceManagement/importedAppleDeviceIdentities";
const OLD_DEVICE_PATH: &str =
    "/deviceManagement/importedAppleDeviceIdentities/{importedAppleDeviceIdentity-id}";
const MULTI_LIST: &str = "/deviceManagement/depOnboardingSettings";
const MULTI: &str = "/deviceManagement/depOnboardingSettings/{depOnboardingSetting-id}";

const NONE: Query = Query::Ignored;

/// A single-token row: what the multi-token operation `maps_to` does, in the old shape.
#[expect(
    clippy::too_many_arguments,
    reason = "one positional argument per column"
)]
fn legacy(
    verb: Verb,
    path: impl Into<String>,
    id: impl Into<String>,
    maps_to: &str,
    permission: Permission,
    query: Query,
    request: Request,
    reply: Reply,
    handler: Handler,
) -> Operation {
    let path = path.into();
    // The segment Graph names for these paths since it dropped them.
    let segment = if path.starts_with("/organization") {
        "organization"
    } else if path.starts_with(OLD_PROFILES) {
        "enrollmentProfiles"
    } else if path.starts_with(OLD_DEVICES) {
        "importedAppleDeviceIdentities"
    } else if path.ends_with("uploadDepToken") {
        "uploadDepToken"
    } else if path.ends_with("syncWithAppleDeviceEnrollmentProgram") {
        "syncWithAppleDeviceEnrollmentProgram"
    } else {
        "getEncryptionPublicKey"
    };
    Operation {
        verb,
        path,
        id: id.into(),
        summary: format!("Deprecated single-token API: use {maps_to}"),
        permission,
        query,
        request,
        reply,
        tag: TAG_LEGACY,
        deprecated: true,
        documented: true,
        legacy: Some(segment),
        handler,
    }
}

/// The single-token API's operations and the default-token resource.
#[expect(clippy::too_many_lines, reason = "the table itself: one row per operation")]
#[rustfmt::skip] // rows stay compact, as in api::rows
pub fn operations() -> Vec<Operation> {
    use Permission::{Read, Write};
    use Verb::{Delete, Get, Patch, Post, Put};
    let old_setting = || Request::Component(OLD_SETTING);
    let old_device = || Request::Component(OLD_DEVICE);
    let old_profile = || Request::Component(OLD_ANY_PROFILE);
    let key = || Reply::Value(EdmType::String, Nullable::Yes);
    let mut ops = vec![
        legacy(Get, ORG_SETTINGS, "organization.legacy_ListDepOnboardingSettings",
            &format!("GET {MULTI_LIST}"), Read, Query::Only(COLLECTION_OPTIONS), Request::None,
            Reply::ComponentCollection(OLD_SETTING), handler!(settings::list)),
        legacy(Post, ORG_SETTINGS, "organization.legacy_CreateDepOnboardingSettings",
            &format!("POST {MULTI_LIST}"), Write, NONE, old_setting(),
            Reply::Component(OLD_SETTING, Status::Created), handler!(settings::create)),
        legacy(Get, ORG_SETTING, "organization.legacy_GetDepOnboardingSettings",
            &format!("GET {MULTI}"), Read, Query::Only(ENTITY_OPTIONS), Request::None,
            Reply::Component(OLD_SETTING, Status::Ok), handler!(settings::get)),
        legacy(Patch, ORG_SETTING, "organization.legacy_UpdateDepOnboardingSettings",
            &format!("PATCH {MULTI}"), Write, NONE, old_setting(), Reply::NoContent,
            handler!(settings::update)),
        legacy(Delete, ORG_SETTING, "organization.legacy_DeleteDepOnboardingSettings",
            &format!("DELETE {MULTI}"), Write, NONE, Request::None, Reply::NoContent,
            handler!(settings::delete)),
    ];
    // The collection-bound operations, under the organization and under depOnboardingSettings:
    // they act on the legacy default token.
    let owners: [(&str, &str, [Handler; 3]); 2] = [
        (ORG, "organization", [handler!(settings::org_upload_dep_token),
            handler!(settings::org_sync_with_apple_device_enrollment_program),
            handler!(settings::org_get_encryption_public_key)]),
        (MULTI_LIST, "deviceManagement.depOnboardingSettings", [handler!(settings::upload_dep_token),
            handler!(settings::sync_with_apple_device_enrollment_program),
            handler!(settings::get_encryption_public_key)]),
    ];
    for (prefix, owner, [upload, sync, get_key]) in owners {
        ops.extend([
            legacy(Post, format!("{prefix}/uploadDepToken"),
                format!("{owner}.legacy_uploadDepToken"),
                &format!("POST {MULTI}/uploadDepToken (the token goes to the setting whose key decrypts it)"),
                Write, NONE, Request::Action(UPLOAD_DEP_TOKEN), Reply::NoContent, upload),
            legacy(Post, format!("{prefix}/syncWithAppleDeviceEnrollmentProgram"),
                format!("{owner}.legacy_syncWithAppleDeviceEnrollmentProgram"),
                &format!("POST {MULTI}/syncWithAppleDeviceEnrollmentProgram (on the legacy default token)"),
                Write, NONE, Request::NoParams, Reply::NoContent, sync),
            // On a tenant without any token this creates one (so that the old download-key →
            // upload flow works from scratch): with the read permission, as before the table.
            legacy(Get, format!("{prefix}/getEncryptionPublicKey()"),
                format!("{owner}.legacy_getEncryptionPublicKey"),
                &format!("GET {MULTI}/getEncryptionPublicKey() (of the legacy default token)"),
                Read, NONE, Request::None, key(), get_key),
        ]);
    }
    ops.extend([
        legacy(Get, OLD_PROFILES, "deviceManagement.legacy_ListEnrollmentProfiles",
            &format!("GET {MULTI}/enrollmentProfiles (here: every token's)"), Read,
            Query::Only(SEARCHABLE_COLLECTION_OPTIONS), Request::None,
            Reply::ComponentCollection(OLD_ANY_PROFILE), handler!(profiles::list)),
        legacy(Post, OLD_PROFILES, "deviceManagement.legacy_CreateEnrollmentProfiles",
            &format!("POST {MULTI}/enrollmentProfiles (here: on the legacy default token)"), Write,
            NONE, old_profile(), Reply::Component(OLD_ANY_PROFILE, Status::Created), handler!(profiles::create)),
        legacy(Get, format!("{OLD_PROFILES}/$count"), "deviceManagement.legacy_enrollmentProfiles_GetCount",
            &format!("GET {MULTI}/enrollmentProfiles/$count"), Read,
            Query::Only(SEARCHABLE_COUNT_OPTIONS), Request::None, Reply::Count,
            handler!(profiles::count)),
        legacy(Get, OLD_PROFILE_PATH, "deviceManagement.legacy_GetEnrollmentProfiles",
            &format!("GET {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}"), Read,
            Query::Only(ENTITY_OPTIONS), Request::None, Reply::Component(OLD_ANY_PROFILE, Status::Ok),
            handler!(profiles::get)),
        legacy(Patch, OLD_PROFILE_PATH, "deviceManagement.legacy_UpdateEnrollmentProfiles",
            &format!("PATCH {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}"), Write, NONE,
            old_profile(), Reply::NoContent, handler!(profiles::update)),
        legacy(Delete, OLD_PROFILE_PATH, "deviceManagement.legacy_DeleteEnrollmentProfiles",
            &format!("DELETE {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}"), Write, NONE,
            Request::None, Reply::NoContent, handler!(profiles::delete)),
        legacy(Get, format!("{OLD_PROFILE_PATH}/exportMobileConfig()"),
            "deviceManagement.legacy_enrollmentProfiles_exportMobileConfig",
            &format!("GET {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}/exportMobileConfig()"),
            Read, NONE, Request::None, key(), handler!(profiles::export_mobile_config)),
        legacy(Post, format!("{OLD_PROFILE_PATH}/setDefaultProfile"),
            "deviceManagement.legacy_enrollmentProfiles_setDefaultProfile",
            &format!("POST {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}/setDefaultProfile"),
            Write, NONE, Request::NoParams, Reply::NoContent, handler!(profiles::set_default_profile)),
        legacy(Post, format!("{OLD_PROFILE_PATH}/updateDeviceProfileAssignment"),
            "deviceManagement.legacy_enrollmentProfiles_updateDeviceProfileAssignment",
            &format!("POST {MULTI}/enrollmentProfiles/{{enrollmentProfile-id}}/updateDeviceProfileAssignment"),
            Write, NONE, Request::Action(UPDATE_DEVICE_PROFILE_ASSIGNMENT), Reply::NoContent,
            handler!(profiles::update_device_profile_assignment)),
        legacy(Get, OLD_DEVICES, "deviceManagement.legacy_ListImportedAppleDeviceIdentities",
            &format!("GET {MULTI}/importedAppleDeviceIdentities (here: every token's)"), Read,
            Query::Only(SEARCHABLE_COLLECTION_OPTIONS), Request::None,
            Reply::ComponentCollection(OLD_DEVICE), handler!(devices::list)),
        legacy(Post, OLD_DEVICES, "deviceManagement.legacy_CreateImportedAppleDeviceIdentities",
            &format!("POST {MULTI}/importedAppleDeviceIdentities (here: on the legacy default token)"),
            Write, NONE, old_device(), Reply::Component(OLD_DEVICE, Status::Created), handler!(devices::create)),
        legacy(Get, format!("{OLD_DEVICES}/$count"),
            "deviceManagement.legacy_importedAppleDeviceIdentities_GetCount",
            &format!("GET {MULTI}/importedAppleDeviceIdentities/$count"), Read,
            Query::Only(SEARCHABLE_COUNT_OPTIONS), Request::None, Reply::Count,
            handler!(devices::count)),
        legacy(Post, format!("{OLD_DEVICES}/importAppleDeviceIdentityList"),
            "deviceManagement.legacy_importedAppleDeviceIdentities_importAppleDeviceIdentityList",
            &format!("POST {MULTI}/importedAppleDeviceIdentities/importAppleDeviceIdentityList (here: on the legacy default token)"),
            Write, NONE, Request::OldImport, Reply::ComponentCollection(OLD_DEVICE_RESULT),
            handler!(devices::import)),
        legacy(Get, OLD_DEVICE_PATH, "deviceManagement.legacy_GetImportedAppleDeviceIdentities",
            &format!("GET {MULTI}/importedAppleDeviceIdentities/{{importedAppleDeviceIdentity-id}}"),
            Read, Query::Only(ENTITY_OPTIONS), Request::None, Reply::Component(OLD_DEVICE, Status::Ok),
            handler!(devices::get)),
        legacy(Patch, OLD_DEVICE_PATH, "deviceManagement.legacy_UpdateImportedAppleDeviceIdentities",
            &format!("PATCH {MULTI}/importedAppleDeviceIdentities/{{importedAppleDeviceIdentity-id}}"),
            Write, NONE, old_device(), Reply::NoContent, handler!(devices::update)),
        legacy(Delete, OLD_DEVICE_PATH, "deviceManagement.legacy_DeleteImportedAppleDeviceIdentities",
            &format!("DELETE {MULTI}/importedAppleDeviceIdentities/{{importedAppleDeviceIdentity-id}}"),
            Write, NONE, Request::None, Reply::NoContent, handler!(devices::delete)),
    ]);
    let token = format!("/deviceManagement/{DEFAULT_TOKEN_SEGMENT}");
    let gateway = |verb, id: &str, summary: &str, permission, request, reply, handler| Operation {
        verb,
        path: token.clone(),
        id: id.to_owned(),
        summary: summary.to_owned(),
        permission,
        query: NONE,
        request,
        reply,
        tag: TAG_GATEWAY,
        deprecated: false,
        documented: true,
        legacy: Some(DEFAULT_TOKEN_SEGMENT),
        handler,
    };
    ops.extend([
        gateway(Get, "depGateway.legacyDefaultToken_Get",
            "Get the legacy default token (where single-token calls go)", Read, Request::None,
            Reply::Component(DEFAULT_TOKEN, Status::Ok), handler!(default_token::get)),
        gateway(Put, "depGateway.legacyDefaultToken_Set",
            "Designate the legacy default token (`null` clears)", Write,
            Request::Component(DEFAULT_TOKEN_UPDATE), Reply::NoContent, handler!(default_token::set)),
        gateway(Patch, "depGateway.legacyDefaultToken_Update",
            "Designate the legacy default token (same as PUT)", Write,
            Request::Component(DEFAULT_TOKEN_UPDATE), Reply::NoContent, handler!(default_token::set)),
        gateway(Delete, "depGateway.legacyDefaultToken_Clear",
            "Clear the designation (the only token, if there is one, stays the default)", Write,
            Request::None, Reply::NoContent, handler!(default_token::clear)),
    ]);
    ops
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
