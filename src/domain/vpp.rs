//! The vppToken entity (an Apple Volume Purchase Program content token), the parser of Apple's
//! `.vpptoken` file, and the rules for writing the entity.

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::ValidationError;
use super::edm::EnumType;
use super::time::{UNSET_TICKS, format_ticks, graph_datetime, parse_ticks, to_ticks};
use super::values::{boolean, int32, read_only, same_datetime, scope_tags};

/// Graph type name of the entity.
pub const ODATA_TYPE: &str = "#microsoft.graph.vppToken";
const TYPE_NAME: &str = "microsoft.graph.vppToken";

/// Longest accepted `displayName`, `appleId`, `countryOrRegion` and role scope tag.
pub const MAX_TEXT_CHARS: usize = 256;
/// Longest accepted `.vpptoken` content (Apple's are well under 4 KiB).
pub const MAX_TOKEN_CHARS: usize = 16 * 1024;

/// `graph.vppTokenAccountType`.
pub static ACCOUNT_TYPE: EnumType = EnumType {
    name: "vppTokenAccountType",
    members: &["business", "education"],
};
/// `graph.vppTokenState`.
pub static STATE: EnumType = EnumType {
    name: "vppTokenState",
    members: &[
        "unknown",
        "valid",
        "expired",
        "invalid",
        "assignedToExternalMDM",
        "duplicateLocationId",
    ],
};
/// `graph.vppTokenSyncStatus`.
pub static SYNC_STATUS: EnumType = EnumType {
    name: "vppTokenSyncStatus",
    members: &["none", "inProgress", "completed", "failed"],
};
/// `graph.appleDeviceDeliveryProtocol`.
pub static DELIVERY_PROTOCOL: EnumType = EnumType {
    name: "appleDeviceDeliveryProtocol",
    members: &[
        "default",
        "mobileDeviceManagement",
        "declarativeDeviceManagement",
        "unknownFutureValue",
    ],
};

/// The `.vpptoken` content as uploaded. A secret: `Debug` redacts it and it serialises as null.
#[derive(Clone, PartialEq, Eq)]
pub struct VppSecret(String);

impl VppSecret {
    /// Wraps stored content.
    pub fn new(content: String) -> Self {
        Self(content)
    }

    /// The content, for storage only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VppSecret([redacted])")
    }
}

/// GRAPH-COMPAT: `token` is a declared (nullable) property, so SDK models keep their full
/// shape, but its value is never sent back: it is always `null`.
impl Serialize for VppSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// What a `.vpptoken` file says about its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VppTokenFile {
    /// `orgName`.
    pub organization_name: String,
    /// `expDate`, in ticks.
    pub expiration: i64,
    /// SHA-256 (hex) of the inner `token`: recognises a token uploaded twice.
    pub fingerprint: String,
}

/// Base64 as Apple writes it, padding optional.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a `.vpptoken` file: Base64 of `{"token": "…", "expDate": "2027-05-06T10:15:30-0700",
/// "orgName": "…"}` (Apple, "Managing Apps and Books Through Web Services"). Messages never
/// quote the secret.
pub fn parse_vpptoken(content: &str) -> Result<VppTokenFile, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::new(format!(
            "The property 'token' is not a valid .vpptoken file: {why}."
        ))
    };
    let compact: String = content
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(invalid("it is empty"));
    }
    let bytes = LENIENT
        .decode(compact)
        .map_err(|_| invalid("it is not Base64 text (upload the file's content unchanged)"))?;
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(invalid("its decoded content is not a JSON object"));
    };
    let text = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(&format!("'{key}' is missing or empty")))
    };
    let (token, organization_name, exp_date) = (text("token")?, text("orgName")?, text("expDate")?);
    let expiration = parse_exp_date(exp_date).ok_or_else(|| {
        invalid(&format!(
            "'expDate' '{}' is not an ISO 8601 date and time",
            exp_date.chars().take(64).collect::<String>()
        ))
    })?;
    Ok(VppTokenFile {
        organization_name: organization_name.to_owned(),
        expiration,
        fingerprint: format!("{:x}", Sha256::digest(token.as_bytes())),
    })
}

/// Apple writes `2014-08-15T18:13:52-0700` (no colon in the offset); RFC 3339 is accepted too.
fn parse_exp_date(s: &str) -> Option<i64> {
    parse_ticks(s).or_else(|| {
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .ok()
            .map(|t| to_ticks(t.with_timezone(&Utc)))
    })
}

/// `graph.vppTokenState` as observed at `now`: this gateway does not talk to Apple's VPP
/// service, so a token is `valid` until its expiry and `expired` after.
pub fn state_at(expiration: i64, now: i64) -> &'static str {
    if expiration <= now {
        "expired"
    } else {
        "valid"
    }
}

/// One Apple VPP content token of a tenant, in Graph's property order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VppToken {
    /// GUID of the token.
    pub id: String,
    /// `orgName` of the uploaded file.
    pub organization_name: String,
    /// Business or education (declared by the admin).
    pub vpp_token_account_type: &'static str,
    /// Apple ID of the token's account (declared by the admin).
    pub apple_id: Option<String>,
    /// `expDate` of the uploaded file.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub expiration_date_time: i64,
    /// Last license sync with Apple (never: unset).
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_sync_date_time: i64,
    /// The uploaded file's content; rendered as null.
    pub token: VppSecret,
    /// Last change.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub last_modified_date_time: i64,
    /// See [`state_at`].
    pub state: &'static str,
    /// Results of Apple actions (none are run: always empty).
    pub token_action_results: Vec<Value>,
    /// Status of the last license sync (always `none`).
    pub last_sync_status: &'static str,
    /// Update the token's apps automatically.
    pub automatically_update_apps: bool,
    /// App Store country or region of the token.
    pub country_or_region: Option<String>,
    /// Consent to share data with Apple.
    pub data_sharing_consent_granted: bool,
    /// Admin-chosen name.
    pub display_name: Option<String>,
    /// Apple's location of the token (only known from Apple: null).
    pub location_name: Option<String>,
    /// Consent to take the token over from another MDM.
    pub claim_token_management_from_external_mdm: bool,
    /// Role scope tags.
    pub role_scope_tag_ids: Vec<String>,
    /// Apps seen at the last sync (never synced: 0).
    pub last_app_count: i32,
    /// Protocol used to deliver the token's apps.
    pub apple_device_app_delivery_protocol_type: &'static str,
    /// See [`VppTokenFile::fingerprint`].
    #[serde(skip)]
    pub token_fingerprint: String,
}

impl VppToken {
    /// A token created at `now` from a POST body, which must carry `token` (the `.vpptoken`
    /// content, unexpired). Other rules are those of [`Self::apply`].
    pub fn create(
        id: String,
        body: &Map<String, Value>,
        now: i64,
    ) -> Result<Self, ValidationError> {
        let content = match body.get("token") {
            Some(Value::String(s)) => s,
            None | Some(Value::Null) => {
                return Err(ValidationError::new(
                    "The property 'token' is required: the content of the .vpptoken file \
                     downloaded from Apple Business Manager or Apple School Manager.",
                ));
            }
            Some(other) => return Err(ValidationError::wrong_type("token", "Edm.String", other)),
        };
        let file = checked_file(content, now)?;
        let mut token = Self {
            id,
            organization_name: file.organization_name.clone(),
            vpp_token_account_type: ACCOUNT_TYPE.members[0],
            apple_id: None,
            expiration_date_time: file.expiration,
            last_sync_date_time: UNSET_TICKS,
            token: VppSecret::new(content.clone()),
            last_modified_date_time: now,
            state: state_at(file.expiration, now),
            token_action_results: Vec::new(),
            last_sync_status: SYNC_STATUS.members[0],
            automatically_update_apps: false,
            country_or_region: None,
            data_sharing_consent_granted: false,
            display_name: None,
            location_name: None,
            claim_token_management_from_external_mdm: false,
            role_scope_tag_ids: Vec::new(),
            last_app_count: 0,
            apple_device_app_delivery_protocol_type: DELIVERY_PROTOCOL.members[0],
            token_fingerprint: file.fingerprint,
        };
        token.apply(body, now)?;
        Ok(token)
    }

    /// Applies a create or PATCH body at `now`. A `token` string renews the token (its file is
    /// parsed first, so the derived properties may be repeated in the same body); `null`
    /// leaves it. Writable properties change; server-managed ones are accepted only when they
    /// repeat the current value; `id` and `@` annotations are ignored; others are rejected.
    /// On error `self` is unchanged.
    pub fn apply(&mut self, body: &Map<String, Value>, now: i64) -> Result<(), ValidationError> {
        let mut next = self.clone();
        match body.get("token") {
            None | Some(Value::Null) => {}
            Some(Value::String(content)) if *content == self.token.0 => {}
            Some(Value::String(content)) => next.renew(content, now)?,
            Some(other) => return Err(ValidationError::wrong_type("token", "Edm.String", other)),
        }
        for (name, value) in body.iter().filter(|(name, _)| *name != "token") {
            next.apply_one(name, value)?;
        }
        *self = next;
        Ok(())
    }

    fn renew(&mut self, content: &str, now: i64) -> Result<(), ValidationError> {
        let file = checked_file(content, now)?;
        self.token = VppSecret::new(content.to_owned());
        self.organization_name = file.organization_name;
        self.expiration_date_time = file.expiration;
        self.state = state_at(file.expiration, now);
        self.token_fingerprint = file.fingerprint;
        Ok(())
    }

    fn apply_one(&mut self, name: &str, value: &Value) -> Result<(), ValidationError> {
        match name {
            "displayName" => self.display_name = optional_string(name, value)?,
            "appleId" => self.apple_id = optional_string(name, value)?,
            "countryOrRegion" => self.country_or_region = optional_string(name, value)?,
            "vppTokenAccountType" => {
                self.vpp_token_account_type = member(&ACCOUNT_TYPE, name, value)?;
            }
            "automaticallyUpdateApps" => self.automatically_update_apps = boolean(name, value)?,
            "dataSharingConsentGranted" => {
                self.data_sharing_consent_granted = boolean(name, value)?;
            }
            "claimTokenManagementFromExternalMdm" => {
                self.claim_token_management_from_external_mdm = boolean(name, value)?;
            }
            "roleScopeTagIds" => self.role_scope_tag_ids = scope_tags(value)?,
            "appleDeviceAppDeliveryProtocolType" => {
                self.apple_device_app_delivery_protocol_type =
                    member(&DELIVERY_PROTOCOL, name, value)?;
            }
            // GRAPH-COMPAT: SDK models send `id` and `@odata.*` annotations in write bodies.
            _ if name == "id" || name.contains('@') => {}
            _ => read_only(name, TYPE_NAME, self.repeats_stored(name, value)?)?,
        }
        Ok(())
    }

    /// For a server-managed property, whether `value` repeats the current value.
    fn repeats_stored(&self, name: &str, value: &Value) -> Result<bool, ValidationError> {
        Ok(match name {
            "organizationName" => {
                optional_string(name, value)?.as_ref() == Some(&self.organization_name)
            }
            "expirationDateTime" => same_datetime(name, value, self.expiration_date_time)?,
            "lastSyncDateTime" => same_datetime(name, value, self.last_sync_date_time)?,
            "lastModifiedDateTime" => same_datetime(name, value, self.last_modified_date_time)?,
            "state" => member(&STATE, name, value)? == self.state,
            "lastSyncStatus" => member(&SYNC_STATUS, name, value)? == self.last_sync_status,
            "locationName" => optional_string(name, value)? == self.location_name,
            "lastAppCount" => int32(name, value)? == self.last_app_count,
            "tokenActionResults" => match value {
                Value::Array(items) => *items == self.token_action_results,
                other => {
                    let expected = "Collection(microsoft.graph.vppTokenActionResult)";
                    return Err(ValidationError::wrong_type(name, expected, other));
                }
            },
            _ => return Err(ValidationError::unknown_property(name, TYPE_NAME)),
        })
    }
}

/// Parses `content` and refuses a token that has already expired at `now`.
fn checked_file(content: &str, now: i64) -> Result<VppTokenFile, ValidationError> {
    if content.chars().count() > MAX_TOKEN_CHARS {
        return Err(ValidationError::new(format!(
            "The property 'token' is longer than {MAX_TOKEN_CHARS} characters; it must hold \
             the content of a .vpptoken file."
        )));
    }
    let file = parse_vpptoken(content)?;
    if file.expiration <= now {
        return Err(ValidationError::new(format!(
            "The VPP token in 'token' expired on {}; download a new token from Apple Business \
             Manager or Apple School Manager.",
            format_ticks(file.expiration)
        )));
    }
    Ok(file)
}

fn member(ty: &EnumType, name: &str, value: &Value) -> Result<&'static str, ValidationError> {
    value.as_str().and_then(|s| ty.parse(s)).ok_or_else(|| {
        ValidationError::new(format!(
            "The value {value} of property '{name}' is not a member of '{}' ({}).",
            ty.qualified_name(),
            ty.members.join(", ")
        ))
    })
}

fn optional_string(name: &str, value: &Value) -> Result<Option<String>, ValidationError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= MAX_TEXT_CHARS => Ok(Some(s.clone())),
        Value::String(_) => Err(ValidationError::new(format!(
            "The property '{name}' is longer than {MAX_TEXT_CHARS} characters."
        ))),
        other => Err(ValidationError::wrong_type(name, "Edm.String", other)),
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;

    use super::*;

    const NOW: i64 = 17_583_006_515_063_355; // 2025-09-19T16:50:51.5063355Z

    fn file(doc: &Value) -> String {
        STANDARD.encode(doc.to_string())
    }

    fn apple(exp: &str) -> String {
        file(
            &json!({"token": "t1XoUzpLEtpdla+nsxCdwrct0Rjw==", "expDate": exp, "orgName": "Contoso"}),
        )
    }

    fn body(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_apple_files_and_offsets() {
        let parsed = parse_vpptoken(&apple("2027-05-06T10:15:30-0700")).unwrap();
        assert_eq!(parsed.organization_name, "Contoso");
        assert_eq!(
            format_ticks(parsed.expiration),
            "2027-05-06T17:15:30.0000000Z"
        );
        assert_eq!(parsed.fingerprint.len(), 64);
        for exp in [
            "2027-05-06T17:15:30Z",
            "2027-05-06T19:15:30+02:00",
            "2027-05-06T17:15:30.000+0000",
        ] {
            assert_eq!(
                parse_vpptoken(&apple(exp)).unwrap().expiration,
                parsed.expiration,
                "{exp}"
            );
        }
        // Line breaks, surrounding blanks and missing padding are tolerated.
        let wrapped = apple("2027-05-06T10:15:30-0700");
        let (a, b) = wrapped.split_at(20);
        let relaxed = format!("  {a}\n{b}\n")
            .trim_end_matches(['=', '\n'])
            .to_owned();
        assert_eq!(parse_vpptoken(&relaxed).unwrap(), parsed);
    }

    #[test]
    fn rejects_malformed_files_without_quoting_the_secret() {
        for (content, needle) in [
            (String::new(), "it is empty"),
            ("not base64!".to_owned(), "not Base64"),
            (STANDARD.encode("[1,2]"), "not a JSON object"),
            (STANDARD.encode("secret-garbage"), "not a JSON object"),
            (
                file(&json!({"expDate": "2027-05-06T10:15:30-0700", "orgName": "C"})),
                "'token'",
            ),
            (
                file(&json!({"token": "secret", "expDate": "2027-05-06T10:15:30-0700"})),
                "'orgName'",
            ),
            (
                file(&json!({"token": "secret", "orgName": "C"})),
                "'expDate'",
            ),
            (
                file(&json!({"token": "secret", "orgName": "C", "expDate": 5})),
                "'expDate'",
            ),
            (
                file(&json!({"token": "secret", "orgName": "C", "expDate": "soon"})),
                "'soon'",
            ),
        ] {
            let err = parse_vpptoken(&content).unwrap_err().message;
            assert!(err.contains(needle), "{content}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[test]
    fn create_derives_and_refuses_expired_tokens() {
        let content = apple("2027-05-06T10:15:30-0700");
        let t = VppToken::create(
            "id".into(),
            &body(&json!({"token": content, "displayName": "Main"})),
            NOW,
        )
        .unwrap();
        assert_eq!(
            (t.organization_name.as_str(), t.state),
            ("Contoso", "valid")
        );
        assert_eq!(t.display_name.as_deref(), Some("Main"));
        assert!(!format!("{t:?}").contains(&content));
        let v = serde_json::to_value(&t).unwrap();
        assert!(v["token"].is_null());
        assert!(v.get("tokenFingerprint").is_none());
        let expired = VppToken::create(
            "id".into(),
            &body(&json!({"token": apple("2020-01-01T00:00:00Z")})),
            NOW,
        );
        assert!(
            expired
                .unwrap_err()
                .message
                .contains("expired on 2020-01-01T00:00:00.0000000Z")
        );
        let missing = VppToken::create("id".into(), &body(&json!({"displayName": "x"})), NOW);
        assert!(missing.unwrap_err().message.contains("'token' is required"));
    }

    #[test]
    fn patch_rules_and_renewal() {
        let mut t = VppToken::create(
            "id".into(),
            &body(&json!({"token": apple("2027-05-06T10:15:30-0700")})),
            NOW,
        )
        .unwrap();
        let mut round_trip = serde_json::to_value(&t).unwrap();
        round_trip["displayName"] = json!("Renamed");
        t.apply(round_trip.as_object().unwrap(), NOW).unwrap();
        assert_eq!(t.display_name.as_deref(), Some("Renamed"));
        let before = t.clone();
        for (patch, needle) in [
            (
                json!({"organizationName": "Other"}),
                "'organizationName' is read-only",
            ),
            (json!({"state": "expired"}), "'state' is read-only"),
            (
                json!({"displayName": "x", "lastAppCount": 3}),
                "'lastAppCount' is read-only",
            ),
            (
                json!({"vppTokenAccountType": "school"}),
                "business, education",
            ),
            (json!({"automaticallyUpdateApps": "yes"}), "Edm.Boolean"),
            (json!({"token": 7}), "Edm.String"),
            (json!({"colour": "red"}), "'colour' does not exist"),
        ] {
            let err = t.apply(&body(&patch), NOW).unwrap_err().message;
            assert!(err.contains(needle), "{patch}: {err}");
            assert_eq!(t, before);
        }
        let renewed = file(
            &json!({"token": "new", "expDate": "2028-01-01T00:00:00Z", "orgName": "Fabrikam"}),
        );
        t.apply(
            &body(&json!({"token": renewed, "organizationName": "Fabrikam"})),
            NOW,
        )
        .unwrap();
        assert_eq!(t.organization_name, "Fabrikam");
        assert_ne!(t.token_fingerprint, before.token_fingerprint);
    }

    #[test]
    fn state_follows_expiry() {
        assert_eq!(state_at(NOW, NOW), "expired");
        assert_eq!(state_at(NOW + 1, NOW), "valid");
    }
}
