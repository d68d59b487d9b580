//! Apple DEP request and response bodies, with Apple's `snake_case` field names (reference §2).
//! Optional where Apple omits fields (by protocol version, device model or endpoint).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod profiles;

pub use profiles::{
    AssignProfileResponse, DefineProfileResponse, DepProfile, DeviceStatus, SerialResults,
    serial_status,
};

/// `GET /account` (`AccountDetail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The MDM server's name in Apple Business Manager.
    pub server_name: String,
    /// Stable identity of the ABM "MDM server" (32 hex characters at Apple).
    pub server_uuid: String,
    /// Apple Account that generated the token in use.
    #[serde(default)]
    pub admin_id: Option<String>,
    /// Deprecated alias of `admin_id`.
    #[serde(default)]
    pub facilitator_id: Option<String>,
    /// Organisation name.
    #[serde(default)]
    pub org_name: Option<String>,
    /// Organisation e-mail.
    #[serde(default)]
    pub org_email: Option<String>,
    /// Organisation phone.
    #[serde(default)]
    pub org_phone: Option<String>,
    /// Organisation address.
    #[serde(default)]
    pub org_address: Option<String>,
    /// Organisation id (protocol 3+).
    #[serde(default)]
    pub org_id: Option<String>,
    /// Hash of the organisation id (protocol 3+).
    #[serde(default)]
    pub org_id_hash: Option<String>,
    /// `edu`, `org` or `tvprovider` (protocol 3+).
    #[serde(default)]
    pub org_type: Option<String>,
    /// `v1` or `v2` (protocol 3+).
    #[serde(default)]
    pub org_version: Option<String>,
    /// The endpoints this server may call, with paging limits (protocol 3+).
    #[serde(default)]
    pub urls: Vec<AccountUrl>,
}

/// One entry of `Account::urls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUrl {
    /// Path, e.g. `/server/devices`.
    pub uri: String,
    /// Allowed methods.
    #[serde(default)]
    pub http_method: Vec<String>,
    /// Page size limits of paged endpoints.
    #[serde(default)]
    pub limit: Option<UrlLimit>,
}

/// Page size limits of a paged endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlLimit {
    /// Size without `limit`.
    pub default: u32,
    /// Largest accepted `limit`.
    pub maximum: u32,
}

/// `op_type` of a sync event. Fetch-phase devices carry none (treat as added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// Newly assigned to this MDM server.
    Added,
    /// Changed (also: moved here from another server, profile removed).
    Modified,
    /// No longer assigned to this server.
    Deleted,
    /// A value this client does not know (including Apple's empty string).
    #[serde(other)]
    Unknown,
}

/// `profile_status` of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileStatus {
    /// No profile.
    Empty,
    /// Assigned, not yet fetched by the device.
    Assigned,
    /// Fetched by the device.
    Pushed,
    /// Removed.
    Removed,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

/// A device as fetch, sync and details return it (reference §2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Serial number, the device's key.
    pub serial_number: String,
    /// Model name; absent on details entries that failed.
    #[serde(default)]
    pub model: String,
    /// Apple's description, e.g. `MBP 13.3 SPACE GRAY/2.0GHZ/8GB/256GB-USA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Colour; Apple omits it on some models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Asset tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    /// `iPad`, `iPhone`, `iPod`, `Mac`, `AppleTV`, `Vision` (protocol 2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// `iOS`, `iPadOS` (protocol 7+), `OSX`, `tvOS`, `visionOS` (protocol 2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Who assigned the device to this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assigned_by: Option<String>,
    /// When the device was assigned to this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assigned_date: Option<DateTime<Utc>>,
    /// Enrollment profile state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_status: Option<ProfileStatus>,
    /// The assigned profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_uuid: Option<String>,
    /// When the profile was assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_assign_time: Option<DateTime<Utc>>,
    /// When the device fetched the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_push_time: Option<DateTime<Utc>>,
    /// Sync events only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_type: Option<OpType>,
    /// Sync events only: when the change happened (the latest wins per serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_date: Option<DateTime<Utc>>,
    /// Migration deadline (protocol 8+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdm_migration_deadline: Option<DateTime<Utc>>,
    /// Replacement device (protocol 10+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_replacement_device: Option<bool>,
    /// Details endpoint only: `SUCCESS`, `NOT_FOUND`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<String>,
}

impl Device {
    /// The event kind, with Apple's rule that a device without `op_type` (fetch) was added.
    pub fn effective_op_type(&self) -> OpType {
        match self.op_type {
            None | Some(OpType::Unknown) => OpType::Added,
            Some(op) => op,
        }
    }
}

/// One page of `POST /server/devices` or `POST /devices/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePage {
    /// Devices (fetch) or change events (sync), possibly repeated across pages.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// The cursor to continue with (store it only once the page is processed).
    pub cursor: String,
    /// Whether another page follows at once.
    #[serde(default)]
    pub more_to_follow: bool,
    /// Up to when the page covers (depsim sends `0001-01-01T00:00:00Z` on sync).
    #[serde(default)]
    pub fetched_until: Option<DateTime<Utc>>,
}

/// `{"devices": {...}}` answer of details, remove and disown.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DevicesMap<T> {
    #[serde(default = "BTreeMap::new")]
    pub devices: BTreeMap<String, T>,
}

/// `{"auth_session_token": "…"}`.
#[derive(Deserialize)]
pub(crate) struct SessionBody {
    #[serde(default)]
    pub auth_session_token: String,
}
