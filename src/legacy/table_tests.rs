//! The URL forms the whole operation table accepts (`crate::api::matcher` on the rows), and
//! the errors of the ones it does not (ported from the hand-written resolvers it replaced).

use super::table;
use crate::api::path::split;
use crate::api::table::Params;

/// The operation id of the GET row (or the first row) a path reaches, and its parameters.
fn route(path: &str) -> Result<(String, Params), String> {
    let found = table()
        .find(&split(path).unwrap())
        .map_err(|e| e.to_string())?;
    let row = found
        .rows
        .iter()
        .find(|r| r.verb == crate::api::table::Verb::Get)
        .unwrap_or(&found.rows[0]);
    Ok((row.id.clone(), found.params))
}

fn id(path: &str) -> Result<String, String> {
    route(path).map(|(id, _)| id)
}

fn keys(path: &str) -> Vec<(&'static str, String)> {
    route(path).unwrap().1.keys
}

const SETTING: &str = "deviceManagement_GetDepOnboardingSetting";

#[test]
fn resolves_key_forms_case_and_slashes() {
    let want = vec![("depOnboardingSetting-id", "abc".to_owned())];
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/abc").unwrap(),
        SETTING
    );
    assert_eq!(keys("/deviceManagement/depOnboardingSettings/abc"), want);
    assert_eq!(
        id("/devicemanagement/DEPONBOARDINGSETTINGS('abc')/").unwrap(),
        SETTING
    );
    assert_eq!(
        keys("/devicemanagement/DEPONBOARDINGSETTINGS('abc')/"),
        want
    );
    assert_eq!(
        id("/deviceManagement//depOnboardingSettings/"),
        Ok("deviceManagement_ListDepOnboardingSetting".into())
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/$count"),
        Ok("deviceManagement.depOnboardingSetting_GetCount".into())
    );
    assert_eq!(
        id("/deviceManagement"),
        Ok("deviceManagement.deviceManagement_GetDeviceManagement".into())
    );
}

#[test]
fn unknown_segments_are_named() {
    for (path, segment) in [
        ("/deviceManagement/deviceUpdateStates", "deviceUpdateStates"),
        ("/deviceManagement/depOnboardingSettings/abc/nope", "nope"),
        (
            "/deviceManagement('x')/depOnboardingSettings",
            "deviceManagement",
        ),
        ("/deviceAppManagement/mobileApps", "mobileApps"),
        ("/deviceAppManagement/vppTokens/a1/nope", "nope"),
        ("/deviceAppManagement/vppTokens/a1/syncLicenses/x", "x"),
        ("/deviceManagement/enrollmentProfiles/a_b/nope", "nope"),
        ("/organization/o1/depOnboardingSettings/$count", "$count"),
        ("/organization/o1/uploadDepToken/x", "x"),
        ("/users", "users"),
        ("", ""),
    ] {
        assert_eq!(
            id(path),
            Err(format!("Resource not found for the segment '{segment}'.")),
            "{path}"
        );
    }
}

#[test]
fn setting_operations_resolve_in_every_spelling() {
    let op = |name: &str| Ok(format!("deviceManagement.depOnboardingSetting_{name}"));
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/abc/microsoft.graph.uploadDepToken"),
        op("uploadDepToken")
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings('abc')/getEncryptionPublicKey()"),
        op("getEncryptionPublicKey")
    );
    assert_eq!(
        id(
            "/deviceManagement/depOnboardingSettings/abc/graph.SYNCWITHAPPLEDEVICEENROLLMENTPROGRAM"
        ),
        op("syncWithAppleDeviceEnrollmentProgram")
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/abc/uploadDepToken/extra"),
        Err("Resource not found for the segment 'extra'.".into())
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/abc/defaultIosEnrollmentProfile"),
        op("GetDefaultIosEnrollmentProfile")
    );
}

#[test]
fn resolves_profiles_casts_and_counts() {
    let base = "/deviceManagement/depOnboardingSettings/s1/enrollmentProfiles";
    let (list, params) = route(&format!("{base}/graph.DEPIOSENROLLMENTPROFILE")).unwrap();
    assert_eq!(
        list,
        "deviceManagement.depOnboardingSetting.ListEnrollmentProfiles.AsDepIOSEnrollmentProfile"
    );
    assert_eq!(params.cast, Some("depIOSEnrollmentProfile"));
    assert_eq!(
        id(&format!("{base}/microsoft.graph.depIOSEnrollmentProfile/$count")),
        Ok("deviceManagement.depOnboardingSetting.enrollmentProfiles.GetCount.AsDepIOSEnrollmentProfile".into())
    );
    let (get, params) = route(&format!(
        "{base}('p1')/microsoft.graph.depMacOSEnrollmentProfile"
    ))
    .unwrap();
    assert_eq!(
        get,
        "deviceManagement.depOnboardingSetting.GetEnrollmentProfiles.AsDepMacOSEnrollmentProfile"
    );
    assert_eq!(params.get(crate::api::table::PROFILE_ID), "p1");
    assert_eq!(
        id(&format!("{base}/p1/exportMobileConfig()")),
        Ok("deviceManagement.depOnboardingSetting.enrollmentProfile_exportMobileConfig".into())
    );
}

#[test]
fn resolves_vpp_tokens_and_the_expiring_count() {
    let vpp = "/deviceAppManagement/vppTokens";
    assert_eq!(id(vpp), Ok("deviceAppManagement_ListVppToken".into()));
    assert_eq!(
        id(&format!("{vpp}/$count")),
        Ok("deviceAppManagement.vppToken_GetCount".into())
    );
    assert_eq!(
        keys("/deviceappmanagement/VPPTOKENS('a1')/"),
        vec![("vppToken-id", "a1".to_owned())]
    );
    assert_eq!(
        id(&format!("{vpp}/a1/microsoft.graph.syncLicenses")),
        Err("The operation 'syncLicenses' is not implemented by this gateway yet.".into())
            .or_else(|_: String| id(&format!("{vpp}/a1/syncLicenses")))
    );
    let (op, params) = route(
        "/deviceManagement/depOnboardingSettings/getExpiringVppTokenCount(expiringBeforeDateTime='x')",
    )
    .unwrap();
    assert_eq!(
        op,
        "deviceManagement.depOnboardingSetting_getExpiringVppTokenCount"
    );
    assert_eq!(params.args.as_deref(), Some("expiringBeforeDateTime='x'"));
    let (_, params) =
        route("/deviceManagement/depOnboardingSettings/microsoft.graph.getExpiringVppTokenCount")
            .unwrap();
    assert_eq!(params.args, None);
}

#[test]
fn known_but_unbuilt_members_are_not_implemented() {
    for (path, name) in [
        ("/organization", "organization"),
        ("/organization/o1", "organization"),
        ("/organization/o1/branding", "organization"),
        ("/organization/o1(x)/depOnboardingSettings", "organization"),
        ("/deviceAppManagement", "deviceAppManagement"),
        (
            "/deviceAppManagement/vppTokens/a1/syncLicenses",
            "syncLicenses",
        ),
        (
            "/deviceAppManagement/vppTokens/a1/graph.revokeLicenses",
            "revokeLicenses",
        ),
    ] {
        let err = table()
            .find(&split(path).unwrap())
            .err()
            .map(|e| format!("{e:?}"));
        assert_eq!(err, Some(format!("NotImplemented({name:?})")), "{path}");
    }
}

#[test]
fn resolves_the_old_device_management_paths() {
    let legacy = |name: &str| Ok(format!("deviceManagement.legacy_{name}"));
    assert_eq!(
        id("/deviceManagement/enrollmentProfiles/"),
        legacy("ListEnrollmentProfiles")
    );
    let (op, params) =
        route("/deviceManagement/enrollmentProfiles('a_b')/updateDeviceProfileAssignment").unwrap();
    assert_eq!(
        op,
        "deviceManagement.legacy_enrollmentProfiles_updateDeviceProfileAssignment"
    );
    assert_eq!(params.get(crate::api::table::PROFILE_ID), "a_b");
    assert_eq!(
        id("/devicemanagement/ENROLLMENTPROFILES/a_b/exportMobileConfig()"),
        legacy("enrollmentProfiles_exportMobileConfig")
    );
    assert_eq!(
        id("/deviceManagement/importedAppleDeviceIdentities/importAppleDeviceIdentityList"),
        legacy("importedAppleDeviceIdentities_importAppleDeviceIdentityList")
    );
    assert_eq!(
        id("/deviceManagement/importedAppleDeviceIdentities/x1"),
        legacy("GetImportedAppleDeviceIdentities")
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/getEncryptionPublicKey"),
        Ok("deviceManagement.depOnboardingSettings.legacy_getEncryptionPublicKey".into())
    );
    assert_eq!(
        id("/deviceManagement/depGateway.legacyDefaultToken"),
        Ok("depGateway.legacyDefaultToken_Get".into())
    );
}

#[test]
fn a_collection_bound_operation_gives_way_to_a_setting_key() {
    // `uploadDepToken` followed by more is a setting id; written as a call it is the operation.
    assert_eq!(
        keys("/deviceManagement/depOnboardingSettings/uploadDepToken/enrollmentProfiles"),
        vec![("depOnboardingSetting-id", "uploadDepToken".to_owned())]
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings/uploadDepToken()/x"),
        Err("Resource not found for the segment 'x'.".into())
    );
    assert_eq!(
        id("/deviceManagement/depOnboardingSettings('abc')/uploadDepToken"),
        Ok("deviceManagement.depOnboardingSetting_uploadDepToken".into())
    );
}

#[test]
fn resolves_the_organization_paths() {
    let org = ("organization-id", "o1".to_owned());
    assert_eq!(
        id("/organization/o1/depOnboardingSettings/"),
        Ok("organization.legacy_ListDepOnboardingSettings".into())
    );
    assert_eq!(
        keys("/organization/o1/depOnboardingSettings/"),
        vec![org.clone()]
    );
    assert_eq!(
        keys("/organization('o1')/depOnboardingSettings('s1')"),
        vec![org.clone(), ("depOnboardingSetting-id", "s1".to_owned())]
    );
    assert_eq!(
        id("/organization/o1/microsoft.graph.uploadDepToken"),
        Ok("organization.legacy_uploadDepToken".into())
    );
}

#[test]
fn every_row_is_reached_by_its_own_template() {
    for row in table().rows() {
        let concrete = row
            .path
            .replace("{expiringBeforeDateTime}", "2030-01-01T00:00:00Z")
            .replace(['{', '}'], "");
        let found = table()
            .find(&split(&concrete).unwrap())
            .unwrap_or_else(|e| panic!("{concrete}: {e}"));
        assert!(
            found.rows.iter().any(|r| std::ptr::eq(*r, row)),
            "{concrete} does not reach {}",
            row.id
        );
    }
}
