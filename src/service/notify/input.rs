//! Reading a subscription from a create or update body: Graph's properties, checked one by one
//! with messages naming the property and the rule.

use serde_json::{Map, Value};

use crate::config::NotificationSettings;
use crate::domain::ValidationError;
use crate::domain::time::{parse_ticks, secs_to_ticks};

/// The shortest lifetime: Graph raises anything shorter to 45 minutes from the request.
const MIN_LIFETIME_SECS: u64 = 45 * 60;
/// Longest `clientState` (Graph's documented limit).
const MAX_CLIENT_STATE: usize = 255;
/// Longest URL accepted.
const MAX_URL: usize = 2048;
/// Longest signing secret accepted (gateway extension).
const MAX_SECRET: usize = 256;
const SETTINGS: &str = "deviceManagement/depOnboardingSettings";
const NAVIGATIONS: [&str; 2] = ["importedAppleDeviceIdentities", "enrollmentProfiles"];
/// Properties Graph defines that the gateway reads nothing from (accepted as null or default).
const IGNORED: [&str; 7] = [
    "@odata.type",
    "id",
    "latestSupportedTlsVersion",
    "notificationContentType",
    "notificationQueryOptions",
    "notificationUrlAppId",
    "applicationId",
];
/// Rich-notification properties: refused when set (no resource data is sent).
const RICH: [&str; 3] = [
    "includeResourceData",
    "encryptionCertificate",
    "encryptionCertificateId",
];

/// A checked create request.
#[derive(Debug)]
pub struct NewSubscription {
    /// Normalised watched path.
    pub resource: String,
    /// Comma-separated change types, in Graph's order.
    pub change_types: String,
    /// Receiver of change notifications.
    pub notification_url: String,
    /// Receiver of lifecycle notifications.
    pub lifecycle_notification_url: Option<String>,
    /// Echoed in notifications.
    pub client_state: Option<String>,
    /// HMAC key of the signature header (gateway extension).
    pub signing_secret: Option<String>,
    /// Expiry (ticks), raised to the minimum lifetime.
    pub expiration_ticks: i64,
}

/// A checked update request.
#[derive(Debug)]
pub struct SubscriptionPatch {
    /// New expiry (ticks).
    pub expiration_ticks: Option<i64>,
    /// New receiver.
    pub notification_url: Option<String>,
}

fn invalid(message: impl Into<String>) -> ValidationError {
    ValidationError::new(message)
}

fn string<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ValidationError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(format!("The property '{name}' must be a string."))),
    }
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ValidationError> {
    string(body, name)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid(format!("The property '{name}' is required.")))
}

fn url(body: &Map<String, Value>, name: &str) -> Result<Option<String>, ValidationError> {
    let Some(text) = string(body, name)? else {
        return Ok(None);
    };
    if text.len() > MAX_URL || url::Url::parse(text).is_err() {
        return Err(invalid(format!(
            "The property '{name}' must be an absolute URL of at most {MAX_URL} characters."
        )));
    }
    Ok(Some(text.to_owned()))
}

/// The expiry asked for, raised to the minimum and refused beyond the maximum lifetime.
fn expiration(
    body: &Map<String, Value>,
    now: i64,
    cfg: &NotificationSettings,
) -> Result<Option<i64>, ValidationError> {
    let Some(text) = string(body, "expirationDateTime")? else {
        return Ok(None);
    };
    let ticks = parse_ticks(text).ok_or_else(|| {
        invalid("The property 'expirationDateTime' must be a DateTimeOffset such as '2026-12-31T00:00:00Z'.")
    })?;
    let max = now.saturating_add(secs_to_ticks(cfg.max_lifetime_mins.saturating_mul(60)));
    if ticks > max {
        // GRAPH-COMPAT: the message Outlook resources answer with (change-notifications.md §2).
        return Err(invalid(format!(
            "Subscription expiration can only be {} minutes in the future.",
            cfg.max_lifetime_mins
        )));
    }
    // GRAPH-COMPAT: values under 45 minutes from the request are raised, not refused.
    Ok(Some(
        ticks.max(now.saturating_add(secs_to_ticks(MIN_LIFETIME_SECS))),
    ))
}

/// `created,updated,deleted` in any order, each once.
fn change_types(text: &str) -> Result<String, ValidationError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut out = Vec::new();
    for known in ["created", "updated", "deleted"] {
        if parts.contains(&known) {
            out.push(known);
        }
    }
    if out.len() != parts.len() {
        return Err(invalid(
            "The property 'changeType' must list one or more of 'created', 'updated' and \
             'deleted', separated by commas, each once.",
        ));
    }
    Ok(out.join(","))
}

/// The watched path without a leading `/`; one of the served resources.
fn resource(text: &str) -> Result<String, ValidationError> {
    let path = text.trim().trim_start_matches('/').trim_end_matches('/');
    let ok = path == SETTINGS
        || path
            .strip_prefix(SETTINGS)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(id, nav)| {
                !id.is_empty()
                    && id.len() <= 128
                    && !id.contains(['(', ')', '\'', '?', '#'])
                    && NAVIGATIONS.contains(&nav)
            });
    if ok {
        Ok(path.to_owned())
    } else {
        Err(invalid(format!(
            "The resource '{}' does not support change notifications; use \
             '{SETTINGS}', '{SETTINGS}/{{id}}/importedAppleDeviceIdentities' or \
             '{SETTINGS}/{{id}}/enrollmentProfiles'.",
            text.chars().take(256).collect::<String>()
        )))
    }
}

/// The token id of a per-token resource path (already normalised).
pub fn setting_of(resource: &str) -> Option<&str> {
    resource
        .strip_prefix(SETTINGS)?
        .strip_prefix('/')?
        .split_once('/')
        .map(|(id, _)| id)
}

fn refuse_unknown(body: &Map<String, Value>, known: &[&str]) -> Result<(), ValidationError> {
    for (name, value) in body {
        if RICH.contains(&name.as_str()) && !matches!(value, Value::Null | Value::Bool(false)) {
            return Err(invalid(format!(
                "The property '{name}' is not supported: these resources send no resource data."
            )));
        }
        if !known.contains(&name.as_str())
            && !IGNORED.contains(&name.as_str())
            && !RICH.contains(&name.as_str())
        {
            return Err(invalid(format!(
                "The property '{}' does not exist on type 'microsoft.graph.subscription' or \
                 cannot be set.",
                name.chars().take(128).collect::<String>()
            )));
        }
    }
    Ok(())
}

impl NewSubscription {
    /// Checks a create body.
    pub fn parse(
        body: &Map<String, Value>,
        now: i64,
        cfg: &NotificationSettings,
    ) -> Result<Self, ValidationError> {
        refuse_unknown(
            body,
            &[
                "changeType",
                "notificationUrl",
                "lifecycleNotificationUrl",
                "resource",
                "expirationDateTime",
                "clientState",
                "signingSecret",
            ],
        )?;
        let change_types = change_types(required(body, "changeType")?)?;
        let resource = resource(required(body, "resource")?)?;
        required(body, "notificationUrl")?;
        let notification_url = url(body, "notificationUrl")?.unwrap_or_default();
        let lifecycle_notification_url = url(body, "lifecycleNotificationUrl")?;
        required(body, "expirationDateTime")?;
        let expiration_ticks = expiration(body, now, cfg)?.unwrap_or(now);
        let client_state = string(body, "clientState")?.map(str::to_owned);
        if client_state
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_CLIENT_STATE)
        {
            return Err(invalid(format!(
                "The property 'clientState' must be at most {MAX_CLIENT_STATE} characters."
            )));
        }
        let signing_secret = string(body, "signingSecret")?.map(str::to_owned);
        if signing_secret
            .as_ref()
            .is_some_and(|s| s.len() < 16 || s.len() > MAX_SECRET)
        {
            return Err(invalid(format!(
                "The property 'signingSecret' must be 16 to {MAX_SECRET} characters."
            )));
        }
        Ok(Self {
            resource,
            change_types,
            notification_url,
            lifecycle_notification_url,
            client_state,
            signing_secret,
            expiration_ticks,
        })
    }
}

impl SubscriptionPatch {
    /// Checks an update body: only `expirationDateTime` and `notificationUrl` may change.
    pub fn parse(
        body: &Map<String, Value>,
        now: i64,
        cfg: &NotificationSettings,
    ) -> Result<Self, ValidationError> {
        for name in body.keys() {
            if !["expirationDateTime", "notificationUrl", "@odata.type"].contains(&name.as_str()) {
                return Err(invalid(format!(
                    "The property '{}' cannot be changed; a subscription's \
                     'expirationDateTime' and 'notificationUrl' can.",
                    name.chars().take(128).collect::<String>()
                )));
            }
        }
        let patch = Self {
            expiration_ticks: expiration(body, now, cfg)?,
            notification_url: url(body, "notificationUrl")?,
        };
        if patch.expiration_ticks.is_none() && patch.notification_url.is_none() {
            return Err(invalid(
                "Nothing to change: send 'expirationDateTime' and/or 'notificationUrl'.",
            ));
        }
        Ok(patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_the_served_paths_only() {
        assert_eq!(
            resource("/deviceManagement/depOnboardingSettings").unwrap(),
            SETTINGS
        );
        let devices = "deviceManagement/depOnboardingSettings/abc/importedAppleDeviceIdentities";
        assert_eq!(resource(devices).unwrap(), devices);
        assert_eq!(setting_of(devices), Some("abc"));
        assert_eq!(setting_of(SETTINGS), None);
        for bad in [
            "users",
            "deviceManagement/depOnboardingSettings/abc",
            "deviceManagement/depOnboardingSettings//enrollmentProfiles",
            "deviceManagement/depOnboardingSettings/a/b/enrollmentProfiles",
        ] {
            assert!(resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn change_types_are_a_set_of_the_three() {
        assert_eq!(change_types("deleted, created").unwrap(), "created,deleted");
        assert!(change_types("created,created").is_err());
        assert!(change_types("created,moved").is_err());
        assert!(change_types("").is_err());
    }
}
