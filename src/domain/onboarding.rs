//! The depOnboardingSetting entity (one Apple server token) and the rules for writing it.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ValidationError;
use super::time::{UNSET_TICKS, graph_datetime};
use super::values::{boolean, int32, optional_string, read_only, same_datetime, scope_tags};

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

    /// Applies a create or PATCH body. Writable properties change; read-only ones are accepted
    /// only when they repeat the current value; `id` and `@odata.*` annotations are ignored;
    /// navigation and unknown properties are rejected. On error `self` is unchanged.
    pub fn apply(&mut self, body: &Map<String, Value>) -> Result<(), ValidationError> {
        let mut next = self.clone();
        for (name, value) in body {
            next.apply_one(name, value)?;
        }
        *self = next;
        Ok(())
    }

    fn apply_one(&mut self, name: &str, value: &Value) -> Result<(), ValidationError> {
        match name {
            "tokenName" => self.token_name = optional_string(name, value, MAX_TOKEN_NAME_CHARS)?,
            "shareTokenWithSchoolDataSyncService" => {
                self.share_token_with_school_data_sync_service = boolean(name, value)?;
            }
            "dataSharingConsentGranted" => {
                self.data_sharing_consent_granted = boolean(name, value)?;
            }
            "roleScopeTagIds" => self.role_scope_tag_ids = scope_tags(value)?,
            "appleIdentifier" => {
                let v = optional_string(name, value, MAX_TOKEN_NAME_CHARS)?;
                read_only(name, TYPE_NAME, v == self.apple_identifier)?;
            }
            "tokenExpirationDateTime" => read_only(
                name,
                TYPE_NAME,
                same_datetime(name, value, self.token_expiration_date_time)?,
            )?,
            "lastModifiedDateTime" => {
                read_only(
                    name,
                    TYPE_NAME,
                    same_datetime(name, value, self.last_modified_date_time)?,
                )?;
            }
            "lastSuccessfulSyncDateTime" => {
                read_only(
                    name,
                    TYPE_NAME,
                    same_datetime(name, value, self.last_successful_sync_date_time)?,
                )?;
            }
            "lastSyncTriggeredDateTime" => {
                read_only(
                    name,
                    TYPE_NAME,
                    same_datetime(name, value, self.last_sync_triggered_date_time)?,
                )?;
            }
            "lastSyncErrorCode" => {
                read_only(
                    name,
                    TYPE_NAME,
                    int32(name, value)? == self.last_sync_error_code,
                )?;
            }
            "syncedDeviceCount" => {
                read_only(
                    name,
                    TYPE_NAME,
                    int32(name, value)? == self.synced_device_count,
                )?;
            }
            "tokenType" => read_only(name, TYPE_NAME, token_type(value)? == self.token_type)?,
            "defaultIosEnrollmentProfile"
            | "defaultMacOsEnrollmentProfile"
            | "defaultTvOSEnrollmentProfile"
            | "defaultVisionOSEnrollmentProfile"
            | "enrollmentProfiles"
            | "importedAppleDeviceIdentities" => {
                return Err(ValidationError::new(format!(
                    "Cannot apply PATCH to navigation property '{name}' on type '{TYPE_NAME}'."
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
        s.apply(&body(
            &json!({"tokenName": "Reseller A", "dataSharingConsentGranted": true,
            "roleScopeTagIds": ["0", "7"], "@odata.type": "#microsoft.graph.depOnboardingSetting",
            "id": "ignored"}),
        ))
        .unwrap();
        assert_eq!(s.token_name.as_deref(), Some("Reseller A"));
        assert!(s.data_sharing_consent_granted);
        assert_eq!(s.role_scope_tag_ids, ["0", "7"]);
        assert_eq!(s.id, "40342229-2229-4034-2922-344029223440");
    }

    #[test]
    fn read_only_properties_accept_their_current_value_only() {
        let mut s = setting();
        s.apply(&body(&json!({"syncedDeviceCount": 0, "tokenType": "none",
            "tokenExpirationDateTime": "0001-01-01T00:00:00Z"})))
            .unwrap();
        let err = s
            .apply(&body(&json!({"syncedDeviceCount": 5})))
            .unwrap_err();
        assert!(
            err.message.contains("'syncedDeviceCount' is read-only"),
            "{}",
            err.message
        );
    }

    #[test]
    fn failed_apply_changes_nothing() {
        let mut s = setting();
        let before = s.clone();
        let err = s.apply(&body(
            &json!({"tokenName": "x", "dataSharingConsentGranted": "yes"}),
        ));
        assert!(err.is_err());
        assert_eq!(s, before);
    }

    #[test]
    fn rejects_unknown_navigation_and_mistyped_properties() {
        let mut s = setting();
        let unknown = s.apply(&body(&json!({"tokenNmae": "x"}))).unwrap_err();
        assert!(
            unknown.message.contains("'tokenNmae' does not exist"),
            "{}",
            unknown.message
        );
        let nav = s
            .apply(&body(&json!({"enrollmentProfiles": []})))
            .unwrap_err();
        assert!(
            nav.message.contains("navigation property"),
            "{}",
            nav.message
        );
        let typed = s
            .apply(&body(&json!({"roleScopeTagIds": "0"})))
            .unwrap_err();
        assert!(
            typed.message.contains("Collection(Edm.String)"),
            "{}",
            typed.message
        );
        let long = s.apply(&body(
            &json!({"tokenName": "x".repeat(MAX_TOKEN_NAME_CHARS + 1)}),
        ));
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
