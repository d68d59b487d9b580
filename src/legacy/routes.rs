//! The old single-token paths: organization-scoped (2016–2017) and deviceManagement-scoped
//! (2017–2018), plus the gateway's own legacy-default-token resource.

use crate::http::error::ApiError;
use crate::http::path::Segment;
use crate::http::routes::ProfileOp;

/// The gateway-specific resource that designates the legacy default token. Namespaced so that
/// it cannot be mistaken for (or collide with) a Graph member of deviceManagement.
pub const DEFAULT_TOKEN_SEGMENT: &str = "depGateway.legacyDefaultToken";

/// The depOnboardingSettings collection-bound operations of the single-token API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionOp {
    /// `uploadDepToken` (action).
    UploadDepToken,
    /// `syncWithAppleDeviceEnrollmentProgram` (action).
    SyncWithAppleDeviceEnrollmentProgram,
    /// `getEncryptionPublicKey` (function).
    GetEncryptionPublicKey,
}

const COLLECTION_OPS: [(&str, CollectionOp); 3] = [
    ("uploadDepToken", CollectionOp::UploadDepToken),
    (
        "syncWithAppleDeviceEnrollmentProgram",
        CollectionOp::SyncWithAppleDeviceEnrollmentProgram,
    ),
    (
        "getEncryptionPublicKey",
        CollectionOp::GetEncryptionPublicKey,
    ),
];

const PROFILE_OPS: [(&str, ProfileOp); 3] = [
    ("exportMobileConfig", ProfileOp::ExportMobileConfig),
    ("setDefaultProfile", ProfileOp::SetDefaultProfile),
    (
        "updateDeviceProfileAssignment",
        ProfileOp::UpdateDeviceProfileAssignment,
    ),
];

/// What an old path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyRoute {
    /// `/organization/{org}/depOnboardingSettings`.
    OrgSettings {
        /// The organization id as given.
        org: String,
    },
    /// `/organization/{org}/depOnboardingSettings/{id}`.
    OrgSetting {
        /// The organization id as given.
        org: String,
        /// The setting id.
        id: String,
    },
    /// `/organization/{org}/{operation}`.
    OrgOperation {
        /// The organization id as given.
        org: String,
        /// The operation.
        op: CollectionOp,
    },
    /// `/deviceManagement/depOnboardingSettings/{operation}` (bound to the collection).
    CollectionOperation(CollectionOp),
    /// `/deviceManagement/enrollmentProfiles`.
    Profiles,
    /// `/deviceManagement/enrollmentProfiles/$count`.
    ProfilesCount,
    /// `/deviceManagement/enrollmentProfiles/{id}`.
    Profile(String),
    /// `/deviceManagement/enrollmentProfiles/{id}/{operation}`.
    ProfileOperation {
        /// The profile id.
        id: String,
        /// The operation.
        op: ProfileOp,
    },
    /// `/deviceManagement/importedAppleDeviceIdentities`.
    Devices,
    /// `/deviceManagement/importedAppleDeviceIdentities/$count`.
    DevicesCount,
    /// `/deviceManagement/importedAppleDeviceIdentities/{id}`.
    Device(String),
    /// `/deviceManagement/importedAppleDeviceIdentities/importAppleDeviceIdentityList`.
    ImportDevices,
    /// `/deviceManagement/depGateway.legacyDefaultToken`.
    DefaultToken,
}

impl LegacyRoute {
    /// The path segment that names the legacy resource (for "Resource not found for the
    /// segment" when the layer is switched off).
    pub fn segment(&self) -> &'static str {
        match self {
            Self::OrgSettings { .. } | Self::OrgSetting { .. } | Self::OrgOperation { .. } => {
                "organization"
            }
            Self::CollectionOperation(op) => op.name(),
            Self::Profiles
            | Self::ProfilesCount
            | Self::Profile(_)
            | Self::ProfileOperation { .. } => "enrollmentProfiles",
            Self::Devices | Self::DevicesCount | Self::Device(_) | Self::ImportDevices => {
                "importedAppleDeviceIdentities"
            }
            Self::DefaultToken => DEFAULT_TOKEN_SEGMENT,
        }
    }
}

impl CollectionOp {
    /// The operation's Graph name.
    pub fn name(self) -> &'static str {
        COLLECTION_OPS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("operation", |(name, _)| name)
    }
}

fn collection_op(seg: &Segment) -> Option<CollectionOp> {
    COLLECTION_OPS
        .iter()
        .find(|(name, _)| seg.is_operation(name))
        .map(|&(_, op)| op)
}

fn not_found(seg: &Segment) -> ApiError {
    ApiError::SegmentNotFound(seg.name.clone())
}

fn only(tail: &[Segment], route: LegacyRoute) -> Result<LegacyRoute, ApiError> {
    match tail.first() {
        None => Ok(route),
        Some(extra) => Err(not_found(extra)),
    }
}

/// Resolves an old path below `/beta`; `None` when the path is not one of the old forms (the
/// current route table decides then).
pub fn resolve(segments: &[Segment]) -> Option<Result<LegacyRoute, ApiError>> {
    let (first, rest) = segments.split_first()?;
    if first.is("organization") {
        return resolve_organization(first, rest);
    }
    if !first.is("deviceManagement") || first.args.is_some() {
        return None;
    }
    let (second, rest) = rest.split_first()?;
    if second.is("enrollmentProfiles") {
        return Some(match second.key() {
            Some(id) => resolve_profile(id, rest),
            None => resolve_profiles(rest),
        });
    }
    if second.is("importedAppleDeviceIdentities") {
        return Some(match second.key() {
            Some(id) => only(rest, LegacyRoute::Device(id)),
            None => resolve_devices(rest),
        });
    }
    if second.is(DEFAULT_TOKEN_SEGMENT) && second.args.is_none() {
        return Some(only(rest, LegacyRoute::DefaultToken));
    }
    if second.is("depOnboardingSettings") && second.args.is_none() {
        // Collection-bound only when nothing follows (`…/uploadDepToken` could otherwise be a
        // setting id) or it is written as a call (`getEncryptionPublicKey()`).
        if let [op, tail @ ..] = rest
            && let Some(found) = collection_op(op)
            && (op.args.is_some() || tail.is_empty())
        {
            return Some(only(tail, LegacyRoute::CollectionOperation(found)));
        }
    }
    None
}

fn resolve_organization(
    first: &Segment,
    rest: &[Segment],
) -> Option<Result<LegacyRoute, ApiError>> {
    let (org, rest) = if let Some(org) = first.key() {
        (org, rest)
    } else {
        let (key, tail) = rest.split_first()?;
        if key.args.is_some() {
            return None;
        }
        (key.name.clone(), tail)
    };
    let (seg, tail) = rest.split_first()?;
    if seg.is("depOnboardingSettings") {
        if let Some(id) = seg.key() {
            return Some(only(tail, LegacyRoute::OrgSetting { org, id }));
        }
        return Some(match tail {
            [] => Ok(LegacyRoute::OrgSettings { org }),
            [key, more @ ..] if key.args.is_none() && !key.name.starts_with('$') => only(
                more,
                LegacyRoute::OrgSetting {
                    org,
                    id: key.name.clone(),
                },
            ),
            [other, ..] => Err(not_found(other)),
        });
    }
    let op = collection_op(seg)?;
    Some(only(tail, LegacyRoute::OrgOperation { org, op }))
}

fn resolve_profiles(rest: &[Segment]) -> Result<LegacyRoute, ApiError> {
    match rest {
        [] => Ok(LegacyRoute::Profiles),
        [count, tail @ ..] if count.name == "$count" => only(tail, LegacyRoute::ProfilesCount),
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            resolve_profile(key.name.clone(), tail)
        }
        [other, ..] => Err(not_found(other)),
    }
}

fn resolve_profile(id: String, rest: &[Segment]) -> Result<LegacyRoute, ApiError> {
    let Some((seg, tail)) = rest.split_first() else {
        return Ok(LegacyRoute::Profile(id));
    };
    match PROFILE_OPS.iter().find(|(name, _)| seg.is_operation(name)) {
        Some(&(_, op)) => only(tail, LegacyRoute::ProfileOperation { id, op }),
        None => Err(not_found(seg)),
    }
}

fn resolve_devices(rest: &[Segment]) -> Result<LegacyRoute, ApiError> {
    match rest {
        [] => Ok(LegacyRoute::Devices),
        [count, tail @ ..] if count.name == "$count" => only(tail, LegacyRoute::DevicesCount),
        [op, tail @ ..] if op.is_operation("importAppleDeviceIdentityList") => {
            only(tail, LegacyRoute::ImportDevices)
        }
        [key, tail @ ..] if key.args.is_none() && !key.name.starts_with('$') => {
            only(tail, LegacyRoute::Device(key.name.clone()))
        }
        [other, ..] => Err(not_found(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path::split;

    fn route(path: &str) -> Option<Result<LegacyRoute, String>> {
        resolve(&split(path).unwrap()).map(|r| r.map_err(|e| e.to_string()))
    }

    #[test]
    fn resolves_the_old_device_management_paths() {
        assert_eq!(
            route("/deviceManagement/enrollmentProfiles/"),
            Some(Ok(LegacyRoute::Profiles))
        );
        assert_eq!(
            route("/deviceManagement/enrollmentProfiles('a_b')/updateDeviceProfileAssignment"),
            Some(Ok(LegacyRoute::ProfileOperation {
                id: "a_b".into(),
                op: ProfileOp::UpdateDeviceProfileAssignment
            }))
        );
        assert_eq!(
            route("/devicemanagement/ENROLLMENTPROFILES/a_b/exportMobileConfig()"),
            Some(Ok(LegacyRoute::ProfileOperation {
                id: "a_b".into(),
                op: ProfileOp::ExportMobileConfig
            }))
        );
        assert_eq!(
            route("/deviceManagement/importedAppleDeviceIdentities/importAppleDeviceIdentityList"),
            Some(Ok(LegacyRoute::ImportDevices))
        );
        assert_eq!(
            route("/deviceManagement/importedAppleDeviceIdentities/x1"),
            Some(Ok(LegacyRoute::Device("x1".into())))
        );
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/getEncryptionPublicKey"),
            Some(Ok(LegacyRoute::CollectionOperation(
                CollectionOp::GetEncryptionPublicKey
            )))
        );
        assert_eq!(
            route("/deviceManagement/enrollmentProfiles/a_b/nope"),
            Some(Err("Resource not found for the segment 'nope'.".into()))
        );
    }

    #[test]
    fn leaves_the_multi_token_paths_alone() {
        assert_eq!(route("/deviceManagement/depOnboardingSettings"), None);
        assert_eq!(
            route("/deviceManagement/depOnboardingSettings/abc/uploadDepToken"),
            None
        );
        assert_eq!(route("/deviceManagement"), None);
        assert_eq!(route("/organization"), None);
    }

    #[test]
    fn resolves_the_organization_paths() {
        let org = || "o1".to_owned();
        assert_eq!(
            route("/organization/o1/depOnboardingSettings/"),
            Some(Ok(LegacyRoute::OrgSettings { org: org() }))
        );
        assert_eq!(
            route("/organization('o1')/depOnboardingSettings('s1')"),
            Some(Ok(LegacyRoute::OrgSetting {
                org: org(),
                id: "s1".into()
            }))
        );
        assert_eq!(
            route("/organization/o1/microsoft.graph.uploadDepToken"),
            Some(Ok(LegacyRoute::OrgOperation {
                org: org(),
                op: CollectionOp::UploadDepToken
            }))
        );
        assert_eq!(route("/organization/o1/branding"), None);
    }
}
