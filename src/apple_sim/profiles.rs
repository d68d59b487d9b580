//! Profile rules: `POST /profile` validation (reference §2.6) and the per-serial effect of
//! assigning and removing profiles and disowning devices (§2.8-§2.10). Each success changes
//! the device through the server, so it shows up as `modified` / `deleted` in sync.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::failures::FailureAction;
use super::reply::SimError;
use super::server::MdmServer;
use super::state::SimState;

/// Per-serial results, sorted by serial.
pub(crate) type Results = BTreeMap<String, String>;

const BOOL_FIELDS: &[&str] = &[
    "allow_pairing",
    "is_supervised",
    "is_multi_user",
    "is_mandatory",
    "await_device_configured",
    "is_mdm_removable",
    "auto_advance_setup",
    "do_not_use_profile_from_backup",
    "is_return_to_service",
];
const STRING_LIMITS: &[(&str, usize, &str)] = &[
    ("department", 125, "DEPARTMENT_INVALID"),
    ("org_magic", 256, "MAGIC_INVALID"),
    ("support_email_address", 250, "SUPPORT_EMAIL_INVALID"),
    ("support_phone_number", 50, "SUPPORT_PHONE_INVALID"),
];
const LIST_FIELDS: &[&str] = &[
    "skip_setup_items",
    "anchor_certs",
    "supervising_host_certs",
    "devices",
];

/// Validates a profile definition; the first problem wins.
pub(crate) fn validate(p: &Map<String, Value>) -> Result<(), SimError> {
    let bad = SimError::bad_request;
    let malformed = || bad("MALFORMED_REQUEST_BODY");
    let name = p
        .get("profile_name")
        .ok_or_else(|| bad("CONFIG_NAME_REQUIRED"))?;
    let name = name.as_str().ok_or_else(malformed)?;
    if name.trim().is_empty() || name.chars().count() > 125 {
        return Err(bad("CONFIG_NAME_INVALID"));
    }
    let url = p.get("url").ok_or_else(|| bad("CONFIG_URL_REQUIRED"))?;
    check_url(url.as_str().ok_or_else(malformed)?)?;
    if let Some(web) = p.get("configuration_web_url") {
        check_url(web.as_str().ok_or_else(malformed)?)?;
    }
    check_fields(p)?;
    let removable = p
        .get("is_mdm_removable")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let supervised = p
        .get("is_supervised")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !removable && !supervised {
        return Err(bad("FLAGS_INVALID"));
    }
    check_locale(p.get("language"), 2..=3)?;
    check_locale(p.get("region"), 2..=2)
}

/// Length limits and JSON types of the optional fields.
fn check_fields(p: &Map<String, Value>) -> Result<(), SimError> {
    let malformed = || SimError::bad_request("MALFORMED_REQUEST_BODY");
    for (field, max, code) in STRING_LIMITS {
        if let Some(v) = p.get(*field)
            && v.as_str().ok_or_else(malformed)?.chars().count() > *max
        {
            return Err(SimError::bad_request(code));
        }
    }
    let wrong_bool = BOOL_FIELDS
        .iter()
        .any(|f| p.get(*f).is_some_and(|v| !v.is_boolean()));
    let wrong_list = LIST_FIELDS
        .iter()
        .any(|f| p.get(*f).is_some_and(|v| !is_string_list(v)));
    if wrong_bool || wrong_list {
        return Err(malformed());
    }
    Ok(())
}

fn is_string_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

fn check_url(url: &str) -> Result<(), SimError> {
    let encoded = crate::apple::oauth::encode(url);
    let parsed = url::Url::parse(url).ok();
    let web = parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !web || encoded.len() > 2000 {
        return Err(SimError::bad_request("CONFIG_URL_INVALID"));
    }
    Ok(())
}

fn check_locale(v: Option<&Value>, len: std::ops::RangeInclusive<usize>) -> Result<(), SimError> {
    let Some(v) = v else { return Ok(()) };
    let ok = v
        .as_str()
        .is_some_and(|s| len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()));
    if ok {
        Ok(())
    } else {
        Err(SimError::bad_request("LOCALE_INVALID"))
    }
}

/// A forced status from an injected `DeviceStatus` rule (`SUCCESS` runs normally).
fn forced(quirk: Option<&FailureAction>) -> Option<&str> {
    match quirk {
        Some(FailureAction::DeviceStatus { status }) if status != "SUCCESS" => Some(status),
        _ => None,
    }
}

/// Assigns `uuid` to `serials`: `NOT_ACCESSIBLE` when not on this server, admin-forced
/// `FAILED` / `THROTTLED` (reported as `FAILED` before protocol 9), else `SUCCESS`. Returns the
/// results and the largest throttling delay.
pub(crate) fn assign(
    server: &mut MdmServer,
    uuid: &str,
    serials: &[String],
    quirk: Option<&FailureAction>,
    version: u32,
    now: DateTime<Utc>,
) -> (Results, Option<u64>) {
    let mut results = Results::new();
    let mut retry_after = None;
    for serial in serials {
        let status = if let Some(forced) = forced(quirk) {
            forced.to_owned()
        } else if let Some(o) = server.assign_overrides.get(serial).cloned() {
            if o.outcome == "THROTTLED" {
                retry_after = retry_after.max(Some(o.retry_after_seconds.unwrap_or(3600)));
            }
            if o.outcome == "THROTTLED" && version < 9 {
                "FAILED".to_owned()
            } else {
                o.outcome
            }
        } else if server.modify_device(serial, now, |d| {
            d.profile_uuid = Some(uuid.to_owned());
            "assigned".clone_into(&mut d.profile_status);
            d.profile_assign_time = Some(now);
        }) {
            "SUCCESS".to_owned()
        } else {
            "NOT_ACCESSIBLE".to_owned()
        };
        results.insert(serial.clone(), status);
    }
    (results, retry_after.filter(|_| version >= 10))
}

/// Removes the profile of `serials` (`profile_status: removed`).
pub(crate) fn remove(
    server: &mut MdmServer,
    serials: &[String],
    quirk: Option<&FailureAction>,
    now: DateTime<Utc>,
) -> Results {
    let mut results = Results::new();
    for serial in serials {
        let status = match forced(quirk) {
            Some(f) => f,
            None if server.modify_device(serial, now, super::model::Device::clear_profile) => {
                "SUCCESS"
            }
            None => "NOT_ACCESSIBLE",
        };
        results.insert(serial.clone(), status.to_owned());
    }
    results
}

/// Disowns `serials` of `server`: they leave it (`deleted`) and the organisation for good.
pub(crate) fn disown(
    st: &mut SimState,
    server: &str,
    serials: &[String],
    quirk: Option<&FailureAction>,
    now: DateTime<Utc>,
) -> Result<Results, SimError> {
    let mut results = Results::new();
    for serial in serials {
        let server = st.servers.get_mut(server).ok_or_else(SimError::internal)?;
        let status = match forced(quirk) {
            Some(f) => f,
            None if server.remove_device(serial, now).is_some() => {
                st.disowned.insert(serial.clone());
                "SUCCESS"
            }
            None => "NOT_ACCESSIBLE",
        };
        results.insert(serial.clone(), status.to_owned());
    }
    Ok(results)
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
