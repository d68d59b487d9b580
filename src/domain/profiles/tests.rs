//! Unit tests of the profile tables against CSDL26/TM26 and of type selection.

use serde_json::{Map, Value, json};

use super::*;
use crate::domain::edm::{self, Access, EdmType};

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn declared(ty: &EntityType) -> Vec<&'static str> {
    ty.properties.iter().map(|p| p.name).collect()
}

/// Declared property names, copied from `csdl/current_beta_type_mappings_excerpt.json` (TM26).
const TM26_ENROLLMENT_PROFILE: &[&str] = &[
    "configurationEndpointUrl",
    "description",
    "displayName",
    "enableAuthenticationViaCompanyPortal",
    "requireCompanyPortalOnSetupAssistantEnrolledDevices",
    "requiresUserAuthentication",
];

const TM26_DEP_ENROLLMENT_BASE_PROFILE: &[&str] = &[
    "appleIdDisabled",
    "applePayDisabled",
    "configurationWebUrl",
    "deviceNameTemplate",
    "diagnosticsDisabled",
    "displayToneSetupDisabled",
    "enabledSkipKeys",
    "enrollmentTimeAzureAdGroupIds",
    "isDefault",
    "isMandatory",
    "locationDisabled",
    "privacyPaneDisabled",
    "profileRemovalDisabled",
    "restoreBlocked",
    "screenTimeScreenDisabled",
    "siriDisabled",
    "supervisedModeEnabled",
    "supportDepartment",
    "supportPhoneNumber",
    "termsAndConditionsDisabled",
    "touchIdDisabled",
    "waitForDeviceConfiguredConfirmation",
];

const TM26_DEP_ENROLLMENT_PROFILE: &[&str] = &[
    "appleIdDisabled",
    "applePayDisabled",
    "awaitDeviceConfiguredConfirmation",
    "diagnosticsDisabled",
    "enableSharedIPad",
    "isDefault",
    "isMandatory",
    "iTunesPairingMode",
    "locationDisabled",
    "macOSFileVaultDisabled",
    "macOSRegistrationDisabled",
    "managementCertificates",
    "passCodeDisabled",
    "profileRemovalDisabled",
    "restoreBlocked",
    "restoreFromAndroidDisabled",
    "sharedIPadMaximumUserCount",
    "siriDisabled",
    "supervisedModeEnabled",
    "supportDepartment",
    "supportPhoneNumber",
    "termsAndConditionsDisabled",
    "touchIdDisabled",
    "zoomDisabled",
];

const TM26_DEP_IOS_ENROLLMENT_PROFILE: &[&str] = &[
    "appearanceScreenDisabled",
    "awaitDeviceConfiguredConfirmation",
    "carrierActivationUrl",
    "companyPortalVppTokenId",
    "deviceToDeviceMigrationDisabled",
    "enableSharedIPad",
    "enableSingleAppEnrollmentMode",
    "expressLanguageScreenDisabled",
    "forceTemporarySession",
    "homeButtonScreenDisabled",
    "iMessageAndFaceTimeScreenDisabled",
    "iTunesPairingMode",
    "managementCertificates",
    "onBoardingScreenDisabled",
    "passCodeDisabled",
    "passcodeLockGracePeriodInSeconds",
    "preferredLanguageScreenDisabled",
    "restoreCompletedScreenDisabled",
    "restoreFromAndroidDisabled",
    "sharedIPadMaximumUserCount",
    "simSetupScreenDisabled",
    "softwareUpdateScreenDisabled",
    "temporarySessionTimeoutInSeconds",
    "updateCompleteScreenDisabled",
    "userlessSharedAadModeEnabled",
    "userSessionTimeoutInSeconds",
    "watchMigrationScreenDisabled",
    "welcomeScreenDisabled",
    "zoomDisabled",
];

const TM26_DEP_MACOS_ENROLLMENT_PROFILE: &[&str] = &[
    "accessibilityScreenDisabled",
    "adminAccountFullName",
    "adminAccountPassword",
    "adminAccountUserName",
    "autoAdvanceSetupEnabled",
    "autoUnlockWithWatchDisabled",
    "chooseYourLockScreenDisabled",
    "depProfileAdminAccountPasswordRotationSetting",
    "dontAutoPopulatePrimaryAccountInfo",
    "enableRestrictEditing",
    "fileVaultDisabled",
    "hideAdminAccount",
    "iCloudDiagnosticsDisabled",
    "iCloudStorageDisabled",
    "passCodeDisabled",
    "primaryAccountFullName",
    "primaryAccountUserName",
    "registrationDisabled",
    "requestRequiresNetworkTether",
    "setPrimarySetupAccountAsRegularUser",
    "skipPrimarySetupAccountCreation",
    "usePlatformSSODuringSetupAssistant",
    "zoomDisabled",
];

#[test]
fn declared_properties_match_the_type_mappings() {
    let expected: [(&EntityType, &[&str]); 7] = [
        (&ENROLLMENT_PROFILE, TM26_ENROLLMENT_PROFILE),
        (
            &DEP_ENROLLMENT_BASE_PROFILE,
            TM26_DEP_ENROLLMENT_BASE_PROFILE,
        ),
        (&DEP_ENROLLMENT_PROFILE, TM26_DEP_ENROLLMENT_PROFILE),
        (&DEP_IOS_ENROLLMENT_PROFILE, TM26_DEP_IOS_ENROLLMENT_PROFILE),
        (
            &DEP_MACOS_ENROLLMENT_PROFILE,
            TM26_DEP_MACOS_ENROLLMENT_PROFILE,
        ),
        (&DEP_TVOS_ENROLLMENT_PROFILE, &[]),
        (&DEP_VISIONOS_ENROLLMENT_PROFILE, &[]),
    ];
    for (ty, names) in expected {
        assert_eq!(declared(ty), names, "{}", ty.name);
    }
}

#[test]
fn tables_follow_csdl_facets_and_inheritance() {
    let count = |t: &EntityType| t.all_properties().len();
    assert_eq!(count(&DEP_IOS_ENROLLMENT_PROFILE), 6 + 22 + 29);
    assert_eq!(count(&DEP_MACOS_ENROLLMENT_PROFILE), 6 + 22 + 23);
    assert_eq!(count(&DEP_ENROLLMENT_PROFILE), 6 + 24);
    assert_eq!(count(&DEP_TVOS_ENROLLMENT_PROFILE), 6);
    let ios = &DEP_IOS_ENROLLMENT_PROFILE;
    let prop = |name| ios.property(name).unwrap();
    assert_eq!(prop("configurationWebUrl").ty, EdmType::Boolean);
    assert!(!prop("configurationWebUrl").nullable);
    assert_eq!(
        prop("enrollmentTimeAzureAdGroupIds").ty,
        EdmType::GuidCollection
    );
    assert!(prop("passcodeLockGracePeriodInSeconds").nullable);
    assert!(!prop("userSessionTimeoutInSeconds").nullable);
    assert!(prop("displayName").nullable);
    assert_eq!(prop("isDefault").access, Access::ServerManaged);
    assert_eq!(
        prop("configurationEndpointUrl").access,
        Access::ServerManaged
    );
    assert_eq!(
        ITUNES_PAIRING_MODE.members,
        ["disallow", "allow", "requiresCertificate"]
    );
    for t in all_profile_types() {
        assert!(t.derives_from(&ENROLLMENT_PROFILE));
        let names = declared(t);
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_ascii_lowercase());
        assert_eq!(names, sorted, "{} is not in CSDL order", t.name);
    }
    assert!(!DEP_ENROLLMENT_PROFILE.derives_from(&DEP_ENROLLMENT_BASE_PROFILE));
}

#[test]
fn profile_type_accepts_every_spelling() {
    for given in [
        "#microsoft.graph.depIOSEnrollmentProfile",
        "microsoft.graph.depIOSEnrollmentProfile",
        "depiosenrollmentprofile",
        "#Microsoft.Graph.DEPIOSENROLLMENTPROFILE",
    ] {
        assert_eq!(profile_type(given).unwrap().name, "depIOSEnrollmentProfile");
    }
    assert_eq!(
        profile_type("#microsoft.graph.enrollmentProfile")
            .unwrap()
            .name,
        "enrollmentProfile"
    );
    let abs = profile_type("#microsoft.graph.depEnrollmentBaseProfile")
        .unwrap_err()
        .message;
    assert!(
        abs.contains("'microsoft.graph.depEnrollmentBaseProfile' is abstract"),
        "{abs}"
    );
    assert!(
        abs.contains("#microsoft.graph.depVisionOSEnrollmentProfile"),
        "{abs}"
    );
    let unknown = profile_type("#microsoft.graph.windowsAutopilotDeploymentProfile")
        .unwrap_err()
        .message;
    assert!(
        unknown.contains(
            "'#microsoft.graph.windowsAutopilotDeploymentProfile' is not an enrollment profile type"
        ),
        "{unknown}"
    );
    assert!(!unknown.contains("depEnrollmentBaseProfile"), "{unknown}");
    assert_eq!(
        find_profile_type("microsoft.graph.depEnrollmentBaseProfile").map(|t| t.is_abstract),
        Some(true)
    );
    assert_eq!(all_profile_types().len(), 7);
}

#[test]
fn create_and_patch_type_checks() {
    let body = obj(&json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile"}));
    assert_eq!(
        create_type(&body).unwrap().name,
        "depMacOSEnrollmentProfile"
    );
    assert_eq!(
        create_type(&obj(&json!({"displayName": "x"})))
            .unwrap()
            .name,
        "enrollmentProfile"
    );
    assert!(create_type(&obj(&json!({"@odata.type": 5}))).is_err());
    let ios = &DEP_IOS_ENROLLMENT_PROFILE;
    check_patch_type(ios, &obj(&json!({"description": "x"}))).unwrap();
    check_patch_type(
        ios,
        &obj(&json!({"@odata.type": "microsoft.graph.depIOSEnrollmentProfile"})),
    )
    .unwrap();
    let err = check_patch_type(
        ios,
        &obj(&json!({"@odata.type": "#microsoft.graph.depMacOSEnrollmentProfile"})),
    )
    .unwrap_err();
    assert!(
        err.message.contains(
            "does not match the profile's type '#microsoft.graph.depIOSEnrollmentProfile'"
        ),
        "{}",
        err.message
    );
}

#[test]
fn default_platforms_per_type() {
    assert_eq!(
        default_platforms(&DEP_IOS_ENROLLMENT_PROFILE),
        [Platform::Ios]
    );
    assert_eq!(
        default_platforms(&DEP_MACOS_ENROLLMENT_PROFILE),
        [Platform::MacOs]
    );
    assert_eq!(
        default_platforms(&DEP_TVOS_ENROLLMENT_PROFILE),
        [Platform::TvOs]
    );
    assert_eq!(
        default_platforms(&DEP_VISIONOS_ENROLLMENT_PROFILE),
        [Platform::VisionOs]
    );
    assert_eq!(
        default_platforms(&DEP_ENROLLMENT_PROFILE),
        [Platform::Ios, Platform::MacOs]
    );
    assert!(default_platforms(&ENROLLMENT_PROFILE).is_empty());
    assert_eq!(Platform::parse("MACOS"), Some(Platform::MacOs));
    assert_eq!(Platform::TvOs.as_str(), "tvOS");
    assert_eq!(Platform::parse("android"), None);
    assert_eq!(
        Platform::VisionOs.default_navigation(),
        "defaultVisionOSEnrollmentProfile"
    );
}

/// The Python SDK's create body (graph-dep-api.md §5.4), then a PATCH of the whole GET body.
#[test]
fn sdk_create_then_patch_back_round_trips() {
    let ios = &DEP_IOS_ENROLLMENT_PROFILE;
    let body = obj(
        &json!({"@odata.type":"#microsoft.graph.depIOSEnrollmentProfile",
        "description":"d","displayName":"n","requiresUserAuthentication":true,
        "enabledSkipKeys":["Location","Restore"],"isMandatory":true,"supervisedModeEnabled":true,
        "supportDepartment":"IT","supportPhoneNumber":"555-0100","iTunesPairingMode":"Allow",
        "passcodeLockGracePeriodInSeconds":60,
        "managementCertificates":[{"@odata.type":"microsoft.graph.managementCertificateWithThumbprint","certificate":"MIIB","thumbprint":"AB"}]}),
    );
    let mut props = obj(&json!({"configurationEndpointUrl": "https://gw/x", "isDefault": false}));
    edm::apply(ios, &mut props, &body).unwrap();
    apply_create_defaults(ios, &body, &mut props);
    check_rules(ios, &props).unwrap();
    let got = Value::Object(edm::render_with_id(ios, "dep_guid", &props));
    assert_eq!(got["iTunesPairingMode"], "allow");
    assert_eq!(got["enableAuthenticationViaCompanyPortal"], true);
    assert_eq!(
        got["managementCertificates"],
        json!([{"certificate":"MIIB","thumbprint":"AB"}])
    );
    assert_eq!(got["enrollmentTimeAzureAdGroupIds"], json!([]));
    assert_eq!(got["sharedIPadMaximumUserCount"], 0);
    assert_eq!(got["carrierActivationUrl"], Value::Null);
    let before = props.clone();
    edm::apply(ios, &mut props, got.as_object().unwrap()).unwrap();
    assert_eq!(edm::render(ios, &props), edm::render(ios, &before));
    let before = props.clone();
    // GRAPH-COMPAT: server-managed values are accepted and ignored (README "Write bodies").
    edm::apply(
        ios,
        &mut props,
        &obj(&json!({"isDefault": true, "configurationEndpointUrl": null})),
    )
    .unwrap();
    assert_eq!(props, before);
    let err = edm::apply(
        ios,
        &mut props,
        &obj(&json!({"zoomDisabled": true, "fileVaultDisabled": true})),
    )
    .unwrap_err();
    assert!(
        err.message.contains(
            "'fileVaultDisabled' does not exist on type 'microsoft.graph.depIOSEnrollmentProfile'"
        ),
        "{}",
        err.message
    );
    assert_eq!(props, before);
}

#[test]
fn caps_follow_apples_limits() {
    let ios = &DEP_IOS_ENROLLMENT_PROFILE;
    let mut props = Map::new();
    let long_name = obj(&json!({"displayName": "n".repeat(MAX_APPLE_NAME_CHARS + 1)}));
    assert!(
        edm::apply(ios, &mut props, &long_name)
            .unwrap_err()
            .message
            .contains("longer than 125")
    );
    let long_phone = obj(&json!({"supportPhoneNumber": "5".repeat(MAX_PHONE_CHARS + 1)}));
    assert!(edm::apply(ios, &mut props, &long_phone).is_err());
    let certs: Vec<_> = (0..=MAX_CERTIFICATES)
        .map(|_| json!({"thumbprint": "AB"}))
        .collect();
    let many = obj(&json!({"managementCertificates": certs}));
    assert!(
        edm::apply(ios, &mut props, &many)
            .unwrap_err()
            .message
            .contains("more than 50 values")
    );
}
