//! The enrollmentProfile type hierarchy as static EDM tables, every property exactly as CSDL26
//! declares it (names, types, nullability, order). Length and size caps are ours; each is noted.

use crate::domain::edm::{ComplexType, EdmType, EntityType, EnumType, Property};

/// Apple's cap on a DEP profile's `profile_name` and `department` (apple-dep-protocol.md §2.6, §5):
/// the gateway pushes these values to Apple, so longer ones could never be defined there.
pub const MAX_APPLE_NAME_CHARS: usize = 125;
/// Apple's cap on `support_phone_number`.
pub const MAX_PHONE_CHARS: usize = 50;
/// Apple's cap on a profile `url`; also used for the other URL properties.
pub const MAX_URL_CHARS: usize = 2000;
/// Our cap on account names, full names, passwords, the device name template and a VPP token id.
pub const MAX_SHORT_TEXT_CHARS: usize = 256;
/// Our caps on `enabledSkipKeys`: Apple's skip keys are short identifiers, about 60 exist.
pub const MAX_SKIP_KEYS: usize = 100;
/// Longest accepted skip key.
pub const MAX_SKIP_KEY_CHARS: usize = 64;
/// Most management certificates on one profile (our cap).
pub const MAX_CERTIFICATES: usize = 50;
/// Longest accepted certificate (base64 DER; a chain of several certificates fits).
pub const MAX_CERTIFICATE_CHARS: usize = 16_384;
/// Longest accepted thumbprint (a SHA-256 hex thumbprint is 64 characters).
pub const MAX_THUMBPRINT_CHARS: usize = 128;

const fn flag(name: &'static str) -> Property {
    Property::new(name, EdmType::Boolean).not_null()
}

const fn text(name: &'static str, max: usize) -> Property {
    Property::new(name, EdmType::String).max_chars(max)
}

const fn is_default() -> Property {
    flag("isDefault").server_managed("It changes only through the setDefaultProfile action.")
}

const fn management_certificates() -> Property {
    Property::new(
        "managementCertificates",
        EdmType::ComplexCollection(&MANAGEMENT_CERTIFICATE_WITH_THUMBPRINT),
    )
    .max_items(MAX_CERTIFICATES)
}

/// `graph.iTunesPairingMode` (CSDL21 order, values 0–2).
pub static ITUNES_PAIRING_MODE: EnumType = EnumType {
    name: "iTunesPairingMode",
    members: &["disallow", "allow", "requiresCertificate"],
};

/// `graph.managementCertificateWithThumbprint`.
pub static MANAGEMENT_CERTIFICATE_WITH_THUMBPRINT: ComplexType = ComplexType {
    name: "managementCertificateWithThumbprint",
    properties: &[
        text("certificate", MAX_CERTIFICATE_CHARS),
        text("thumbprint", MAX_THUMBPRINT_CHARS),
    ],
};

// The Nullable facets of the two rotation types are not in the reference (csdl/SOURCES.md,
// "Known gaps"): every member is nullable, as graph-dep-api.md §3.10 advises.
/// `graph.depProfileDelayAutoRotationSetting`.
pub static DEP_PROFILE_DELAY_AUTO_ROTATION_SETTING: ComplexType = ComplexType {
    name: "depProfileDelayAutoRotationSetting",
    properties: &[
        Property::new("onRetrievalAutoRotatePasswordEnabled", EdmType::Boolean),
        Property::new("onRetrievalDelayAutoRotatePasswordInHours", EdmType::Int32),
    ],
};

/// `graph.depProfileAdminAccountPasswordRotationSetting`.
pub static DEP_PROFILE_ADMIN_ACCOUNT_PASSWORD_ROTATION_SETTING: ComplexType = ComplexType {
    name: "depProfileAdminAccountPasswordRotationSetting",
    properties: &[
        Property::new("autoRotationPeriodInDays", EdmType::Int32),
        Property::new(
            "depProfileDelayAutoRotationSetting",
            EdmType::Complex(&DEP_PROFILE_DELAY_AUTO_ROTATION_SETTING),
        ),
    ],
};

/// `graph.enrollmentProfile`: not abstract; instances are Apple Configurator profiles.
pub static ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "enrollmentProfile",
    base: None,
    is_abstract: false,
    properties: &[
        text("configurationEndpointUrl", MAX_URL_CHARS)
            .server_managed("The service fills in mdm_enrollment_url for the new profile."),
        text("description", crate::domain::edm::DEFAULT_MAX_CHARS),
        text("displayName", MAX_APPLE_NAME_CHARS),
        flag("enableAuthenticationViaCompanyPortal"),
        flag("requireCompanyPortalOnSetupAssistantEnrolledDevices"),
        flag("requiresUserAuthentication"),
    ],
    navigations: &[],
};

/// `graph.depEnrollmentBaseProfile` (abstract).
pub static DEP_ENROLLMENT_BASE_PROFILE: EntityType = EntityType {
    name: "depEnrollmentBaseProfile",
    base: Some(&ENROLLMENT_PROFILE),
    is_abstract: true,
    properties: &[
        flag("appleIdDisabled"),
        flag("applePayDisabled"),
        // Edm.Boolean in every CSDL, despite the name.
        flag("configurationWebUrl"),
        text("deviceNameTemplate", MAX_SHORT_TEXT_CHARS),
        flag("diagnosticsDisabled"),
        flag("displayToneSetupDisabled"),
        Property::new("enabledSkipKeys", EdmType::StringCollection)
            .max_items(MAX_SKIP_KEYS)
            .max_chars(MAX_SKIP_KEY_CHARS),
        Property::new("enrollmentTimeAzureAdGroupIds", EdmType::GuidCollection).not_null(),
        is_default(),
        flag("isMandatory"),
        flag("locationDisabled"),
        flag("privacyPaneDisabled"),
        flag("profileRemovalDisabled"),
        flag("restoreBlocked"),
        flag("screenTimeScreenDisabled"),
        flag("siriDisabled"),
        flag("supervisedModeEnabled"),
        text("supportDepartment", MAX_APPLE_NAME_CHARS),
        text("supportPhoneNumber", MAX_PHONE_CHARS),
        flag("termsAndConditionsDisabled"),
        flag("touchIdDisabled"),
        flag("waitForDeviceConfiguredConfirmation"),
    ],
    navigations: &[],
};

/// `graph.depIOSEnrollmentProfile`.
pub static DEP_IOS_ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "depIOSEnrollmentProfile",
    base: Some(&DEP_ENROLLMENT_BASE_PROFILE),
    is_abstract: false,
    properties: &[
        flag("appearanceScreenDisabled"),
        flag("awaitDeviceConfiguredConfirmation"),
        text("carrierActivationUrl", MAX_URL_CHARS),
        text("companyPortalVppTokenId", MAX_SHORT_TEXT_CHARS),
        flag("deviceToDeviceMigrationDisabled"),
        flag("enableSharedIPad"),
        flag("enableSingleAppEnrollmentMode"),
        flag("expressLanguageScreenDisabled"),
        flag("forceTemporarySession"),
        flag("homeButtonScreenDisabled"),
        flag("iMessageAndFaceTimeScreenDisabled"),
        Property::new("iTunesPairingMode", EdmType::Enum(&ITUNES_PAIRING_MODE)).not_null(),
        management_certificates(),
        flag("onBoardingScreenDisabled"),
        flag("passCodeDisabled"),
        Property::new("passcodeLockGracePeriodInSeconds", EdmType::Int32),
        flag("preferredLanguageScreenDisabled"),
        flag("restoreCompletedScreenDisabled"),
        flag("restoreFromAndroidDisabled"),
        Property::new("sharedIPadMaximumUserCount", EdmType::Int32).not_null(),
        flag("simSetupScreenDisabled"),
        flag("softwareUpdateScreenDisabled"),
        Property::new("temporarySessionTimeoutInSeconds", EdmType::Int32).not_null(),
        flag("updateCompleteScreenDisabled"),
        flag("userlessSharedAadModeEnabled"),
        Property::new("userSessionTimeoutInSeconds", EdmType::Int32).not_null(),
        flag("watchMigrationScreenDisabled"),
        flag("welcomeScreenDisabled"),
        flag("zoomDisabled"),
    ],
    navigations: &[],
};

/// `graph.depMacOSEnrollmentProfile`.
pub static DEP_MACOS_ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "depMacOSEnrollmentProfile",
    base: Some(&DEP_ENROLLMENT_BASE_PROFILE),
    is_abstract: false,
    properties: &[
        flag("accessibilityScreenDisabled"),
        text("adminAccountFullName", MAX_SHORT_TEXT_CHARS),
        text("adminAccountPassword", MAX_SHORT_TEXT_CHARS),
        text("adminAccountUserName", MAX_SHORT_TEXT_CHARS),
        flag("autoAdvanceSetupEnabled"),
        flag("autoUnlockWithWatchDisabled"),
        flag("chooseYourLockScreenDisabled"),
        Property::new(
            "depProfileAdminAccountPasswordRotationSetting",
            EdmType::Complex(&DEP_PROFILE_ADMIN_ACCOUNT_PASSWORD_ROTATION_SETTING),
        ),
        flag("dontAutoPopulatePrimaryAccountInfo"),
        flag("enableRestrictEditing"),
        flag("fileVaultDisabled"),
        flag("hideAdminAccount"),
        flag("iCloudDiagnosticsDisabled"),
        flag("iCloudStorageDisabled"),
        flag("passCodeDisabled"),
        text("primaryAccountFullName", MAX_SHORT_TEXT_CHARS),
        text("primaryAccountUserName", MAX_SHORT_TEXT_CHARS),
        flag("registrationDisabled"),
        flag("requestRequiresNetworkTether"),
        flag("setPrimarySetupAccountAsRegularUser"),
        flag("skipPrimarySetupAccountCreation"),
        flag("usePlatformSSODuringSetupAssistant"),
        flag("zoomDisabled"),
    ],
    navigations: &[],
};

/// `graph.depEnrollmentProfile`: the legacy single-type DEP profile (iOS and macOS), deriving
/// directly from enrollmentProfile.
pub static DEP_ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "depEnrollmentProfile",
    base: Some(&ENROLLMENT_PROFILE),
    is_abstract: false,
    properties: &[
        flag("appleIdDisabled"),
        flag("applePayDisabled"),
        flag("awaitDeviceConfiguredConfirmation"),
        flag("diagnosticsDisabled"),
        flag("enableSharedIPad"),
        is_default(),
        flag("isMandatory"),
        Property::new("iTunesPairingMode", EdmType::Enum(&ITUNES_PAIRING_MODE)).not_null(),
        flag("locationDisabled"),
        flag("macOSFileVaultDisabled"),
        flag("macOSRegistrationDisabled"),
        management_certificates(),
        flag("passCodeDisabled"),
        flag("profileRemovalDisabled"),
        flag("restoreBlocked"),
        flag("restoreFromAndroidDisabled"),
        Property::new("sharedIPadMaximumUserCount", EdmType::Int32).not_null(),
        flag("siriDisabled"),
        flag("supervisedModeEnabled"),
        text("supportDepartment", MAX_APPLE_NAME_CHARS),
        text("supportPhoneNumber", MAX_PHONE_CHARS),
        flag("termsAndConditionsDisabled"),
        flag("touchIdDisabled"),
        flag("zoomDisabled"),
    ],
    navigations: &[],
};

/// `graph.depTvOSEnrollmentProfile` (no declared properties).
pub static DEP_TVOS_ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "depTvOSEnrollmentProfile",
    base: Some(&ENROLLMENT_PROFILE),
    is_abstract: false,
    properties: &[],
    navigations: &[],
};

/// `graph.depVisionOSEnrollmentProfile` (no declared properties).
pub static DEP_VISIONOS_ENROLLMENT_PROFILE: EntityType = EntityType {
    name: "depVisionOSEnrollmentProfile",
    base: Some(&ENROLLMENT_PROFILE),
    is_abstract: false,
    properties: &[],
    navigations: &[],
};

/// Every type of the hierarchy, base first, including the abstract one.
pub static ALL_PROFILE_TYPES: [&EntityType; 7] = [
    &ENROLLMENT_PROFILE,
    &DEP_ENROLLMENT_BASE_PROFILE,
    &DEP_IOS_ENROLLMENT_PROFILE,
    &DEP_MACOS_ENROLLMENT_PROFILE,
    &DEP_ENROLLMENT_PROFILE,
    &DEP_TVOS_ENROLLMENT_PROFILE,
    &DEP_VISIONOS_ENROLLMENT_PROFILE,
];
