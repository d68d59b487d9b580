//! Profile bodies: `POST /profile` (define), and the per-serial results of assign, remove and
//! disown (reference §2.6-§2.10).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A per-serial result of assign, remove and disown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeviceStatus {
    /// Done.
    Success,
    /// The serial is not assigned to this MDM server.
    NotAccessible,
    /// Apple failed; retry later.
    Failed,
    /// Cooling down (protocol 9+); see `retry_after_seconds`.
    Throttled,
    /// Unknown serial.
    NotFound,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

/// `{"SERIAL": status}`. A requested serial missing from it counts as failed (FLEET).
pub type SerialResults = BTreeMap<String, DeviceStatus>;

/// The status of `serial` in `results`, [`DeviceStatus::Failed`] when Apple left it out.
pub fn serial_status(results: &SerialResults, serial: &str) -> DeviceStatus {
    results.get(serial).copied().unwrap_or(DeviceStatus::Failed)
}

/// `POST /profile` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineProfileResponse {
    /// The new profile's UUID, scoped to this MDM server.
    pub profile_uuid: String,
    /// Results for the profile's `devices`, if any were given.
    #[serde(default)]
    pub devices: SerialResults,
}

/// `POST /profile/devices` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignProfileResponse {
    /// The assigned profile.
    pub profile_uuid: String,
    /// Per-serial results.
    #[serde(default)]
    pub devices: SerialResults,
    /// When some device is throttled (protocol 10+): wait at least this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// The body of `POST /profile` (reference §2.6). Profiles are immutable: editing means
/// defining a new one and assigning it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepProfile {
    /// Name shown on the device (≤ 125 characters).
    pub profile_name: String,
    /// Where the device enrolls (≤ 2000 characters URL-encoded).
    pub url: String,
    /// Web page for Setup Assistant authentication; the device then enrolls from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_web_url: Option<String>,
    /// Whether the device may pair with hosts (`supervising_host_certs` restrict which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_pairing: Option<bool>,
    /// Supervise the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_supervised: Option<bool>,
    /// Shared iPad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_multi_user: Option<bool>,
    /// The user cannot skip enrollment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mandatory: Option<bool>,
    /// Setup Assistant waits for the MDM's `DeviceConfigured` command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub await_device_configured: Option<bool>,
    /// The user may remove the MDM profile (`false` needs `is_supervised`: `FLAGS_INVALID`).
    /// Always sent: Apple's schema marks it required.
    pub is_mdm_removable: bool,
    /// tvOS/macOS: advance through Setup Assistant automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_advance_setup: Option<bool>,
    /// Support phone (≤ 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_phone_number: Option<String>,
    /// Support e-mail (≤ 250).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_email_address: Option<String>,
    /// Identifies the organisation's services (≤ 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_magic: Option<String>,
    /// Department or location shown on the device (≤ 125).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// ISO 639 language code for Setup Assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// ISO 3166 region code for Setup Assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Base64 DER certificates trusted for the MDM server's TLS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchor_certs: Vec<String>,
    /// Base64 DER certificates of hosts allowed to pair with a supervised device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervising_host_certs: Vec<String>,
    /// Setup Assistant panes to skip (Apple's skip keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_setup_items: Vec<String>,
    /// Serials to assign the profile to in the same call (≤ 1000).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Do not restore the enrollment profile from a backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_use_profile_from_backup: Option<bool>,
    /// Return to Service (iOS 26+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_return_to_service: Option<bool>,
}

impl DepProfile {
    /// A profile with only the two required fields, removable like Apple's default.
    pub fn new(profile_name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            profile_name: profile_name.into(),
            url: url.into(),
            configuration_web_url: None,
            allow_pairing: None,
            is_supervised: None,
            is_multi_user: None,
            is_mandatory: None,
            await_device_configured: None,
            is_mdm_removable: true,
            auto_advance_setup: None,
            support_phone_number: None,
            support_email_address: None,
            org_magic: None,
            department: None,
            language: None,
            region: None,
            anchor_certs: Vec::new(),
            supervising_host_certs: Vec::new(),
            skip_setup_items: Vec::new(),
            devices: Vec::new(),
            do_not_use_profile_from_backup: None,
            is_return_to_service: None,
        }
    }
}
