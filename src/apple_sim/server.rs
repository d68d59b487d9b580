//! One simulated MDM server: its token, account, devices, change log and profiles. Every
//! device change goes through here so the change log is the single source of sync output.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::generate;
use super::model::{Account, ChangeEvent, Device, OpType};
use crate::apple::oauth::lower_hex;
use crate::apple::token_file::ServerTokenCredentials;

/// Forced per-serial assignment outcome set through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AssignOverride {
    /// `FAILED` or `THROTTLED`.
    pub outcome: String,
    /// Reported as `retry_after_seconds` for throttled devices (protocol ≥ 10).
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
}

/// Organisation fields an admin may choose when creating a server.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct OrgInput {
    pub org_name: Option<String>,
    pub org_email: Option<String>,
    pub org_phone: Option<String>,
    pub org_address: Option<String>,
    pub org_id: Option<String>,
    pub org_type: Option<String>,
    pub admin_id: Option<String>,
}

/// A simulated ABM "MDM server" (= one server token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MdmServer {
    pub id: String,
    pub name: String,
    pub credentials: ServerTokenCredentials,
    pub account: Account,
    pub terms_signed: bool,
    pub devices: BTreeMap<String, Device>,
    pub log: Vec<ChangeEvent>,
    pub profiles: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub assign_overrides: BTreeMap<String, AssignOverride>,
}

impl MdmServer {
    /// A new server named `name` with a one-year token and no devices.
    pub(crate) fn new(name: &str, org: OrgInput, now: DateTime<Utc>) -> Self {
        let id = generate::hex_id(32);
        let org_id = org.org_id.unwrap_or_else(|| "1234567".to_owned());
        let org_id_hash = lower_hex(&openssl::sha::sha256(org_id.as_bytes()));
        let account = Account {
            server_name: name.to_owned(),
            server_uuid: id.clone(),
            admin_id: org
                .admin_id
                .unwrap_or_else(|| "dep-admin@example.com".to_owned()),
            org_name: org.org_name.unwrap_or_else(|| "Example Inc.".to_owned()),
            org_email: org.org_email.unwrap_or_else(|| "it@example.com".to_owned()),
            org_phone: org
                .org_phone
                .unwrap_or_else(|| "+1 408 555 0100".to_owned()),
            org_address: org
                .org_address
                .unwrap_or_else(|| "1 Example Way, Cupertino, CA 95014, US".to_owned()),
            org_id,
            org_id_hash,
            org_type: org.org_type.unwrap_or_else(|| "org".to_owned()),
            org_version: "v2".to_owned(),
        };
        Self {
            id,
            name: name.to_owned(),
            credentials: ServerTokenCredentials::generate(now + Duration::days(365)),
            account,
            terms_signed: true,
            devices: BTreeMap::new(),
            log: Vec::new(),
            profiles: BTreeMap::new(),
            assign_overrides: BTreeMap::new(),
        }
    }

    /// The sequence number of the newest change (0 when none).
    pub(crate) fn last_seq(&self) -> u64 {
        self.log.last().map_or(0, |e| e.seq)
    }

    /// Changes after `seq`, oldest first.
    pub(crate) fn events_after(&self, seq: u64) -> &[ChangeEvent] {
        let start = self.log.partition_point(|e| e.seq <= seq);
        &self.log[start..]
    }

    fn record(&mut self, op_type: OpType, device: Device, now: DateTime<Utc>) {
        let seq = self.last_seq() + 1;
        self.log.push(ChangeEvent {
            seq,
            op_type,
            op_date: now,
            device,
        });
    }

    /// Adds (or replaces) a device and logs `op_type` (normally `added`; `modified` mimics
    /// the portal's moved-device oddity).
    pub(crate) fn add_device(&mut self, device: Device, op_type: OpType, now: DateTime<Utc>) {
        self.record(op_type, device.clone(), now);
        self.devices.insert(device.serial_number.clone(), device);
    }

    /// Applies `change` to a device and logs `modified`; `false` if the serial is not here.
    pub(crate) fn modify_device(
        &mut self,
        serial: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Device),
    ) -> bool {
        let Some(device) = self.devices.get_mut(serial) else {
            return false;
        };
        change(device);
        let snapshot = device.clone();
        self.record(OpType::Modified, snapshot, now);
        true
    }

    /// Removes a device and logs `deleted` with its last state.
    pub(crate) fn remove_device(&mut self, serial: &str, now: DateTime<Utc>) -> Option<Device> {
        let device = self.devices.remove(serial)?;
        self.assign_overrides.remove(serial);
        self.record(OpType::Deleted, device.clone(), now);
        Some(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apple_sim::model::now_secs;

    fn device(serial: &str) -> Device {
        let mut d = generate::device(&|_| false, "a@example.com", now_secs());
        d.serial_number = serial.to_owned();
        d
    }

    #[test]
    fn change_log_records_every_change_in_order() {
        let now = now_secs();
        let mut s = MdmServer::new("one", OrgInput::default(), now);
        s.add_device(device("A"), OpType::Added, now);
        s.add_device(device("B"), OpType::Added, now);
        assert!(s.modify_device("A", now, |d| d.asset_tag = Some("x".into())));
        assert!(!s.modify_device("Z", now, |_| {}));
        assert_eq!(
            s.remove_device("B", now).map(|d| d.serial_number),
            Some("B".into())
        );
        let ops: Vec<(u64, OpType, &str)> = s
            .log
            .iter()
            .map(|e| (e.seq, e.op_type, e.device.serial_number.as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                (1, OpType::Added, "A"),
                (2, OpType::Added, "B"),
                (3, OpType::Modified, "A"),
                (4, OpType::Deleted, "B")
            ]
        );
        assert_eq!(s.events_after(2).len(), 2);
        assert_eq!(s.events_after(2)[0].device.asset_tag.as_deref(), Some("x"));
        assert!(s.events_after(4).is_empty());
        assert_eq!(s.devices.len(), 1);
    }
}
