//! Pure conversions between the multi-token model's shapes and those of the retired
//! single-token beta API (CSDL of 2018-02-09 / 2018-06-04, `legacy-single-token-api.md` §4):
//! old property sets, old enum members, the old one-type-for-iOS-and-macOS profile.

use serde_json::{Map, Value};

use crate::domain::ValidationError;
use crate::domain::devices::{DevicePlatform, EnrollmentState, ImportedAppleDeviceIdentity};
use crate::domain::edm::{EntityType, unqualified_type_name};
use crate::domain::onboarding::OnboardingSetting;

/// The old depOnboardingSetting's properties (besides `id`), in CSDL order.
pub const OLD_SETTING_PROPERTIES: [&str; 7] = [
    "appleIdentifier",
    "tokenExpirationDateTime",
    "lastModifiedDateTime",
    "lastSuccessfulSyncDateTime",
    "lastSyncTriggeredDateTime",
    "shareTokenWithSchoolDataSyncService",
    "lastSyncErrorCode",
];

/// The old importedAppleDeviceIdentity's properties (besides `id`): no `isDeleted`.
pub const OLD_DEVICE_PROPERTIES: [&str; 10] = [
    "serialNumber",
    "requestedEnrollmentProfileId",
    "requestedEnrollmentProfileAssignmentDateTime",
    "isSupervised",
    "discoverySource",
    "createdDateTime",
    "lastContactedDateTime",
    "description",
    "enrollmentState",
    "platform",
];

/// The old enrollmentProfile's properties: no `requireCompanyPortalOnSetupAssistantEnrolledDevices`.
pub const OLD_PROFILE_PROPERTIES: [&str; 5] = [
    "displayName",
    "description",
    "requiresUserAuthentication",
    "configurationEndpointUrl",
    "enableAuthenticationViaCompanyPortal",
];

/// The old depEnrollmentProfile's own properties: no `isDefault`, one type for iOS and macOS.
pub const OLD_DEP_PROFILE_PROPERTIES: [&str; 23] = [
    "supervisedModeEnabled",
    "supportDepartment",
    "passCodeDisabled",
    "isMandatory",
    "locationDisabled",
    "supportPhoneNumber",
    "iTunesPairingMode",
    "profileRemovalDisabled",
    "managementCertificates",
    "restoreBlocked",
    "restoreFromAndroidDisabled",
    "appleIdDisabled",
    "termsAndConditionsDisabled",
    "touchIdDisabled",
    "applePayDisabled",
    "zoomDisabled",
    "siriDisabled",
    "diagnosticsDisabled",
    "macOSRegistrationDisabled",
    "macOSFileVaultDisabled",
    "awaitDeviceConfiguredConfirmation",
    "sharedIPadMaximumUserCount",
    "enableSharedIPad",
];

/// Old depEnrollmentProfile names whose home on `depMacOSEnrollmentProfile` has another name
/// (`legacy-single-token-api.md` §5.1).
const MACOS_RENAMES: [(&str, &str); 2] = [
    ("macOSRegistrationDisabled", "registrationDisabled"),
    ("macOSFileVaultDisabled", "fileVaultDisabled"),
];

const OLD_DEP_PROFILE: &str = "depEnrollmentProfile";
const OLD_APPLE_CONFIGURATOR_PROFILE: &str = "enrollmentProfile";

// ---------------------------------------------------------------------------------------------
// depOnboardingSetting

/// A setting in the old shape: `id` and the seven old properties (no `tokenType`, `tokenName`,
/// `syncedDeviceCount`, `dataSharingConsentGranted`, `roleScopeTagIds`).
pub fn setting_to_old(setting: &OnboardingSetting) -> Map<String, Value> {
    setting_json_to_old(&to_map(setting))
}

/// [`setting_to_old`] of a setting as Graph sends it (upstream mode).
pub fn setting_json_to_old(new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "id".to_owned(),
        new.get("id").cloned().unwrap_or(Value::Null),
    );
    for name in OLD_SETTING_PROPERTIES {
        out.insert(
            name.to_owned(),
            new.get(name).cloned().unwrap_or(Value::Null),
        );
    }
    out
}

fn to_map(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// An old depOnboardingSetting body (create or PATCH): only old properties may appear; what
/// remains is a valid body for the current type, whose rules (types, derived values ignored …) apply.
pub fn setting_body_from_old(
    body: Map<String, Value>,
) -> Result<Map<String, Value>, ValidationError> {
    check_names(
        &body,
        &OLD_SETTING_PROPERTIES,
        "microsoft.graph.depOnboardingSetting",
    )?;
    Ok(body)
}

fn check_names(
    body: &Map<String, Value>,
    names: &[&str],
    type_name: &str,
) -> Result<(), ValidationError> {
    match body
        .keys()
        .find(|k| *k != "id" && !k.contains('@') && !names.contains(&k.as_str()))
    {
        Some(unknown) => Err(ValidationError::unknown_property(unknown, type_name)),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Enums

/// The old `enrollmentState` member for a current one.
pub fn enrollment_state_to_old(state: EnrollmentState) -> EnrollmentState {
    match state {
        // `blocked` (added in August 2018) has no old member. The nearest is `failed`: the
        // device is not enrolled and will not enrol until an admin acts, which is what `failed`
        // tells an old script; `notContacted` would say it is merely waiting, and `unknown`
        // would hide that it needs attention.
        EnrollmentState::Blocked => EnrollmentState::Failed,
        other => other,
    }
}

/// The old `platform` member for a current one: `visionOS`, `tvOS` and `unknownFutureValue`
/// were added later, and `unknown` is the old enum's own answer for "none of these".
pub fn platform_to_old(platform: DevicePlatform) -> DevicePlatform {
    match platform {
        DevicePlatform::VisionOs | DevicePlatform::TvOs | DevicePlatform::UnknownFutureValue => {
            DevicePlatform::Unknown
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// importedAppleDeviceIdentity

/// An identity in the old shape: old enum members only and no `isDeleted`.
pub fn device_to_old(device: &ImportedAppleDeviceIdentity) -> Map<String, Value> {
    device_json_to_old(&to_map(device))
}

/// [`device_to_old`] of an identity as Graph sends it (upstream mode).
pub fn device_json_to_old(new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = new.clone();
    out.retain(|k, _| k == "id" || OLD_DEVICE_PROPERTIES.contains(&k.as_str()));
    if let Some(state) = out.get_mut("enrollmentState") {
        old_member(
            state,
            EnrollmentState::ALL,
            EnrollmentState::as_str,
            enrollment_state_to_old,
        );
    }
    if let Some(platform) = out.get_mut("platform") {
        old_member(
            platform,
            DevicePlatform::ALL,
            DevicePlatform::as_str,
            platform_to_old,
        );
    }
    out
}

/// Replaces a current enum member's name by its old member's (unknown names stay).
fn old_member<T: Copy>(
    value: &mut Value,
    all: &[T],
    as_str: fn(T) -> &'static str,
    to_old: fn(T) -> T,
) {
    if let Value::String(name) = value
        && let Some(member) = all.iter().copied().find(|m| as_str(*m) == name.as_str())
    {
        as_str(to_old(member)).clone_into(name);
    }
}

/// An old importedAppleDeviceIdentity body (create, PATCH or an import item): old properties
/// only. Old enum members are a subset of the current ones, so values pass as they are.
pub fn device_body_from_old(
    body: Map<String, Value>,
) -> Result<Map<String, Value>, ValidationError> {
    check_names(
        &body,
        &OLD_DEVICE_PROPERTIES,
        "microsoft.graph.importedAppleDeviceIdentity",
    )?;
    Ok(body)
}

/// The `@odata.type` of an old importAppleDeviceIdentityList result.
const RESULT_ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentityResult";

/// An importAppleDeviceIdentityList result in the old shape: the identity's old properties
/// and `status`.
pub fn import_result_to_old(identity: &Map<String, Value>, status: bool) -> Value {
    let mut out = Map::new();
    out.insert(
        "@odata.type".to_owned(),
        Value::String(RESULT_ODATA_TYPE.to_owned()),
    );
    out.extend(device_json_to_old(identity));
    out.insert("status".to_owned(), Value::Bool(status));
    Value::Object(out)
}

/// Checks the identities of an old importAppleDeviceIdentityList body: old properties only
/// (the message names the item).
pub fn check_old_import(body: &Map<String, Value>) -> Result<(), ValidationError> {
    if let Some(Value::Array(items)) = body.get("importedAppleDeviceIdentities") {
        for (i, item) in items.iter().enumerate() {
            if let Value::Object(item) = item {
                device_body_from_old(item.clone()).map_err(|e| {
                    ValidationError::new(format!(
                        "importedAppleDeviceIdentities[{i}]: {}",
                        e.message
                    ))
                })?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// enrollmentProfile / depEnrollmentProfile

/// The old type a profile of current type `new_type` is shown as; `None` for tvOS and visionOS
/// profiles, which no old type can describe (the single-token API does not list them).
pub fn old_profile_type(new_type: &str) -> Option<&'static str> {
    match unqualified_type_name(new_type) {
        "enrollmentProfile" => Some(OLD_APPLE_CONFIGURATOR_PROFILE),
        "depEnrollmentProfile" | "depIOSEnrollmentProfile" | "depMacOSEnrollmentProfile" => {
            Some(OLD_DEP_PROFILE)
        }
        _ => None,
    }
}

fn old_names(old_type: &str) -> Vec<&'static str> {
    let mut names = OLD_PROFILE_PROPERTIES.to_vec();
    if old_type == OLD_DEP_PROFILE {
        names.extend(OLD_DEP_PROFILE_PROPERTIES);
    }
    names
}

/// The current name of old property `old` on a profile of type `new_type`.
fn current_name<'a>(new_type: &str, old: &'a str) -> &'a str {
    if new_type == "depMacOSEnrollmentProfile"
        && let Some((_, new)) = MACOS_RENAMES.iter().find(|(o, _)| *o == old)
    {
        return new;
    }
    old
}

/// What the old shape shows for an old property the profile's current type has no home for
/// (e.g. `macOSFileVaultDisabled` of an iOS profile): the old type's default.
fn old_default(old: &str) -> Value {
    match old {
        "iTunesPairingMode" => Value::String("disallow".to_owned()),
        "sharedIPadMaximumUserCount" => Value::from(0),
        "managementCertificates" => Value::Array(Vec::new()),
        "displayName"
        | "description"
        | "configurationEndpointUrl"
        | "supportDepartment"
        | "supportPhoneNumber" => Value::Null,
        _ => Value::Bool(false),
    }
}

/// A rendered profile (current shape, with `@odata.type`) in the old shape:
/// `#microsoft.graph.depEnrollmentProfile` for DEP profiles of any Apple platform the old type
/// covered, `#microsoft.graph.enrollmentProfile` for Apple Configurator profiles, `None` for
/// types the old API did not have.
pub fn profile_to_old(profile: &Value) -> Option<Value> {
    let obj = profile.as_object()?;
    let new_type = unqualified_type_name(obj.get("@odata.type")?.as_str()?);
    let old_type = old_profile_type(new_type)?;
    let mut out = Map::new();
    out.insert(
        "@odata.type".to_owned(),
        Value::String(format!("#microsoft.graph.{old_type}")),
    );
    out.insert(
        "id".to_owned(),
        obj.get("id").cloned().unwrap_or(Value::Null),
    );
    for old in old_names(old_type) {
        let value = obj
            .get(current_name(new_type, old))
            .cloned()
            .unwrap_or_else(|| old_default(old));
        out.insert(old.to_owned(), value);
    }
    Some(Value::Object(out))
}

/// An old profile body as a body for a profile of current type `target`. On create `target` is
/// the type the old `@odata.type` names (an old create keeps its old type); on PATCH it is the
/// stored type, and the old `@odata.type` (if sent) must be the one that type is shown as. Old
/// properties the target type has no home for are accepted only with the value the old shape
/// shows for them, so a GET body sent back unchanged is a valid PATCH.
pub fn profile_body_from_old(
    target: &EntityType,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, ValidationError> {
    let Some(old_type) = old_profile_type(target.name) else {
        return Err(ValidationError::new(format!(
            "Profiles of type '{}' did not exist in the single-token API; edit them through \
             /deviceManagement/depOnboardingSettings/{{id}}/enrollmentProfiles.",
            target.odata_type()
        )));
    };
    let own: Vec<&str> = target.all_properties().iter().map(|p| p.name).collect();
    let names = old_names(old_type);
    let mut out = Map::new();
    for (name, value) in body {
        if name == "@odata.type" {
            let given = value.as_str().map(unqualified_type_name);
            if !given.is_some_and(|n| n.eq_ignore_ascii_case(old_type)) {
                return Err(ValidationError::new(format!(
                    "'@odata.type' must be '#microsoft.graph.{old_type}' here, not {value}."
                )));
            }
            out.insert(name.clone(), Value::String(target.odata_type()));
            continue;
        }
        if name == "id" || name.contains('@') {
            out.insert(name.clone(), value.clone());
            continue;
        }
        if !names.contains(&name.as_str()) {
            return Err(ValidationError::unknown_property(
                name,
                &format!("microsoft.graph.{old_type}"),
            ));
        }
        let current = current_name(target.name, name);
        if own.contains(&current) {
            out.insert(current.to_owned(), value.clone());
        } else if *value != old_default(name) {
            return Err(ValidationError::new(format!(
                "'{name}' cannot be set on this profile: its type '{}' has no such setting. Use \
                 /deviceManagement/depOnboardingSettings/{{id}}/enrollmentProfiles for its own properties.",
                target.odata_type()
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
