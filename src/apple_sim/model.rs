//! Simulated devices, accounts and change events, with Apple's field names (reference §2.1, §2.4).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

/// The current time in whole seconds, as Apple writes timestamps (`2018-09-08T16:49:09Z`).
pub(crate) fn now_secs() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// One device as the simulator stores it.
#[expect(clippy::struct_field_names, reason = "Apple's field names")]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Device {
    pub serial_number: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    pub profile_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_assign_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_push_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assigned_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assigned_by: Option<String>,
}

impl Device {
    /// The device as a client announcing `X-Server-Protocol-Version: version` sees it:
    /// `os` / `device_family` from v2, `iPadOS` from v7 (`iOS` before), reference §6.
    pub(crate) fn for_version(&self, version: u32) -> Device {
        let mut d = self.clone();
        if version < 2 {
            d.os = None;
            d.device_family = None;
        } else if version < 7 && d.os.as_deref() == Some("iPadOS") {
            d.os = Some("iOS".to_owned());
        }
        d
    }

    /// Clears the profile fields, as `DELETE /profile/devices` does.
    pub(crate) fn clear_profile(&mut self) {
        "removed".clone_into(&mut self.profile_status);
        self.profile_uuid = None;
        self.profile_assign_time = None;
        self.profile_push_time = None;
    }
}

/// `op_type` of a sync event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OpType {
    Added,
    Modified,
    Deleted,
}

/// One entry of a server's change log; `seq` grows by one per event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeEvent {
    pub seq: u64,
    pub op_type: OpType,
    pub op_date: DateTime<Utc>,
    pub device: Device,
}

/// A device on the wire: fetch (no `op_type`), sync (`op_type`, `op_date`) or details
/// (`response_status`).
#[derive(Debug, Serialize)]
pub(crate) struct DeviceOut {
    #[serde(flatten)]
    pub device: Device,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_type: Option<OpType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<String>,
}

impl DeviceOut {
    /// A fetch-phase device.
    pub(crate) fn plain(device: &Device, version: u32) -> Self {
        Self {
            device: device.for_version(version),
            op_type: None,
            op_date: None,
            response_status: None,
        }
    }

    /// A sync-phase device.
    pub(crate) fn event(event: &ChangeEvent, version: u32) -> Self {
        Self {
            op_type: Some(event.op_type),
            op_date: Some(event.op_date),
            ..Self::plain(&event.device, version)
        }
    }
}

/// The `GET /account` fields the simulator stores per MDM server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Account {
    pub server_name: String,
    pub server_uuid: String,
    pub admin_id: String,
    pub org_name: String,
    pub org_email: String,
    pub org_phone: String,
    pub org_address: String,
    pub org_id: String,
    pub org_id_hash: String,
    pub org_type: String,
    pub org_version: String,
}
