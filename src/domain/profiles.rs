//! Enrollment profiles: the polymorphic enrollmentProfile hierarchy as EDM tables, choosing a
//! profile's type from `@odata.type`, default platforms, the cross-property rules and the
//! Apple Configurator `.mobileconfig` export.
//!
//! Create: [`create_type`], then `edm::apply` on the properties seeded with the
//! server-managed values (`configurationEndpointUrl`, `isDefault: false`, which a body's
//! values never replace), then
//! [`apply_create_defaults`] and [`check_rules`]. PATCH: [`check_patch_type`], `edm::apply`,
//! [`check_rules`]. Responses: `edm::render_with_id` after the `@odata.type`.

mod mobileconfig;
mod rules;
mod types;

use serde_json::{Map, Value};

use super::ValidationError;
use super::edm::{EntityType, type_name_matches, unqualified_type_name};

pub use mobileconfig::export_mobileconfig;
pub use rules::{apply_create_defaults, check_rules};
pub use types::*;

/// An Apple platform that has a default profile per token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// iOS and iPadOS.
    Ios,
    /// macOS.
    MacOs,
    /// tvOS.
    TvOs,
    /// visionOS.
    VisionOs,
}

impl Platform {
    /// Every platform, in the order of the token's default-profile navigations.
    pub const ALL: [Self; 4] = [Self::Ios, Self::MacOs, Self::TvOs, Self::VisionOs];

    /// The `graph.platform` member name, e.g. `macOS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::MacOs => "macOS",
            Self::TvOs => "tvOS",
            Self::VisionOs => "visionOS",
        }
    }

    /// Parses a member name, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }

    /// The depOnboardingSetting navigation that returns this platform's default profile.
    pub fn default_navigation(self) -> &'static str {
        match self {
            Self::Ios => "defaultIosEnrollmentProfile",
            Self::MacOs => "defaultMacOsEnrollmentProfile",
            Self::TvOs => "defaultTvOSEnrollmentProfile",
            Self::VisionOs => "defaultVisionOSEnrollmentProfile",
        }
    }
}

/// The platforms a profile of type `ty` becomes the default for through setDefaultProfile:
/// one per platform-specific type, iOS and macOS for the legacy `depEnrollmentProfile` (the old
/// single type covered both), none for Apple Configurator profiles (`enrollmentProfile`).
pub fn default_platforms(ty: &EntityType) -> &'static [Platform] {
    match ty.name {
        "depIOSEnrollmentProfile" => &[Platform::Ios],
        "depMacOSEnrollmentProfile" => &[Platform::MacOs],
        "depTvOSEnrollmentProfile" => &[Platform::TvOs],
        "depVisionOSEnrollmentProfile" => &[Platform::VisionOs],
        "depEnrollmentProfile" => &[Platform::Ios, Platform::MacOs],
        _ => &[],
    }
}

/// Every type of the enrollmentProfile hierarchy, base first, the abstract
/// `depEnrollmentBaseProfile` included (filter on [`EntityType::is_abstract`]).
pub fn all_profile_types() -> &'static [&'static EntityType] {
    &ALL_PROFILE_TYPES
}

/// The hierarchy's type named by `name` (with or without `#` and `microsoft.graph.`,
/// case-insensitively), abstract or not: for type-cast segments.
pub fn find_profile_type(name: &str) -> Option<&'static EntityType> {
    let bare = unqualified_type_name(name);
    ALL_PROFILE_TYPES
        .iter()
        .copied()
        .find(|t| t.name.eq_ignore_ascii_case(bare))
}

/// The instantiable type an `@odata.type` value names; an abstract or unknown name is a
/// [`ValidationError`] that lists the valid values.
pub fn profile_type(odata_type: &str) -> Result<&'static EntityType, ValidationError> {
    match find_profile_type(odata_type) {
        Some(t) if !t.is_abstract => Ok(t),
        Some(t) => Err(ValidationError::new(format!(
            "The type '{}' is abstract and cannot be instantiated. Valid values of @odata.type: {}.",
            t.qualified_name(),
            valid_types()
        ))),
        None => Err(ValidationError::new(format!(
            "'{odata_type}' is not an enrollment profile type. Valid values of @odata.type: {}.",
            valid_types()
        ))),
    }
}

/// The type a create body asks for through its `@odata.type`; without one, the collection's
/// declared type `enrollmentProfile` (an Apple Configurator profile).
pub fn create_type(body: &Map<String, Value>) -> Result<&'static EntityType, ValidationError> {
    match body.get("@odata.type") {
        Some(Value::String(t)) => profile_type(t),
        Some(other) => Err(ValidationError::wrong_type(
            "@odata.type",
            "Edm.String",
            other,
        )),
        // GRAPH-COMPAT: OData JSON omits `@odata.type` when the value is of the expected
        // type, and the Graph SDKs do exactly that: msgraph-beta-sdk 1.66.0 serialises an
        // `EnrollmentProfile` (the base, non-abstract type) without it. A missing annotation
        // therefore means `enrollmentProfile`, the declared type of `enrollmentProfiles`.
        None => profile_type("enrollmentProfile"),
    }
}

/// A PATCH body may carry `@odata.type`, but only the stored type's.
pub fn check_patch_type(ty: &EntityType, body: &Map<String, Value>) -> Result<(), ValidationError> {
    match body.get("@odata.type") {
        None => Ok(()),
        Some(Value::String(t)) if type_name_matches(t, ty.name) => Ok(()),
        Some(other) => Err(ValidationError::new(format!(
            "The @odata.type {other} does not match the profile's type '{}'; a profile's type cannot change.",
            ty.odata_type()
        ))),
    }
}

fn valid_types() -> String {
    ALL_PROFILE_TYPES
        .iter()
        .filter(|t| !t.is_abstract)
        .map(|t| t.odata_type())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod restore_tests;
#[cfg(test)]
mod tests;
