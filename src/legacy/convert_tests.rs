//! Round trips and edge cases of the legacy conversions.

use serde_json::{Map, Value, json};

use super::*;
use crate::domain::devices::DiscoverySource;
use crate::domain::edm;
use crate::domain::profiles::{
    DEP_ENROLLMENT_PROFILE, DEP_IOS_ENROLLMENT_PROFILE, DEP_MACOS_ENROLLMENT_PROFILE,
    DEP_TVOS_ENROLLMENT_PROFILE, ENROLLMENT_PROFILE,
};
use crate::domain::values::Write;

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A profile as the service renders it: `@odata.type`, `id`, every property of its type.
fn rendered(ty: &EntityType, id: &str, stored: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("@odata.type".into(), Value::String(ty.odata_type()));
    out.extend(edm::render_with_id(ty, id, stored));
    Value::Object(out)
}

/// The old documented create body (DOC18), minus the server-managed endpoint URL.
fn old_dep_body() -> Map<String, Value> {
    object(json!({
        "@odata.type": "#microsoft.graph.depEnrollmentProfile",
        "displayName": "Corp iPads", "description": "Kiosk", "requiresUserAuthentication": true,
        "enableAuthenticationViaCompanyPortal": true, "supervisedModeEnabled": true,
        "supportDepartment": "IT", "passCodeDisabled": true, "isMandatory": true,
        "locationDisabled": true, "supportPhoneNumber": "+1 555 0100", "iTunesPairingMode": "allow",
        "profileRemovalDisabled": true,
        "managementCertificates": [{"thumbprint": "AB12", "certificate": "MIIB"}],
        "restoreBlocked": true, "restoreFromAndroidDisabled": true, "appleIdDisabled": true,
        "termsAndConditionsDisabled": true, "touchIdDisabled": true, "applePayDisabled": true,
        "zoomDisabled": true, "siriDisabled": true, "diagnosticsDisabled": true,
        "macOSRegistrationDisabled": true, "macOSFileVaultDisabled": true,
        "awaitDeviceConfiguredConfirmation": true, "sharedIPadMaximumUserCount": 10,
        "enableSharedIPad": true
    }))
}

#[test]
fn an_old_dep_profile_round_trips_through_the_stored_legacy_type() {
    let old = old_dep_body();
    let body = profile_body_from_old(&DEP_ENROLLMENT_PROFILE, &old).unwrap();
    assert_eq!(body["@odata.type"], "#microsoft.graph.depEnrollmentProfile");
    let mut stored = Map::new();
    edm::apply(&DEP_ENROLLMENT_PROFILE, &mut stored, &body).unwrap();
    let back = profile_to_old(&rendered(&DEP_ENROLLMENT_PROFILE, "t_1", &stored)).unwrap();
    let back = object(back);
    for (name, value) in &old {
        if name == "managementCertificates" {
            assert_eq!(back[name][0]["thumbprint"], "AB12");
        } else {
            assert_eq!(&back[name], value, "{name}");
        }
    }
    assert!(
        !back.contains_key("isDefault"),
        "no isDefault in the old shape"
    );
    assert!(!back.contains_key("requireCompanyPortalOnSetupAssistantEnrolledDevices"));
    assert_eq!(
        back.len(),
        2 + 5 + 23,
        "@odata.type, id, 5 + 23 old properties"
    );
}

#[test]
fn an_ios_profile_is_shown_as_the_old_type_and_edits_come_back_to_it() {
    let stored = object(
        json!({"displayName": "iOS", "iTunesPairingMode": "requiresCertificate",
        "enableSharedIPad": true, "sharedIPadMaximumUserCount": 3, "supervisedModeEnabled": true,
        "deviceNameTemplate": "{{SERIAL}}"}),
    );
    let old =
        object(profile_to_old(&rendered(&DEP_IOS_ENROLLMENT_PROFILE, "t_2", &stored)).unwrap());
    assert_eq!(old["@odata.type"], "#microsoft.graph.depEnrollmentProfile");
    assert_eq!(old["iTunesPairingMode"], "requiresCertificate");
    assert_eq!(
        old["macOSFileVaultDisabled"], false,
        "no home on iOS: the old default"
    );
    assert!(!old.contains_key("deviceNameTemplate"));
    // The GET body sent back unchanged is a valid PATCH that changes nothing.
    let patch = profile_body_from_old(&DEP_IOS_ENROLLMENT_PROFILE, &old).unwrap();
    let mut again = stored.clone();
    edm::apply(&DEP_IOS_ENROLLMENT_PROFILE, &mut again, &patch).unwrap();
    let twice = profile_to_old(&rendered(&DEP_IOS_ENROLLMENT_PROFILE, "t_2", &again)).unwrap();
    assert_eq!(Value::Object(old), twice);
    assert_eq!(
        again["deviceNameTemplate"], "{{SERIAL}}",
        "new-only values survive"
    );
    assert_eq!(
        patch["@odata.type"],
        "#microsoft.graph.depIOSEnrollmentProfile"
    );
}

#[test]
fn macos_properties_are_renamed_both_ways() {
    let stored = object(json!({"registrationDisabled": true, "fileVaultDisabled": false}));
    let old =
        object(profile_to_old(&rendered(&DEP_MACOS_ENROLLMENT_PROFILE, "t_3", &stored)).unwrap());
    assert_eq!(old["macOSRegistrationDisabled"], true);
    assert_eq!(old["macOSFileVaultDisabled"], false);
    assert_eq!(
        old["iTunesPairingMode"], "disallow",
        "iOS-only: the old default"
    );
    let patch = profile_body_from_old(
        &DEP_MACOS_ENROLLMENT_PROFILE,
        &object(json!({"macOSFileVaultDisabled": true, "macOSRegistrationDisabled": false})),
    )
    .unwrap();
    assert_eq!(
        Value::Object(patch),
        json!({"fileVaultDisabled": true, "registrationDisabled": false})
    );
}

#[test]
fn old_properties_without_a_home_are_refused_unless_unchanged() {
    let err = profile_body_from_old(
        &DEP_MACOS_ENROLLMENT_PROFILE,
        &object(json!({"enableSharedIPad": true})),
    )
    .unwrap_err();
    assert!(err.message.contains("enableSharedIPad"), "{}", err.message);
    assert!(
        profile_body_from_old(
            &DEP_MACOS_ENROLLMENT_PROFILE,
            &object(json!({"enableSharedIPad": false, "iTunesPairingMode": "disallow"}))
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn new_only_properties_and_wrong_types_are_refused_on_old_bodies() {
    let err = profile_body_from_old(&DEP_ENROLLMENT_PROFILE, &object(json!({"isDefault": true})))
        .unwrap_err();
    assert_eq!(
        err.message,
        "The property 'isDefault' does not exist on type 'microsoft.graph.depEnrollmentProfile'."
    );
    let err = profile_body_from_old(
        &DEP_IOS_ENROLLMENT_PROFILE,
        &object(json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile"})),
    )
    .unwrap_err();
    assert!(
        err.message.contains("depEnrollmentProfile"),
        "{}",
        err.message
    );
    assert!(profile_body_from_old(&DEP_TVOS_ENROLLMENT_PROFILE, &Map::new()).is_err());
}

#[test]
fn apple_configurator_profiles_keep_the_base_type_and_tvos_has_no_old_shape() {
    let stored = object(
        json!({"displayName": "AC", "requireCompanyPortalOnSetupAssistantEnrolledDevices": true}),
    );
    let old = object(profile_to_old(&rendered(&ENROLLMENT_PROFILE, "t_4", &stored)).unwrap());
    assert_eq!(old["@odata.type"], "#microsoft.graph.enrollmentProfile");
    assert_eq!(old.len(), 2 + 5);
    let body = profile_body_from_old(&ENROLLMENT_PROFILE, &old).unwrap();
    let mut again = stored.clone();
    edm::apply(&ENROLLMENT_PROFILE, &mut again, &body).unwrap();
    let twice = profile_to_old(&rendered(&ENROLLMENT_PROFILE, "t_4", &again)).unwrap();
    assert_eq!(Value::Object(old), twice);
    assert_eq!(
        again["requireCompanyPortalOnSetupAssistantEnrolledDevices"],
        true
    );
    assert!(profile_to_old(&rendered(&DEP_TVOS_ENROLLMENT_PROFILE, "t_5", &Map::new())).is_none());
}

#[test]
fn enum_members_map_to_old_ones() {
    assert_eq!(
        enrollment_state_to_old(EnrollmentState::Blocked),
        EnrollmentState::Failed
    );
    for state in [
        EnrollmentState::Unknown,
        EnrollmentState::Enrolled,
        EnrollmentState::PendingReset,
        EnrollmentState::Failed,
        EnrollmentState::NotContacted,
    ] {
        assert_eq!(
            enrollment_state_to_old(state),
            state,
            "old members are kept"
        );
    }
    assert_eq!(
        platform_to_old(DevicePlatform::VisionOs),
        DevicePlatform::Unknown
    );
    assert_eq!(
        platform_to_old(DevicePlatform::TvOs),
        DevicePlatform::Unknown
    );
    assert_eq!(
        platform_to_old(DevicePlatform::MacOs),
        DevicePlatform::MacOs
    );
}

#[test]
fn a_device_round_trips_through_the_old_shape() {
    let mut device = ImportedAppleDeviceIdentity::new("d1".into(), "C02ABC123XYZ".into(), 42);
    device.description = Some("Lab".into());
    device.is_supervised = true;
    device.platform = DevicePlatform::Ios;
    device.enrollment_state = EnrollmentState::Blocked;
    device.is_deleted = Some(true);
    device.discovery_source = DiscoverySource::DeviceEnrollmentProgram;
    let old = device_to_old(&device);
    assert!(!old.contains_key("isDeleted"));
    assert_eq!(old["enrollmentState"], "failed");
    assert_eq!(old.len(), 1 + 10);
    let body = device_body_from_old(old.clone()).unwrap();
    let mut back = ImportedAppleDeviceIdentity::new("d1".into(), String::new(), 42);
    back.apply(&body, Write::Create).unwrap();
    assert_eq!(back.serial_number, device.serial_number);
    assert_eq!(back.description, device.description);
    assert_eq!(back.platform, device.platform);
    assert_eq!(device_to_old(&back)["isSupervised"], true);
    assert!(device_body_from_old(object(json!({"isDeleted": false}))).is_err());
}

#[test]
fn a_setting_has_only_the_old_properties() {
    let mut setting = OnboardingSetting::new("s1".into(), 7);
    setting.token_name = Some("Reseller".into());
    setting.share_token_with_school_data_sync_service = true;
    let old = setting_to_old(&setting);
    assert_eq!(old.len(), 8);
    assert!(!old.contains_key("tokenName") && !old.contains_key("tokenType"));
    assert_eq!(old["shareTokenWithSchoolDataSyncService"], true);
    // The old GET body is a valid old PATCH body that changes nothing.
    let body = setting_body_from_old(old).unwrap();
    let mut again = setting.clone();
    again.apply(&body, Write::Update).unwrap();
    assert_eq!(again, setting);
    assert!(setting_body_from_old(object(json!({"tokenName": "x"}))).is_err());
}
