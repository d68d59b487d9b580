//! The route table: resolves normalised segments to a [`Route`] and dispatches by method.

use actix_web::http::Method;
use actix_web::web::Bytes;

use super::AppState;
use super::context::RequestCtx;
use super::error::ApiError;
use super::onboarding;
use super::path::Segment;
use super::response::GraphResponse;

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
    /// A Graph resource or operation this gateway knows but does not serve yet.
    NotBuilt(&'static str),
}

/// Navigations and operations of a depOnboardingSetting that later work will serve.
const SETTING_MEMBERS: &[&str] = &[
    "enrollmentProfiles",
    "importedAppleDeviceIdentities",
    "defaultIosEnrollmentProfile",
    "defaultMacOsEnrollmentProfile",
    "defaultTvOSEnrollmentProfile",
    "defaultVisionOSEnrollmentProfile",
    "uploadDepToken",
    "generateEncryptionPublicKey",
    "getEncryptionPublicKey",
    "syncWithAppleDeviceEnrollmentProgram",
    "shareForSchoolDataSyncService",
    "unshareForSchoolDataSyncService",
    "releaseAppleDevices",
];

/// Collection-bound operations on depOnboardingSettings (current and legacy).
const COLLECTION_OPERATIONS: &[&str] = &[
    "getExpiringVppTokenCount",
    "uploadDepToken",
    "syncWithAppleDeviceEnrollmentProgram",
    "getEncryptionPublicKey",
];

/// Legacy single-token members of deviceManagement.
const LEGACY_MEMBERS: &[&str] = &["enrollmentProfiles", "importedAppleDeviceIdentities"];

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
    if first.is("organization") {
        return Ok(Route::NotBuilt("organization"));
    }
    if !first.is("deviceManagement") || first.args.is_some() {
        return Err(not_found(first));
    }
    let Some((second, rest)) = rest.split_first() else {
        return Ok(Route::DeviceManagement);
    };
    if !second.is("depOnboardingSettings") {
        return known(second, LEGACY_MEMBERS)
            .map(Route::NotBuilt)
            .ok_or_else(|| not_found(second));
    }
    if let Some(key) = second.key() {
        return resolve_setting(key, rest);
    }
    match rest {
        [] => Ok(Route::OnboardingSettings),
        [count] if count.name == "$count" => Ok(Route::OnboardingSettingsCount),
        [op, ..]
            if known(op, COLLECTION_OPERATIONS).is_some()
                && (op.args.is_some() || rest.len() == 1) =>
        {
            Ok(Route::NotBuilt(
                known(op, COLLECTION_OPERATIONS).unwrap_or("operation"),
            ))
        }
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            resolve_setting(key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_setting(id: String, rest: &[Segment]) -> Result<Route, ApiError> {
    match rest.first() {
        None => Ok(Route::OnboardingSetting(id)),
        Some(seg) => known(seg, SETTING_MEMBERS)
            .map(Route::NotBuilt)
            .ok_or_else(|| not_found(seg)),
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
    fn later_members_are_known_but_not_built() {
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc/microsoft.graph.uploadDepToken"),
            Ok(Route::NotBuilt("uploadDepToken"))
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings('abc')/getEncryptionPublicKey()"),
            Ok(Route::NotBuilt("getEncryptionPublicKey"))
        );
        assert_eq!(
            route(
                "/deviceManagement/depOnboardingSettings/getExpiringVppTokenCount(expiringBeforeDateTime='x')"
            ),
            Ok(Route::NotBuilt("getExpiringVppTokenCount"))
        );
    }
}
