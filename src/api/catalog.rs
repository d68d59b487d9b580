//! Every `microsoft.graph` type the gateway serves, as EDM tables: the enrollment profile
//! hierarchy is the one `domain::profiles` validates against; the entities kept as Rust structs
//! (depOnboardingSetting, importedAppleDeviceIdentity, vppToken, the deviceManagement members)
//! are described here, and the unit tests below serialise those structs and require exactly
//! these property names, in this order, so the tables cannot drift from what is served.

use crate::domain::devices::{DevicePlatform, DiscoverySource, EnrollmentState};
use crate::domain::edm::{ComplexType, EdmType, EntityType, EnumType, Property};
use crate::domain::onboarding::DepTokenType;
use crate::domain::profiles;
use crate::domain::vpp;

const fn server(p: Property) -> Property {
    p.server_managed("")
}

const fn not_null(name: &'static str, ty: EdmType) -> Property {
    Property::new(name, ty).not_null()
}

/// `graph.depTokenType`.
pub static DEP_TOKEN_TYPE: EnumType = EnumType {
    name: "depTokenType",
    members: DepTokenType::MEMBERS,
};
/// `graph.discoverySource`.
pub static DISCOVERY_SOURCE: EnumType = EnumType {
    name: "discoverySource",
    members: DiscoverySource::MEMBERS,
};
/// `graph.enrollmentState`.
pub static ENROLLMENT_STATE: EnumType = EnumType {
    name: "enrollmentState",
    members: EnrollmentState::MEMBERS,
};
/// `graph.platform`.
pub static PLATFORM: EnumType = EnumType {
    name: "platform",
    members: DevicePlatform::MEMBERS,
};
/// `graph.actionState`, the state of a VPP token action (Graph's member order).
pub static ACTION_STATE: EnumType = EnumType {
    name: "actionState",
    members: &[
        "none",
        "pending",
        "canceled",
        "active",
        "done",
        "failed",
        "notSupported",
    ],
};

/// `graph.vppTokenActionResult`: the gateway runs no VPP token actions, so the collection is
/// always empty, but the type is declared as Graph declares it.
pub static VPP_TOKEN_ACTION_RESULT: ComplexType = ComplexType {
    name: "vppTokenActionResult",
    properties: &[
        Property::new("actionName", EdmType::String),
        not_null("actionState", EdmType::Enum(&ACTION_STATE)),
        not_null("startDateTime", EdmType::DateTimeOffset),
        not_null("lastUpdatedDateTime", EdmType::DateTimeOffset),
    ],
};

/// `graph.deviceManagement`, restricted to the members this gateway serves.
pub static DEVICE_MANAGEMENT: EntityType = EntityType {
    name: "deviceManagement",
    base: None,
    is_abstract: false,
    properties: &[
        server(not_null("intuneAccountId", EdmType::Guid)),
        server(not_null("maximumDepTokens", EdmType::Int32)),
    ],
    navigations: &["depOnboardingSettings"],
};

/// `graph.deviceAppManagement`, restricted to the members this gateway serves.
pub static DEVICE_APP_MANAGEMENT: EntityType = EntityType {
    name: "deviceAppManagement",
    base: None,
    is_abstract: false,
    properties: &[],
    navigations: &["vppTokens"],
};

/// `graph.depOnboardingSetting`, in the order the gateway renders it.
pub static DEP_ONBOARDING_SETTING: EntityType = EntityType {
    name: "depOnboardingSetting",
    base: None,
    is_abstract: false,
    properties: &[
        server(Property::new("appleIdentifier", EdmType::String)),
        server(not_null("tokenExpirationDateTime", EdmType::DateTimeOffset)),
        server(not_null("lastModifiedDateTime", EdmType::DateTimeOffset)),
        server(not_null(
            "lastSuccessfulSyncDateTime",
            EdmType::DateTimeOffset,
        )),
        server(not_null(
            "lastSyncTriggeredDateTime",
            EdmType::DateTimeOffset,
        )),
        not_null("shareTokenWithSchoolDataSyncService", EdmType::Boolean),
        server(not_null("lastSyncErrorCode", EdmType::Int32)),
        server(not_null("tokenType", EdmType::Enum(&DEP_TOKEN_TYPE))),
        Property::new("tokenName", EdmType::String),
        server(not_null("syncedDeviceCount", EdmType::Int32)),
        not_null("dataSharingConsentGranted", EdmType::Boolean),
        Property::new("roleScopeTagIds", EdmType::StringCollection),
    ],
    navigations: &[
        "defaultIosEnrollmentProfile",
        "defaultMacOsEnrollmentProfile",
        "defaultTvOSEnrollmentProfile",
        "defaultVisionOSEnrollmentProfile",
        "enrollmentProfiles",
        "importedAppleDeviceIdentities",
    ],
};

/// `graph.importedAppleDeviceIdentity`, in the order the gateway renders it.
pub static IMPORTED_APPLE_DEVICE_IDENTITY: EntityType = EntityType {
    name: "importedAppleDeviceIdentity",
    base: None,
    is_abstract: false,
    properties: &[
        server(not_null("createdDateTime", EdmType::DateTimeOffset)),
        Property::new("description", EdmType::String),
        server(not_null(
            "discoverySource",
            EdmType::Enum(&DISCOVERY_SOURCE),
        )),
        server(not_null(
            "enrollmentState",
            EdmType::Enum(&ENROLLMENT_STATE),
        )),
        server(Property::new("isDeleted", EdmType::Boolean)),
        not_null("isSupervised", EdmType::Boolean),
        server(not_null("lastContactedDateTime", EdmType::DateTimeOffset)),
        not_null("platform", EdmType::Enum(&PLATFORM)),
        server(Property::new(
            "requestedEnrollmentProfileAssignmentDateTime",
            EdmType::DateTimeOffset,
        )),
        Property::new("requestedEnrollmentProfileId", EdmType::String),
        Property::new("serialNumber", EdmType::String),
    ],
    navigations: &[],
};

/// `graph.importedAppleDeviceIdentityResult`: one item of importAppleDeviceIdentityList's result.
pub static IMPORTED_APPLE_DEVICE_IDENTITY_RESULT: EntityType = EntityType {
    name: "importedAppleDeviceIdentityResult",
    base: Some(&IMPORTED_APPLE_DEVICE_IDENTITY),
    is_abstract: false,
    properties: &[server(not_null("status", EdmType::Boolean))],
    navigations: &[],
};

/// `graph.subscription` (change notifications), in Graph's CSDL order; `clientState` is read
/// back only by create. The gateway's `signingSecret` (write-only) is outside the Graph type.
pub static SUBSCRIPTION: EntityType = EntityType {
    name: "subscription",
    base: None,
    is_abstract: false,
    properties: &[
        server(Property::new("applicationId", EdmType::String)),
        not_null("changeType", EdmType::String),
        Property::new("clientState", EdmType::String),
        server(Property::new("creatorId", EdmType::String)),
        Property::new("encryptionCertificate", EdmType::String),
        Property::new("encryptionCertificateId", EdmType::String),
        not_null("expirationDateTime", EdmType::DateTimeOffset),
        Property::new("includeResourceData", EdmType::Boolean),
        Property::new("latestSupportedTlsVersion", EdmType::String),
        Property::new("lifecycleNotificationUrl", EdmType::String),
        Property::new("notificationContentType", EdmType::String),
        Property::new("notificationQueryOptions", EdmType::String),
        not_null("notificationUrl", EdmType::String),
        Property::new("notificationUrlAppId", EdmType::String),
        not_null("resource", EdmType::String),
    ],
    navigations: &[],
};

/// `graph.vppToken`, in the order the gateway renders it.
pub static VPP_TOKEN: EntityType = EntityType {
    name: "vppToken",
    base: None,
    is_abstract: false,
    properties: &[
        server(Property::new("organizationName", EdmType::String)),
        not_null("vppTokenAccountType", EdmType::Enum(&vpp::ACCOUNT_TYPE)),
        Property::new("appleId", EdmType::String),
        server(not_null("expirationDateTime", EdmType::DateTimeOffset)),
        server(not_null("lastSyncDateTime", EdmType::DateTimeOffset)),
        // Write-only in effect: the `.vpptoken` content on create; always rendered as null.
        Property::new("token", EdmType::String),
        server(not_null("lastModifiedDateTime", EdmType::DateTimeOffset)),
        server(not_null("state", EdmType::Enum(&vpp::STATE))),
        server(Property::new(
            "tokenActionResults",
            EdmType::ComplexCollection(&VPP_TOKEN_ACTION_RESULT),
        )),
        server(not_null("lastSyncStatus", EdmType::Enum(&vpp::SYNC_STATUS))),
        not_null("automaticallyUpdateApps", EdmType::Boolean),
        Property::new("countryOrRegion", EdmType::String),
        not_null("dataSharingConsentGranted", EdmType::Boolean),
        Property::new("displayName", EdmType::String),
        server(Property::new("locationName", EdmType::String)),
        not_null("claimTokenManagementFromExternalMdm", EdmType::Boolean),
        Property::new("roleScopeTagIds", EdmType::StringCollection),
        server(not_null("lastAppCount", EdmType::Int32)),
        not_null(
            "appleDeviceAppDeliveryProtocolType",
            EdmType::Enum(&vpp::DELIVERY_PROTOCOL),
        ),
    ],
    navigations: &[],
};

/// Every served entity type: the enrollment profile hierarchy (base first) and the others.
pub fn entity_types() -> Vec<&'static EntityType> {
    let mut all = vec![
        &DEVICE_MANAGEMENT,
        &DEVICE_APP_MANAGEMENT,
        &DEP_ONBOARDING_SETTING,
        &IMPORTED_APPLE_DEVICE_IDENTITY,
        &IMPORTED_APPLE_DEVICE_IDENTITY_RESULT,
        &VPP_TOKEN,
        &SUBSCRIPTION,
    ];
    all.extend(profiles::all_profile_types().iter().copied());
    all
}

/// Every complex type reachable from a served entity type, each once, in discovery order.
pub fn complex_types() -> Vec<&'static ComplexType> {
    let mut out: Vec<&'static ComplexType> = Vec::new();
    let mut queue: Vec<&'static Property> = entity_types()
        .iter()
        .flat_map(|t| t.properties.iter())
        .collect();
    while let Some(p) = queue.pop() {
        if let EdmType::Complex(c) | EdmType::ComplexCollection(c) = p.ty
            && !out.iter().any(|known| known.name == c.name)
        {
            out.push(c);
            queue.extend(c.properties.iter());
        }
    }
    out.sort_by_key(|c| c.name);
    out
}

/// Every enum type used by a served property, each once, sorted by name.
pub fn enum_types() -> Vec<&'static EnumType> {
    let mut out: Vec<&'static EnumType> = Vec::new();
    let props = entity_types()
        .into_iter()
        .flat_map(|t| t.properties.iter())
        .chain(
            complex_types()
                .into_iter()
                .flat_map(|c| c.properties.iter()),
        );
    for p in props {
        if let EdmType::Enum(e) = p.ty
            && !out.iter().any(|known| known.name == e.name)
        {
            out.push(e);
        }
    }
    out.sort_by_key(|e| e.name);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::domain::devices::{ImportedAppleDeviceIdentity, ImportedAppleDeviceIdentityResult};
    use crate::domain::onboarding::OnboardingSetting;
    use crate::domain::vpp::VppToken;

    fn keys(value: &Value) -> Vec<String> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .filter(|k| *k != "id")
            .cloned()
            .collect()
    }

    fn names(t: &EntityType) -> Vec<String> {
        t.all_properties()
            .iter()
            .map(|p| p.name.to_owned())
            .collect()
    }

    #[test]
    fn onboarding_setting_table_matches_the_served_struct() {
        let served = serde_json::to_value(OnboardingSetting::new("a".into(), 0)).unwrap();
        assert_eq!(keys(&served), names(&DEP_ONBOARDING_SETTING));
    }

    fn device() -> ImportedAppleDeviceIdentity {
        ImportedAppleDeviceIdentity {
            id: "d".into(),
            created_date_time: 0,
            description: None,
            discovery_source: DiscoverySource::AdminImport,
            enrollment_state: EnrollmentState::Unknown,
            is_deleted: None,
            is_supervised: false,
            last_contacted_date_time: 0,
            platform: DevicePlatform::Ios,
            requested_enrollment_profile_assignment_date_time: None,
            requested_enrollment_profile_id: None,
            serial_number: "ABCDEFGH1".into(),
        }
    }

    #[test]
    fn device_tables_match_the_served_structs() {
        let served = serde_json::to_value(device()).unwrap();
        assert_eq!(keys(&served), names(&IMPORTED_APPLE_DEVICE_IDENTITY));
        let result = serde_json::to_value(ImportedAppleDeviceIdentityResult {
            identity: device(),
            status: true,
        })
        .unwrap();
        assert_eq!(keys(&result), names(&IMPORTED_APPLE_DEVICE_IDENTITY_RESULT));
    }

    #[test]
    fn vpp_token_table_matches_the_served_struct() {
        let file = json!({
            "expDate": "2099-01-01T00:00:00+0000",
            "token": "secret",
            "orgName": "Example School"
        });
        let content =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, file.to_string());
        let mut body = Map::new();
        body.insert("token".into(), Value::String(content));
        let token = VppToken::create("v".into(), &body, 0).expect("a valid token file");
        let served = serde_json::to_value(token).unwrap();
        assert_eq!(keys(&served), names(&VPP_TOKEN));
    }

    #[test]
    fn enum_tables_are_the_domain_members() {
        let served: Vec<&str> = enum_types().iter().map(|e| e.name).collect();
        for expected in [
            "actionState",
            "appleDeviceDeliveryProtocol",
            "depTokenType",
            "discoverySource",
            "enrollmentState",
            "iTunesPairingMode",
            "platform",
            "vppTokenAccountType",
            "vppTokenState",
            "vppTokenSyncStatus",
        ] {
            assert!(served.contains(&expected), "{expected} missing: {served:?}");
        }
    }
}
