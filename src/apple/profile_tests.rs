//! Tests of the Graph → Apple profile mapping.

use serde_json::{Value, json};

use super::*;

const URL: &str = "https://mdm.example.com/mdm/enroll?profile=abc";

fn map(odata_type: &str, props: &Value) -> DepProfile {
    dep_profile_from_graph(odata_type, props.as_object().unwrap(), URL)
}

#[test]
fn ios_profile_maps_every_field() {
    let p = map(
        "#microsoft.graph.depIOSEnrollmentProfile",
        &json!({"displayName": " Corp iPhones ", "supervisedModeEnabled": true,
            "isMandatory": true, "profileRemovalDisabled": true,
            "awaitDeviceConfiguredConfirmation": true, "supportPhoneNumber": "555-0100",
            "supportDepartment": "IT", "iTunesPairingMode": "allow", "enableSharedIPad": true,
            "configurationWebUrl": true, "appleIdDisabled": true, "siriDisabled": false}),
    );
    let mut want = DepProfile::new("Corp iPhones", URL);
    want.configuration_web_url = Some(URL.to_owned());
    want.is_supervised = Some(true);
    want.is_mandatory = Some(true);
    want.is_mdm_removable = false;
    want.await_device_configured = Some(true);
    want.support_phone_number = Some("555-0100".to_owned());
    want.department = Some("IT".to_owned());
    want.allow_pairing = Some(true);
    want.is_multi_user = Some(true);
    want.skip_setup_items = vec!["AppleID".to_owned()];
    assert_eq!(p, want);
}

#[test]
fn every_ios_flag_becomes_its_skip_key() {
    let flags: Vec<&str> = BASE_SKIPS
        .iter()
        .chain(IOS_SKIPS)
        .map(|(g, _)| *g)
        .collect();
    let props: Map<String, Value> = flags
        .iter()
        .map(|f| ((*f).to_owned(), json!(true)))
        .collect();
    let p = dep_profile_from_graph("depIOSEnrollmentProfile", &props, URL);
    let want = [
        "AppleID",
        "Payment",
        "Diagnostics",
        "DisplayTone",
        "Location",
        "Passcode",
        "Privacy",
        "Restore",
        "ScreenTime",
        "Siri",
        "TOS",
        "Biometric",
        "Zoom",
        "Appearance",
        "DeviceToDeviceMigration",
        "ExpressLanguage",
        "PreferredLanguage",
        "HomeButtonSensitivity",
        "iMessageAndFaceTime",
        "OnBoarding",
        "RestoreCompleted",
        "Android",
        "SIMSetup",
        "SoftwareUpdate",
        "UpdateCompleted",
        "WatchMigration",
        "Welcome",
    ];
    assert_eq!(p.skip_setup_items, want);
}

#[test]
fn macos_flags_and_auto_advance() {
    let p = map(
        "microsoft.graph.depMacOSEnrollmentProfile",
        &json!({"displayName": "Macs", "fileVaultDisabled": true, "iCloudStorageDisabled": true,
            "iCloudDiagnosticsDisabled": true, "registrationDisabled": true,
            "accessibilityScreenDisabled": true, "autoUnlockWithWatchDisabled": true,
            "chooseYourLockScreenDisabled": true, "autoAdvanceSetupEnabled": true,
            "waitForDeviceConfiguredConfirmation": true, "enableSharedIPad": true,
            "iTunesPairingMode": "disallow", "appearanceScreenDisabled": true}),
    );
    assert_eq!(
        p.skip_setup_items,
        [
            "Accessibility",
            "UnlockWithWatch",
            "Appearance",
            "FileVault",
            "iCloudDiagnostics",
            "iCloudStorage",
            "Registration"
        ]
    );
    assert_eq!(p.auto_advance_setup, Some(true));
    assert_eq!(p.await_device_configured, Some(true));
    // iOS-only properties do not leak into a macOS profile.
    assert_eq!((p.is_multi_user, p.allow_pairing), (None, None));
}

#[test]
fn enabled_skip_keys_are_added_once_and_as_is() {
    let p = map(
        "#microsoft.graph.depIOSEnrollmentProfile",
        &json!({"displayName": "x", "locationDisabled": true,
            "enabledSkipKeys": ["Location", "TermsOfAddress", " ", "Location", "CameraButton"]}),
    );
    assert_eq!(
        p.skip_setup_items,
        ["Location", "TermsOfAddress", "CameraButton"]
    );
}

#[test]
fn pairing_with_certificates_uses_supervising_host_certs() {
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
    let p = map(
        "#microsoft.graph.depIOSEnrollmentProfile",
        &json!({"displayName": "x", "iTunesPairingMode": "requiresCertificate",
            "managementCertificates": [{"certificate": pem, "thumbprint": "AB"},
                {"certificate": "MIIC", "thumbprint": "CD"}, {"thumbprint": "EF"}]}),
    );
    assert_eq!(p.allow_pairing, Some(true));
    assert_eq!(p.supervising_host_certs, ["MIIBAAAA", "MIIC"]);
    assert!(p.anchor_certs.is_empty());
    let p = map(
        "#microsoft.graph.depIOSEnrollmentProfile",
        &json!({"displayName": "x", "iTunesPairingMode": "Disallow",
            "managementCertificates": [{"certificate": "MIIC"}]}),
    );
    assert_eq!(p.allow_pairing, Some(false));
    assert!(p.supervising_host_certs.is_empty());
}

#[test]
fn legacy_profile_uses_its_own_macos_flag_names() {
    let p = map(
        "#microsoft.graph.depEnrollmentProfile",
        &json!({"displayName": "old", "macOSFileVaultDisabled": true,
            "macOSRegistrationDisabled": true, "restoreFromAndroidDisabled": true,
            "touchIdDisabled": true, "awaitDeviceConfiguredConfirmation": false,
            "enableSharedIPad": false, "profileRemovalDisabled": false}),
    );
    assert_eq!(
        p.skip_setup_items,
        ["Biometric", "Android", "FileVault", "Registration"]
    );
    assert_eq!(p.await_device_configured, Some(false));
    assert_eq!(p.is_multi_user, Some(false));
    assert!(p.is_mdm_removable);
}

#[test]
fn tvos_and_visionos_profiles_carry_name_url_and_skip_keys_only() {
    for ty in [
        "#microsoft.graph.depTvOSEnrollmentProfile",
        "depVisionOSEnrollmentProfile",
    ] {
        let p = map(
            ty,
            &json!({"displayName": "TV", "supervisedModeEnabled": true, "siriDisabled": true,
                "enabledSkipKeys": ["TVRoom"], "configurationWebUrl": false}),
        );
        let mut want = DepProfile::new("TV", URL);
        want.skip_setup_items = vec!["TVRoom".to_owned()];
        assert_eq!(p, want, "{ty}");
    }
}

#[test]
fn apple_body_omits_unset_fields_but_keeps_is_mdm_removable() {
    let p = map("#microsoft.graph.depIOSEnrollmentProfile", &json!({}));
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"profile_name": "Enrollment profile", "url": URL, "is_mdm_removable": true})
    );
}
