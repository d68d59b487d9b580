//! Graph's version segment: `/beta` (everything served) and `/v1.0` (the audit trail only).

use crate::api::error::ApiError;

/// A Graph API version the gateway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// `/beta`: everything served.
    Beta,
    /// `/v1.0`: a real Graph version, where the DEP API does not exist. Recognised (rather
    /// than "Invalid version") so that it answers as Graph does, and so that v1.0 operations
    /// (such as `auditEvents`) can be routed here later.
    V1,
}

/// The version and the path below it, or Graph's "Invalid version" for anything else.
pub(super) fn version_path(path: &str) -> Result<(Version, &str), ApiError> {
    let trimmed = path.trim_start_matches('/');
    let (version, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if version.eq_ignore_ascii_case("beta") {
        Ok((Version::Beta, rest))
    } else if version.eq_ignore_ascii_case("v1.0") {
        Ok((Version::V1, rest))
    } else {
        Err(ApiError::InvalidVersion(version.to_owned()))
    }
}

/// Whether a `/v1.0` path addresses `deviceManagement/auditEvents` (or below), the one v1.0
/// resource the gateway serves (`IntuneCD` reads the trail there; the handlers render v1.0's
/// shape).
pub(super) fn is_v1_audit(rest: &str) -> bool {
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    segments
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("deviceManagement"))
        && segments.next().is_some_and(|s| {
            let name = s.split_once('(').map_or(s, |(n, _)| n);
            name.eq_ignore_ascii_case("auditEvents")
                || name.to_ascii_lowercase().starts_with("auditevents?")
        })
}

/// Singletons Graph v1.0 has, below which the DEP segments do not exist there.
const V1_ROOTS: [&str; 2] = ["deviceManagement", "deviceAppManagement"];

/// What a `/v1.0` request gets: no operation is served on v1.0 yet.
// GRAPH-COMPAT: the DEP API is beta-only; Graph v1.0 answers
// `GET /v1.0/deviceManagement/depOnboardingSettings` with 400 BadRequest "Resource not found for
// the segment 'depOnboardingSettings'." — the first segment below a v1.0 root. A v1.0 resource
// the gateway does not serve (the root itself, `$metadata`, `$batch`) is a 501 that says to use
// /beta rather than a claim that Graph lacks it.
pub(super) fn v1_refusal(rest: &str) -> ApiError {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let below_root = match segments.as_slice() {
        // `organization` is a set: its key comes first.
        [root, _key, next, ..] if root.eq_ignore_ascii_case("organization") => Some(*next),
        [root, next, ..] if V1_ROOTS.iter().any(|r| r.eq_ignore_ascii_case(root)) => Some(*next),
        _ => None,
    };
    match below_root {
        Some(segment) => {
            let name = segment.split_once('(').map_or(segment, |(name, _)| name);
            ApiError::SegmentNotFound(name.to_owned())
        }
        None => ApiError::NotImplemented(
            "This gateway serves the Graph beta API only: use /beta instead of /v1.0.".to_owned(),
        ),
    }
}
