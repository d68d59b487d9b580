//! The vppToken entity (an Apple Volume Purchase Program content token), the parser of Apple's
//! `.vpptoken` file, and the rules for writing the entity.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ValidationError;
use super::edm::EnumType;
use super::time::{UNSET_TICKS, format_ticks, graph_datetime};
use super::values::{boolean, int32, read_only, same_datetime, scope_tags};

#[cfg(test)]
mod tests;
mod token_file;

pub use token_file::{VppSecret, VppTokenFile, parse_vpptoken};

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
            Some(Value::String(content)) if content == self.token.expose() => {}
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
