//! From a Graph DEP enrollment profile (`depIOSEnrollmentProfile`, `depMacOSEnrollmentProfile`,
//! `depTvOSEnrollmentProfile`, `depVisionOSEnrollmentProfile`, legacy `depEnrollmentProfile`;
//! property names of graph-dep-api.md §3) to the body of Apple's `POST /profile`.
//!
//! Skip keys are Apple's (`SkipKeys` in apple/device-management `other/skipkeys.yaml`).
//! Graph properties without an Apple profile field are left out on purpose:
//! `deviceNameTemplate`, `sharedIPadMaximumUserCount`, the session timeouts,
//! `passcodeLockGracePeriodInSeconds` and the macOS admin/primary account settings are applied
//! by MDM commands after enrollment, not by the DEP profile; `enrollmentTimeAzureAdGroupIds`,
//! `requiresUserAuthentication`, `enableAuthenticationViaCompanyPortal`,
//! `companyPortalVppTokenId`, `enableSingleAppEnrollmentMode` and `userlessSharedAadModeEnabled`
//! are for the MDM server behind the enrollment URL (the gateway serves nothing there); `carrierActivationUrl`,
//! `forceTemporarySession` and `usePlatformSSODuringSetupAssistant` have no counterpart in
//! Apple's profile; `isDefault`, `description` and `deviceNameTemplate` are gateway-side only.
//! Apple's `anchor_certs` (trust for the MDM server's TLS) has no Graph property either:
//! `managementCertificates` are Apple Configurator host certificates, i.e.
//! `supervising_host_certs`.

use serde_json::{Map, Value};

use super::types::DepProfile;

/// Graph `…Disabled` flags → Apple skip keys, valid for every DEP profile type with flags.
const BASE_SKIPS: &[(&str, &str)] = &[
    ("appleIdDisabled", "AppleID"),
    ("applePayDisabled", "Payment"),
    ("diagnosticsDisabled", "Diagnostics"),
    ("displayToneSetupDisabled", "DisplayTone"),
    ("locationDisabled", "Location"),
    ("passCodeDisabled", "Passcode"),
    ("privacyPaneDisabled", "Privacy"),
    ("restoreBlocked", "Restore"),
    ("screenTimeScreenDisabled", "ScreenTime"),
    ("siriDisabled", "Siri"),
    ("termsAndConditionsDisabled", "TOS"),
    ("touchIdDisabled", "Biometric"),
    ("zoomDisabled", "Zoom"),
];

/// iOS/iPadOS screens (`depIOSEnrollmentProfile`).
const IOS_SKIPS: &[(&str, &str)] = &[
    ("appearanceScreenDisabled", "Appearance"),
    ("deviceToDeviceMigrationDisabled", "DeviceToDeviceMigration"),
    // ExpressLanguage and PreferredLanguage are no longer in Apple's published list but are
    // still read by Setup Assistant and sent by other MDMs; devices ignore unknown keys.
    ("expressLanguageScreenDisabled", "ExpressLanguage"),
    ("preferredLanguageScreenDisabled", "PreferredLanguage"),
    ("homeButtonScreenDisabled", "HomeButtonSensitivity"),
    ("iMessageAndFaceTimeScreenDisabled", "iMessageAndFaceTime"),
    ("onBoardingScreenDisabled", "OnBoarding"),
    ("restoreCompletedScreenDisabled", "RestoreCompleted"),
    ("restoreFromAndroidDisabled", "Android"),
    ("simSetupScreenDisabled", "SIMSetup"),
    ("softwareUpdateScreenDisabled", "SoftwareUpdate"),
    ("updateCompleteScreenDisabled", "UpdateCompleted"),
    ("watchMigrationScreenDisabled", "WatchMigration"),
    ("welcomeScreenDisabled", "Welcome"),
];

/// macOS screens (`depMacOSEnrollmentProfile`).
const MACOS_SKIPS: &[(&str, &str)] = &[
    ("accessibilityScreenDisabled", "Accessibility"),
    ("autoUnlockWithWatchDisabled", "UnlockWithWatch"),
    // Intune's "Choose your look" screen; Apple's key for that pane is Appearance.
    ("chooseYourLockScreenDisabled", "Appearance"),
    ("fileVaultDisabled", "FileVault"),
    ("iCloudDiagnosticsDisabled", "iCloudDiagnostics"),
    ("iCloudStorageDisabled", "iCloudStorage"),
    // Registration was dropped from Apple's list (macOS registration pane); kept for older
    // macOS, where it still skips the pane.
    ("registrationDisabled", "Registration"),
];

/// The legacy single-type profile's macOS flags.
const LEGACY_SKIPS: &[(&str, &str)] = &[
    ("restoreFromAndroidDisabled", "Android"),
    ("macOSFileVaultDisabled", "FileVault"),
    ("macOSRegistrationDisabled", "Registration"),
];

/// Which Graph type: decides the flag tables and type-specific fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ios,
    MacOs,
    Legacy,
    /// tvOS, visionOS and anything else: no declared DEP flags.
    Other,
}

impl Kind {
    fn of(odata_type: &str) -> Self {
        let name = odata_type.trim_start_matches('#');
        let name = name.strip_prefix("microsoft.graph.").unwrap_or(name);
        match name {
            "depIOSEnrollmentProfile" => Self::Ios,
            "depMacOSEnrollmentProfile" => Self::MacOs,
            "depEnrollmentProfile" => Self::Legacy,
            _ => Self::Other,
        }
    }

    fn skip_tables(self) -> &'static [&'static [(&'static str, &'static str)]] {
        match self {
            Self::Ios => &[BASE_SKIPS, IOS_SKIPS],
            Self::MacOs => &[BASE_SKIPS, MACOS_SKIPS],
            Self::Legacy => &[BASE_SKIPS, LEGACY_SKIPS],
            Self::Other => &[],
        }
    }
}

fn flag(props: &Map<String, Value>, name: &str) -> Option<bool> {
    props.get(name).and_then(Value::as_bool)
}

fn text(props: &Map<String, Value>, name: &str) -> Option<String> {
    props
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Apple's profile for Graph profile `props` of type `odata_type` (with or without the
/// `#microsoft.graph.` prefix), enrolling at `configuration_url` — the MDM server's enrollment
/// URL (`mdm_enrollment_url` for this profile), also the web view's with `configurationWebUrl`.
/// Pure: no I/O, no validation beyond what the mapping needs (Apple validates lengths and flag
/// combinations).
pub fn dep_profile_from_graph(
    odata_type: &str,
    props: &Map<String, Value>,
    configuration_url: &str,
) -> DepProfile {
    let kind = Kind::of(odata_type);
    let name = text(props, "displayName").unwrap_or_else(|| "Enrollment profile".to_owned());
    let mut p = DepProfile::new(name, configuration_url);
    if flag(props, "configurationWebUrl") == Some(true) {
        p.configuration_web_url = Some(configuration_url.to_owned());
    }
    if kind != Kind::Other {
        p.is_supervised = flag(props, "supervisedModeEnabled");
        p.is_mandatory = flag(props, "isMandatory");
        p.is_mdm_removable = flag(props, "profileRemovalDisabled") != Some(true);
        p.await_device_configured = await_configured(props);
        p.support_phone_number = text(props, "supportPhoneNumber");
        p.department = text(props, "supportDepartment");
    }
    if matches!(kind, Kind::Ios | Kind::Legacy) {
        p.is_multi_user = flag(props, "enableSharedIPad");
        apply_pairing(&mut p, props);
    }
    if kind == Kind::MacOs {
        p.auto_advance_setup = flag(props, "autoAdvanceSetupEnabled");
    }
    p.skip_setup_items = skip_items(kind, props);
    p
}

/// `awaitDeviceConfiguredConfirmation` (iOS, legacy) or `waitForDeviceConfiguredConfirmation`
/// (base type, newer): either one set wins.
fn await_configured(props: &Map<String, Value>) -> Option<bool> {
    let a = flag(props, "awaitDeviceConfiguredConfirmation");
    let b = flag(props, "waitForDeviceConfiguredConfirmation");
    match (a, b) {
        (None, None) => None,
        _ => Some(a == Some(true) || b == Some(true)),
    }
}

/// `iTunesPairingMode`: `disallow` → no pairing; `allow` → pairing; `requiresCertificate` →
/// pairing only with hosts holding one of `managementCertificates` (Apple Configurator).
fn apply_pairing(p: &mut DepProfile, props: &Map<String, Value>) {
    let mode = text(props, "iTunesPairingMode").map(|m| m.to_ascii_lowercase());
    match mode.as_deref() {
        Some("disallow") => p.allow_pairing = Some(false),
        Some("allow") => p.allow_pairing = Some(true),
        Some("requirescertificate") => {
            p.allow_pairing = Some(true);
            p.supervising_host_certs = management_certificates(props);
        }
        _ => {}
    }
}

/// The `certificate` of each `managementCertificates` entry as base64 DER (PEM armour and
/// line breaks removed).
fn management_certificates(props: &Map<String, Value>) -> Vec<String> {
    let Some(list) = props
        .get("managementCertificates")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| c.get("certificate").and_then(Value::as_str))
        .map(|pem| {
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
                .collect::<String>()
        })
        .filter(|b64| !b64.is_empty())
        .collect()
}

/// Skip keys of the set flags, then `enabledSkipKeys` as given, without duplicates.
fn skip_items(kind: Kind, props: &Map<String, Value>) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut add = |key: &str| {
        if !items.iter().any(|k| k == key) {
            items.push(key.to_owned());
        }
    };
    for table in kind.skip_tables() {
        for (graph, apple) in *table {
            if flag(props, graph) == Some(true) {
                add(apple);
            }
        }
    }
    let enabled = props.get("enabledSkipKeys").and_then(Value::as_array);
    for key in enabled.into_iter().flatten().filter_map(Value::as_str) {
        if !key.trim().is_empty() {
            add(key.trim());
        }
    }
    items
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
