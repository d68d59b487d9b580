//! The route table: resolves normalised segments to a [`Route`] and dispatches by method.

use actix_web::http::Method;
use actix_web::web::Bytes;

use super::AppState;
use super::context::RequestCtx;
use super::error::ApiError;
use super::onboarding;
use super::path::Segment;
use super::response::GraphResponse;
use super::{devices, onboarding_actions, profiles as profile_handlers, vpp_tokens};
use crate::domain::profiles::{self, Platform};

/// A Graph request after version routing: what `$batch` will also produce.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Segments below `/beta`.
    pub segments: Vec<Segment>,
    /// Raw query string (still percent-encoded).
    pub query: String,
    /// Request body.
    pub body: Bytes,
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/deviceManagement`.
    DeviceManagement,
    /// `/deviceManagement/depOnboardingSettings`.
    OnboardingSettings,
    /// `/deviceManagement/depOnboardingSettings/$count`.
    OnboardingSettingsCount,
    /// `/deviceManagement/depOnboardingSettings/{id}`.
    OnboardingSetting(String),
    /// `…/{setting}/{operation}`.
    SettingOperation { setting: String, op: SettingOp },
    /// `…/{setting}/enrollmentProfiles[/microsoft.graph.{cast}]`.
    Profiles {
        setting: String,
        cast: Option<&'static str>,
    },
    /// `…/{setting}/enrollmentProfiles[/microsoft.graph.{cast}]/$count`.
    ProfilesCount {
        setting: String,
        cast: Option<&'static str>,
    },
    /// `…/{setting}/enrollmentProfiles/{id}[/microsoft.graph.{cast}]`.
    Profile {
        setting: String,
        id: String,
        cast: Option<&'static str>,
    },
    /// `…/{setting}/enrollmentProfiles/{id}/{operation}`.
    ProfileOperation {
        setting: String,
        id: String,
        op: ProfileOp,
    },
    /// `…/{setting}/default{Platform}EnrollmentProfile`.
    DefaultProfile { setting: String, platform: Platform },
    /// `…/{setting}/importedAppleDeviceIdentities`.
    Devices { setting: String },
    /// `…/{setting}/importedAppleDeviceIdentities/$count`.
    DevicesCount { setting: String },
    /// `…/{setting}/importedAppleDeviceIdentities/{id}`.
    Device { setting: String, id: String },
    /// `…/{setting}/importedAppleDeviceIdentities/importAppleDeviceIdentityList`.
    ImportDevices { setting: String },
    /// `/deviceManagement/depOnboardingSettings/getExpiringVppTokenCount(…)`, with the text in
    /// the parentheses (if any).
    ExpiringVppTokenCount(Option<String>),
    /// `/deviceAppManagement/vppTokens`.
    VppTokens,
    /// `/deviceAppManagement/vppTokens/$count`.
    VppTokensCount,
    /// `/deviceAppManagement/vppTokens/{id}`.
    VppToken(String),
    /// A path of the retired single-token API (served by `crate::legacy`).
    Legacy(crate::legacy::routes::LegacyRoute),
    /// A Graph resource or operation this gateway knows but does not serve yet.
    NotBuilt(&'static str),
}

/// Bound operations of an enrollment profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileOp {
    /// `exportMobileConfig()` (function).
    ExportMobileConfig,
    /// `setDefaultProfile` (action).
    SetDefaultProfile,
    /// `updateDeviceProfileAssignment` (action).
    UpdateDeviceProfileAssignment,
}

const PROFILE_OPS: &[(&str, ProfileOp)] = &[
    ("exportMobileConfig", ProfileOp::ExportMobileConfig),
    ("setDefaultProfile", ProfileOp::SetDefaultProfile),
    (
        "updateDeviceProfileAssignment",
        ProfileOp::UpdateDeviceProfileAssignment,
    ),
];

/// Bound operations of a depOnboardingSetting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingOp {
    /// `generateEncryptionPublicKey` (action).
    GenerateEncryptionPublicKey,
    /// `getEncryptionPublicKey()` (function).
    GetEncryptionPublicKey,
    /// `uploadDepToken` (action).
    UploadDepToken,
    /// `syncWithAppleDeviceEnrollmentProgram` (action).
    SyncWithAppleDeviceEnrollmentProgram,
    /// `shareForSchoolDataSyncService` (action).
    ShareForSchoolDataSyncService,
    /// `unshareForSchoolDataSyncService` (action).
    UnshareForSchoolDataSyncService,
    /// `releaseAppleDevices` (action).
    ReleaseAppleDevices,
}

const SETTING_OPS: &[(&str, SettingOp)] = &[
    (
        "generateEncryptionPublicKey",
        SettingOp::GenerateEncryptionPublicKey,
    ),
    ("getEncryptionPublicKey", SettingOp::GetEncryptionPublicKey),
    ("uploadDepToken", SettingOp::UploadDepToken),
    (
        "syncWithAppleDeviceEnrollmentProgram",
        SettingOp::SyncWithAppleDeviceEnrollmentProgram,
    ),
    (
        "shareForSchoolDataSyncService",
        SettingOp::ShareForSchoolDataSyncService,
    ),
    (
        "unshareForSchoolDataSyncService",
        SettingOp::UnshareForSchoolDataSyncService,
    ),
    ("releaseAppleDevices", SettingOp::ReleaseAppleDevices),
];

/// Operations of a vppToken that later work may serve.
const VPP_TOKEN_MEMBERS: &[&str] = &[
    "syncLicenses",
    "revokeLicenses",
    "getLicensesForApp",
    "syncLicenseCounts",
];

fn known<'a>(seg: &Segment, names: &'a [&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| seg.is_operation(n))
}

fn not_found(seg: &Segment) -> ApiError {
    ApiError::SegmentNotFound(seg.name.clone())
}

/// Resolves the segments below `/beta`.
pub fn resolve(segments: &[Segment]) -> Result<Route, ApiError> {
    let Some((first, rest)) = segments.split_first() else {
        return Err(ApiError::SegmentNotFound(String::new()));
    };
    if let Some(legacy) = crate::legacy::routes::resolve(segments) {
        return legacy.map(Route::Legacy);
    }
    if first.is("organization") {
        return Ok(Route::NotBuilt("organization"));
    }
    if first.is("deviceAppManagement") && first.args.is_none() {
        return resolve_vpp_tokens(rest);
    }
    if !first.is("deviceManagement") || first.args.is_some() {
        return Err(not_found(first));
    }
    let Some((second, rest)) = rest.split_first() else {
        return Ok(Route::DeviceManagement);
    };
    if !second.is("depOnboardingSettings") {
        return Err(not_found(second));
    }
    if let Some(key) = second.key() {
        return resolve_setting(key, rest);
    }
    match rest {
        [] => Ok(Route::OnboardingSettings),
        [count] if count.name == "$count" => Ok(Route::OnboardingSettingsCount),
        [op, tail @ ..] if op.is_operation("getExpiringVppTokenCount") => {
            only(tail, Route::ExpiringVppTokenCount(op.args.clone()))
        }
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            resolve_setting(key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_setting(setting: String, rest: &[Segment]) -> Result<Route, ApiError> {
    let Some((seg, tail)) = rest.split_first() else {
        return Ok(Route::OnboardingSetting(setting));
    };
    if seg.is("enrollmentProfiles") {
        return match seg.key() {
            Some(id) => resolve_profile(setting, id, tail),
            None => resolve_profiles(setting, tail),
        };
    }
    if seg.is("importedAppleDeviceIdentities") {
        return match seg.key() {
            Some(id) => resolve_device(setting, id, tail),
            None => resolve_devices(setting, tail),
        };
    }
    if let Some(platform) = Platform::ALL
        .into_iter()
        .find(|p| seg.is(p.default_navigation()))
    {
        return only(tail, Route::DefaultProfile { setting, platform });
    }
    match SETTING_OPS.iter().find(|(name, _)| seg.is_operation(name)) {
        Some(&(_, op)) => only(tail, Route::SettingOperation { setting, op }),
        None => Err(not_found(seg)),
    }
}

/// `route` when nothing follows, else the first extra segment is unknown.
fn only(tail: &[Segment], route: Route) -> Result<Route, ApiError> {
    match tail.first() {
        None => Ok(route),
        Some(extra) => Err(not_found(extra)),
    }
}

/// A `microsoft.graph.{type}` cast segment naming an enrollment profile type.
fn profile_cast(seg: &Segment) -> Option<&'static str> {
    let lower = seg.name.to_ascii_lowercase();
    let name = lower
        .strip_prefix("microsoft.graph.")
        .or_else(|| lower.strip_prefix("graph."))?;
    profiles::all_profile_types()
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
        .map(|t| t.name)
}

fn resolve_profiles(setting: String, rest: &[Segment]) -> Result<Route, ApiError> {
    let (cast, rest) = match rest.split_first() {
        Some((seg, tail)) if profile_cast(seg).is_some() => (profile_cast(seg), tail),
        _ => (None, rest),
    };
    match rest {
        [] => Ok(Route::Profiles { setting, cast }),
        [count, tail @ ..] if count.name == "$count" => {
            only(tail, Route::ProfilesCount { setting, cast })
        }
        [key, tail @ ..] if cast.is_none() && key.args.is_none() && !key.name.starts_with('$') => {
            resolve_profile(setting, key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_profile(setting: String, id: String, rest: &[Segment]) -> Result<Route, ApiError> {
    let Some((seg, tail)) = rest.split_first() else {
        return Ok(Route::Profile {
            setting,
            id,
            cast: None,
        });
    };
    if let Some(&(_, op)) = PROFILE_OPS.iter().find(|(name, _)| seg.is_operation(name)) {
        return only(tail, Route::ProfileOperation { setting, id, op });
    }
    match profile_cast(seg) {
        Some(cast) => only(
            tail,
            Route::Profile {
                setting,
                id,
                cast: Some(cast),
            },
        ),
        None => Err(not_found(seg)),
    }
}

fn resolve_devices(setting: String, rest: &[Segment]) -> Result<Route, ApiError> {
    match rest {
        [] => Ok(Route::Devices { setting }),
        [count, tail @ ..] if count.name == "$count" => only(tail, Route::DevicesCount { setting }),
        [op, tail @ ..] if op.is_operation("importAppleDeviceIdentityList") => {
            only(tail, Route::ImportDevices { setting })
        }
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            resolve_device(setting, key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_device(setting: String, id: String, rest: &[Segment]) -> Result<Route, ApiError> {
    only(rest, Route::Device { setting, id })
}

fn resolve_vpp_tokens(rest: &[Segment]) -> Result<Route, ApiError> {
    let Some((seg, rest)) = rest.split_first() else {
        return Ok(Route::NotBuilt("deviceAppManagement"));
    };
    if !seg.is("vppTokens") {
        return Err(not_found(seg));
    }
    if let Some(id) = seg.key() {
        return resolve_vpp_token(id, rest);
    }
    match rest {
        [] => Ok(Route::VppTokens),
        [count, tail @ ..] if count.name == "$count" => only(tail, Route::VppTokensCount),
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            resolve_vpp_token(key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_vpp_token(id: String, rest: &[Segment]) -> Result<Route, ApiError> {
    match rest.split_first() {
        None => Ok(Route::VppToken(id)),
        Some((seg, tail)) => match known(seg, VPP_TOKEN_MEMBERS) {
            Some(name) => only(tail, Route::NotBuilt(name)),
            None => Err(not_found(seg)),
        },
    }
}

/// Runs the handler for `route` and `req.method`.
pub async fn dispatch(
    st: &AppState,
    ctx: &RequestCtx,
    route: Route,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    use Method as M;
    match (route, &req.method) {
        (Route::DeviceManagement, &M::GET) => onboarding::get_device_management(st, ctx, req),
        (Route::OnboardingSettings, &M::GET) => {
            onboarding::list_dep_onboarding_settings(st, ctx, req).await
        }
        (Route::OnboardingSettings, &M::POST) => {
            onboarding::create_dep_onboarding_setting(st, ctx, req).await
        }
        (Route::OnboardingSettingsCount, &M::GET) => {
            onboarding::count_dep_onboarding_settings(st, ctx, req).await
        }
        (Route::OnboardingSetting(id), &M::GET) => {
            onboarding::get_dep_onboarding_setting(st, ctx, req, &id).await
        }
        (Route::OnboardingSetting(id), &M::PATCH) => {
            onboarding::update_dep_onboarding_setting(st, ctx, req, &id).await
        }
        (Route::OnboardingSetting(id), &M::DELETE) => {
            onboarding::delete_dep_onboarding_setting(st, ctx, &id).await
        }
        (Route::Profiles { setting, cast }, &M::GET) => {
            profile_handlers::list_enrollment_profiles(st, ctx, req, &setting, cast).await
        }
        (
            Route::Profiles {
                setting,
                cast: None,
            },
            &M::POST,
        ) => profile_handlers::create_enrollment_profile(st, ctx, req, &setting).await,
        (Route::ProfilesCount { setting, cast }, &M::GET) => {
            profile_handlers::count_enrollment_profiles(st, ctx, req, &setting, cast).await
        }
        (Route::Profile { setting, id, cast }, &M::GET) => {
            profile_handlers::get_enrollment_profile(st, ctx, req, &setting, &id, cast).await
        }
        (
            Route::Profile {
                setting,
                id,
                cast: None,
            },
            &M::PATCH,
        ) => profile_handlers::update_enrollment_profile(st, ctx, req, &setting, &id).await,
        (
            Route::Profile {
                setting,
                id,
                cast: None,
            },
            &M::DELETE,
        ) => profile_handlers::delete_enrollment_profile(st, ctx, &setting, &id).await,
        (Route::ProfileOperation { setting, id, op }, method) => {
            profile_handlers::profile_operation(st, ctx, req, (&setting, &id), op, method).await
        }
        (Route::DefaultProfile { setting, platform }, &M::GET) => {
            profile_handlers::get_default_profile(st, ctx, req, &setting, platform).await
        }
        (Route::Devices { setting }, &M::GET) => {
            devices::list_imported_devices(st, ctx, req, &setting).await
        }
        (Route::Devices { setting }, &M::POST) => {
            devices::create_imported_device(st, ctx, req, &setting).await
        }
        (Route::DevicesCount { setting }, &M::GET) => {
            devices::count_imported_devices(st, ctx, req, &setting).await
        }
        (Route::Device { setting, id }, &M::GET) => {
            devices::get_imported_device(st, ctx, req, &setting, &id).await
        }
        (Route::Device { setting, id }, &M::PATCH) => {
            devices::update_imported_device(st, ctx, req, &setting, &id).await
        }
        (Route::Device { setting, id }, &M::DELETE) => {
            devices::delete_imported_device(st, ctx, &setting, &id).await
        }
        (Route::ImportDevices { setting }, &M::POST) => {
            devices::import_apple_device_identity_list(st, ctx, req, &setting).await
        }
        (Route::ExpiringVppTokenCount(args), &M::GET) => {
            vpp_tokens::get_expiring_vpp_token_count(st, ctx, req, args.as_deref()).await
        }
        (Route::VppTokens, &M::GET) => vpp_tokens::list_vpp_tokens(st, ctx, req).await,
        (Route::VppTokens, &M::POST) => vpp_tokens::create_vpp_token(st, ctx, req).await,
        (Route::VppTokensCount, &M::GET) => vpp_tokens::count_vpp_tokens(st, ctx, req).await,
        (Route::VppToken(id), &M::GET) => vpp_tokens::get_vpp_token(st, ctx, req, &id).await,
        (Route::VppToken(id), &M::PATCH) => vpp_tokens::update_vpp_token(st, ctx, req, &id).await,
        (Route::VppToken(id), &M::DELETE) => vpp_tokens::delete_vpp_token(st, ctx, &id).await,
        (Route::SettingOperation { setting, op }, method) => {
            onboarding_actions::setting_operation(st, ctx, req, &setting, op, method).await
        }
        (Route::Legacy(route), _) => crate::legacy::dispatch(st, ctx, route, req).await,
        (Route::NotBuilt(name), _) => Err(ApiError::NotImplemented(name.to_owned())),
        _ => Err(ApiError::MethodNotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path::split;

    fn route(path: &str) -> Result<Route, String> {
        resolve(&split(path).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn resolves_key_forms_case_and_slashes() {
        let id = Route::OnboardingSetting("abc".into());
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc"),
            Ok(id.clone())
        );
        assert_eq!(
            route("/devicemanagement/DEPONBOARDINGSETTINGS('abc')/"),
            Ok(id.clone())
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/"),
            Ok(Route::OnboardingSettings)
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/$count"),
            Ok(Route::OnboardingSettingsCount)
        );
        assert_eq!(route("/deviceManagement"), Ok(Route::DeviceManagement));
    }

    #[test]
    fn unknown_segments_are_named() {
        assert_eq!(
            route("/deviceManagement/deviceUpdateStates"),
            Err("Resource not found for the segment 'deviceUpdateStates'.".into())
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc/nope"),
            Err("Resource not found for the segment 'nope'.".into())
        );
    }

    #[test]
    fn setting_operations_resolve_in_every_spelling() {
        let op = |op| {
            Ok(Route::SettingOperation {
                setting: "abc".into(),
                op,
            })
        };
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc/microsoft.graph.uploadDepToken"),
            op(SettingOp::UploadDepToken)
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings('abc')/getEncryptionPublicKey()"),
            op(SettingOp::GetEncryptionPublicKey)
        );
        assert_eq!(
            route(
                "/deviceManagement/depOnboardingSettings/abc/graph.SYNCWITHAPPLEDEVICEENROLLMENTPROGRAM"
            ),
            op(SettingOp::SyncWithAppleDeviceEnrollmentProgram)
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc/uploadDepToken/extra"),
            Err("Resource not found for the segment 'extra'.".into())
        );
    }

    #[test]
    fn resolves_vpp_tokens_and_the_expiring_count() {
        let vpp = "/deviceAppManagement/vppTokens";
        assert_eq!(route(vpp), Ok(Route::VppTokens));
        assert_eq!(route(&format!("{vpp}/$count")), Ok(Route::VppTokensCount));
        assert_eq!(
            route(&format!("{vpp}/a1")),
            Ok(Route::VppToken("a1".into()))
        );
        assert_eq!(
            route("/deviceappmanagement/VPPTOKENS('a1')/"),
            Ok(Route::VppToken("a1".into()))
        );
        assert_eq!(
            route(&format!("{vpp}/a1/syncLicenses")),
            Ok(Route::NotBuilt("syncLicenses"))
        );
        assert!(route(&format!("{vpp}/a1/nope")).is_err());
        assert!(route("/deviceAppManagement/mobileApps").is_err());
        assert_eq!(
            route(
                "/deviceManagement/depOnboardingSettings/getExpiringVppTokenCount(expiringBeforeDateTime='x')"
            ),
            Ok(Route::ExpiringVppTokenCount(Some(
                "expiringBeforeDateTime='x'".into()
            )))
        );
        assert_eq!(
            route(
                "/deviceManagement/depOnboardingSettings/microsoft.graph.getExpiringVppTokenCount"
            ),
            Ok(Route::ExpiringVppTokenCount(None))
        );
    }
}
