//! The depOnboardingSetting entity (one Apple server token) and the rules for writing it.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ValidationError;
use super::time::{UNSET_TICKS, graph_datetime};
use super::values::{Write, boolean, datetime, int32, optional_string, scope_tags};

/// Graph type name of the entity.
pub const ODATA_TYPE: &str = "#microsoft.graph.depOnboardingSetting";
const TYPE_NAME: &str = "microsoft.graph.depOnboardingSetting";

/// Longest accepted `tokenName`.
pub const MAX_TOKEN_NAME_CHARS: usize = 256;

/// `graph.depTokenType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DepTokenType {
    /// No token uploaded yet.
    None,
    /// Apple Business Manager / DEP.
    Dep,
    /// Apple School Manager.
    AppleSchoolManager,
}

impl DepTokenType {
    /// Member names in CSDL order and casing.
    pub const MEMBERS: &'static [&'static str] = &["none", "dep", "appleSchoolManager"];

    /// The member name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Dep => "dep",
            Self::AppleSchoolManager => "appleSchoolManager",
        }
    }

    /// Parses a member name, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::None, Self::Dep, Self::AppleSchoolManager]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// One onboarded Apple DEP / ABM / ASM server token, in Graph's property order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnboardingSetting {
    /// GUID of the setting.
    pub id: String,
    /// Apple ID used to obtain the current token.
    pub apple_identifier: Option<String>,
    /// When the current token expires.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub token_expiration_date_time: i64,
    /// Last change of the setting.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_modified_date_time: i64,
    /// Last successful sync with Apple.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_successful_sync_date_time: i64,
    /// Last time a sync was requested.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_sync_triggered_date_time: i64,
    /// Token shared with School Data Sync.
    pub share_token_with_school_data_sync_service: bool,
    /// Apple's error code of the last sync (0 = none).
    pub last_sync_error_code: i32,
    /// Kind of token.
    pub token_type: DepTokenType,
    /// Friendly name.
    pub token_name: Option<String>,
    /// Devices synced from Apple.
    pub synced_device_count: i32,
    /// Consent to share data with Apple.
    pub data_sharing_consent_granted: bool,
    /// Role scope tags.
    pub role_scope_tag_ids: Vec<String>,
}

impl OnboardingSetting {
    /// A new, empty setting (no token uploaded yet) as `create` starts from.
    pub fn new(id: String, now: i64) -> Self {
        Self {
            id,
            apple_identifier: None,
            token_expiration_date_time: UNSET_TICKS,
            last_modified_date_time: now,
            last_successful_sync_date_time: UNSET_TICKS,
            last_sync_triggered_date_time: UNSET_TICKS,
            share_token_with_school_data_sync_service: false,
            last_sync_error_code: 0,
            token_type: DepTokenType::None,
            token_name: None,
            synced_device_count: 0,
            data_sharing_consent_granted: false,
            role_scope_tag_ids: Vec::new(),
        }
    }

    /// Applies a create or PATCH body. Every property Microsoft's CSDL declares is accepted
    /// (its value must type-check): the writable ones change; `appleIdentifier` is stored from a
    /// create (until `uploadDepToken` replaces it) and ignored on PATCH; the values the gateway
    /// derives from the uploaded token, from Apple's syncs or from its own clock are ignored.
    /// `id` and `@odata.*` annotations are ignored; navigation and unknown properties are
    /// rejected. On error `self` is unchanged.
    pub fn apply(
        &mut self,
        body: &Map<String, Value>,
        write: Write,
    ) -> Result<(), ValidationError> {
        let mut next = self.clone();
        for (name, value) in body {
            next.apply_one(name, value, write)?;
        }
        *self = next;
        Ok(())
    }

    fn apply_one(
        &mut self,
        name: &str,
        value: &Value,
        write: Write,
    ) -> Result<(), ValidationError> {
        match name {
            "tokenName" => self.token_name = optional_string(name, value, MAX_TOKEN_NAME_CHARS)?,
            "shareTokenWithSchoolDataSyncService" => {
                self.share_token_with_school_data_sync_service = boolean(name, value)?;
            }
            "dataSharingConsentGranted" => {
                self.data_sharing_consent_granted = boolean(name, value)?;
            }
            "roleScopeTagIds" => self.role_scope_tag_ids = scope_tags(value)?,
            // GRAPH-COMPAT: Graph's "Create depOnboardingSetting" example (graph-dep-api.md §5.2)
            // sends `appleIdentifier`; a restored setting keeps it until a token upload names
            // the Apple ID that really holds the token. On PATCH it is the upload's to change.
            "appleIdentifier" => {
                let v = optional_string(name, value, MAX_TOKEN_NAME_CHARS)?;
                if write == Write::Create {
                    self.apple_identifier = v;
                }
            }
            // GRAPH-COMPAT: the same example (and every restored GET body) carries the values
            // the token and Apple's syncs determine; the CSDL marks none read-only, so they
            // are type-checked and ignored: storing them would claim a token, an expiry or a
            // sync the gateway never had (Terraform picks tokens by `tokenType`, the PowerShell
            // sample throttles on `lastSyncTriggeredDateTime`).
            "tokenExpirationDateTime"
            | "lastModifiedDateTime"
            | "lastSuccessfulSyncDateTime"
            | "lastSyncTriggeredDateTime" => {
                datetime(name, value)?;
            }
            "lastSyncErrorCode" | "syncedDeviceCount" => {
                int32(name, value)?;
            }
            "tokenType" => {
                token_type(value)?;
            }
            "defaultIosEnrollmentProfile"
            | "defaultMacOsEnrollmentProfile"
            | "defaultTvOSEnrollmentProfile"
            | "defaultVisionOSEnrollmentProfile"
            | "enrollmentProfiles"
            | "importedAppleDeviceIdentities" => {
                return Err(ValidationError::new(format!(
                    "Cannot write navigation property '{name}' through type '{TYPE_NAME}'."
                )));
            }
            // GRAPH-COMPAT: SDK models and portal traffic send `id` and `@odata.*` annotations
            // in write bodies (graph-http-conventions.md §4.2); they are ignored.
            _ if name == "id" || name.contains('@') => {}
            _ => return Err(ValidationError::unknown_property(name, TYPE_NAME)),
        }
        Ok(())
    }
}

fn token_type(value: &Value) -> Result<DepTokenType, ValidationError> {
    value.as_str().and_then(DepTokenType::parse).ok_or_else(|| {
        ValidationError::new(format!(
            "The value {value} is not a member of 'microsoft.graph.depTokenType' ({}).",
            DepTokenType::MEMBERS.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setting() -> OnboardingSetting {
        OnboardingSetting::new("40342229-2229-4034-2922-344029223440".into(), 0)
    }

    fn body(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn writable_properties_change() {
        let mut s = setting();
        s.apply(
            &body(
                &json!({"tokenName": "Reseller A", "dataSharingConsentGranted": true,
            "roleScopeTagIds": ["0", "7"], "@odata.type": "#microsoft.graph.depOnboardingSetting",
            "id": "ignored"}),
            ),
            Write::Update,
        )
        .unwrap();
        assert_eq!(s.token_name.as_deref(), Some("Reseller A"));
        assert!(s.data_sharing_consent_granted);
        assert_eq!(s.role_scope_tag_ids, ["0", "7"]);
        assert_eq!(s.id, "40342229-2229-4034-2922-344029223440");
    }

    /// Graph's documented create body (graph-dep-api.md §5.2, D21 placeholders).
    fn documented_create_body() -> Map<String, Value> {
        body(
            &json!({"@odata.type": "#microsoft.graph.depOnboardingSetting",
            "appleIdentifier": "Apple Identifier value",
            "tokenExpirationDateTime": "2016-12-31T23:59:54.0503068-08:00",
            "lastSuccessfulSyncDateTime": "2017-01-01T00:02:49.3205976-08:00",
            "lastSyncTriggeredDateTime": "2017-01-01T00:02:43.5775915-08:00",
            "shareTokenWithSchoolDataSyncService": true, "lastSyncErrorCode": 1,
            "tokenType": "dep", "tokenName": "Token Name value", "syncedDeviceCount": 1,
            "dataSharingConsentGranted": true, "roleScopeTagIds": ["Role Scope Tag Ids value"]}),
        )
    }

    #[test]
    fn documented_create_body_stores_its_own_values_and_ignores_derived_ones() {
        let mut s = setting();
        s.apply(&documented_create_body(), Write::Create).unwrap();
        assert_eq!(
            s.apple_identifier.as_deref(),
            Some("Apple Identifier value")
        );
        assert_eq!(s.token_name.as_deref(), Some("Token Name value"));
        assert!(s.share_token_with_school_data_sync_service);
        assert!(s.data_sharing_consent_granted);
        assert_eq!(s.role_scope_tag_ids, ["Role Scope Tag Ids value"]);
        // Derived from the token and Apple's syncs: still the new setting's.
        let fresh = setting();
        assert_eq!(s.token_type, DepTokenType::None);
        assert_eq!(
            s.token_expiration_date_time,
            fresh.token_expiration_date_time
        );
        assert_eq!(s.last_successful_sync_date_time, UNSET_TICKS);
        assert_eq!(s.last_sync_triggered_date_time, UNSET_TICKS);
        assert_eq!((s.last_sync_error_code, s.synced_device_count), (0, 0));
    }

    #[test]
    fn patch_accepts_derived_values_without_storing_them() {
        let mut s = setting();
        s.apple_identifier = Some("admin@example.com".into());
        let mut patch = documented_create_body();
        patch.insert("lastModifiedDateTime".into(), json!("2020-01-01T00:00:00Z"));
        s.apply(&patch, Write::Update).unwrap();
        assert_eq!(s.apple_identifier.as_deref(), Some("admin@example.com"));
        assert_eq!(s.token_name.as_deref(), Some("Token Name value"));
        assert_eq!(s.token_type, DepTokenType::None);
        assert_eq!((s.last_sync_error_code, s.synced_device_count), (0, 0));
        assert_eq!(s.last_modified_date_time, 0);
    }

    #[test]
    fn derived_values_must_still_type_check() {
        for (name, bad) in [
            ("syncedDeviceCount", json!("5")),
            ("lastSyncErrorCode", json!(1.5)),
            ("tokenExpirationDateTime", json!("tomorrow")),
            ("lastSyncTriggeredDateTime", json!(null)),
            ("tokenType", json!("vpp")),
            ("appleIdentifier", json!(7)),
        ] {
            for write in [Write::Create, Write::Update] {
                let mut s = setting();
                let err = s.apply(&body(&json!({ name: bad })), write).unwrap_err();
                assert!(
                    err.message.contains(name) || err.message.contains("depTokenType"),
                    "{name}: {}",
                    err.message
                );
                assert_eq!(s, setting());
            }
        }
    }

    #[test]
    fn failed_apply_changes_nothing() {
        let mut s = setting();
        let before = s.clone();
        let err = s.apply(
            &body(&json!({"tokenName": "x", "dataSharingConsentGranted": "yes"})),
            Write::Create,
        );
        assert!(err.is_err());
        assert_eq!(s, before);
    }

    #[test]
    fn rejects_unknown_navigation_and_mistyped_properties() {
        let mut s = setting();
        let unknown = s
            .apply(&body(&json!({"tokenNmae": "x"})), Write::Create)
            .unwrap_err();
        assert!(
            unknown.message.contains("'tokenNmae' does not exist"),
            "{}",
            unknown.message
        );
        let nav = s
            .apply(&body(&json!({"enrollmentProfiles": []})), Write::Update)
            .unwrap_err();
        assert!(
            nav.message.contains("navigation property"),
            "{}",
            nav.message
        );
        let typed = s
            .apply(&body(&json!({"roleScopeTagIds": "0"})), Write::Update)
            .unwrap_err();
        assert!(
            typed.message.contains("Collection(Edm.String)"),
            "{}",
            typed.message
        );
        let long = s.apply(
            &body(&json!({"tokenName": "x".repeat(MAX_TOKEN_NAME_CHARS + 1)})),
            Write::Create,
        );
        assert!(long.is_err());
    }

    #[test]
    fn serialises_in_graph_shape() {
        let v = serde_json::to_value(setting()).unwrap();
        assert_eq!(v["tokenType"], "none");
        assert_eq!(v["tokenExpirationDateTime"], "0001-01-01T00:00:00Z");
        assert_eq!(v["lastModifiedDateTime"], "1970-01-01T00:00:00.0000000Z");
        assert_eq!(v["roleScopeTagIds"], json!([]));
        assert!(v["tokenName"].is_null());
    }
}
