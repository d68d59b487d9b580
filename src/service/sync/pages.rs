//! Applying one page of Apple devices to a token's imported identities, in the transaction that
//! also stores the page's cursor.

use std::collections::{BTreeMap, HashMap};

use uuid::{Builder, Uuid};

use crate::apple::types::{Device, OpType};
use crate::domain::devices::{
    DiscoverySource, ImportedAppleDeviceIdentity, platform_from_device_family,
};
use crate::domain::ids::{ProfileId, Serial, SettingId, TenantId};
use crate::domain::time::TICKS_PER_SECOND;
use crate::service::profile_push;
use crate::storage::{DbConnection, devices, profiles};

/// The latest event per serial of a page (reference §3: latest `op_date` wins; on a tie or
/// without dates, the later entry).
fn latest_per_serial(page: &[Device]) -> Vec<(String, &Device)> {
    let mut latest: HashMap<String, (usize, &Device)> = HashMap::new();
    for (i, d) in page.iter().enumerate() {
        let Ok(serial) = Serial::parse(&d.serial_number).map(String::from) else {
            tracing::warn!(serial = %d.serial_number.chars().take(32).collect::<String>(), "skipping a device with an invalid serial number");
            continue;
        };
        match latest.get(&serial) {
            Some((_, prev)) if prev.op_date > d.op_date => {}
            _ => {
                latest.insert(serial, (i, d));
            }
        }
    }
    let mut out: Vec<_> = latest.into_iter().map(|(s, (i, d))| (i, s, d)).collect();
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, s, d)| (s, d)).collect()
}

/// Positions in a batch that [`new_id`] keeps in order (26 bits: 12 of `rand_a`, 14 of `rand_b`).
const ID_POSITIONS: usize = (1 << 26) - 1;

/// A new identity's id: a GUID of RFC 9562 version 7 made of the write time (milliseconds), the
/// identity's place in its batch (a sync page, an import; 26 bits) and 48 random bits. Ids of
/// one batch follow each other and later batches sort after earlier ones, so a batch's new rows
/// append to the primary key and the indexes that end in `id` instead of landing on random
/// pages of each: with random (version 4) ids, a 100,000-device sync rewrote thousands of index
/// pages per 1,000-row page on SQLite, more with every page (measured on this machine: 15 s
/// instead of 90 s for the inserts alone).
pub(crate) fn new_id(now: i64, index: usize) -> String {
    let millis = u64::try_from(now / (TICKS_PER_SECOND / 1000)).unwrap_or(0);
    let position = u32::try_from(index.min(ID_POSITIONS)).unwrap_or(u32::MAX);
    let mut bytes = [0_u8; 10];
    bytes.copy_from_slice(&Uuid::new_v4().as_bytes()[..10]);
    // The builder overwrites the top 4 bits of byte 0 (version) and the top 2 of byte 2
    // (variant): the position's top 12 bits go in bytes 0–1, its low 14 in bytes 2–3.
    let [_, _, b0, b1] = (position >> 14).to_be_bytes();
    let [_, _, b2, b3] = (position & 0x3fff).to_be_bytes();
    bytes[..4].copy_from_slice(&[b0, b1, b2, b3]);
    Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

fn refresh(identity: &mut ImportedAppleDeviceIdentity, device: &Device) {
    identity.discovery_source = DiscoverySource::DeviceEnrollmentProgram;
    if let Some(family) = &device.device_family {
        identity.platform = platform_from_device_family(family);
    }
    identity.is_deleted = Some(false);
}

/// Applies a page's devices to `setting`'s identities: added/modified upsert by serial (an
/// identity of the serial under another token of the tenant moves here, as Apple says the
/// device belongs to this server); deleted marks this token's identity `isDeleted`. A device
/// new to this token at Apple gets its requested profile, else the token's default profile for
/// its platform, queued for assignment at Apple.
pub fn apply(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    page: &[Device],
    now: i64,
) -> diesel::QueryResult<()> {
    let events = latest_per_serial(page);
    let serials: Vec<String> = events.iter().map(|(s, _)| s.clone()).collect();
    let mut known: HashMap<String, (String, ImportedAppleDeviceIdentity)> = HashMap::new();
    for (owner, identity) in devices::find_by_serials(conn, tenant, &serials)? {
        let mine = owner == setting;
        match known.get(&identity.serial_number) {
            Some((prev, _)) if prev == setting || !mine => {}
            _ => {
                known.insert(identity.serial_number.clone(), (owner, identity));
            }
        }
    }
    let (mut new, mut arrived, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
    for (index, (serial, device)) in events.into_iter().enumerate() {
        let existing = known.remove(&serial);
        match (device.effective_op_type(), existing) {
            (OpType::Deleted, Some((owner, identity))) if owner == setting => {
                if identity.is_deleted != Some(true) {
                    deleted.push(identity.id);
                }
            }
            (OpType::Deleted, _) => {}
            (_, Some((owner, mut identity))) => {
                // New to this token at Apple: moved from another token, imported by hand before
                // Apple reported it, or back after a deletion (Apple drops its profile then).
                let first_seen = owner != setting
                    || identity.discovery_source != DiscoverySource::DeviceEnrollmentProgram
                    || identity.is_deleted == Some(true);
                let stored = identity.clone();
                refresh(&mut identity, device);
                // Most events of a resync or an incremental sync change nothing the gateway
                // keeps: those rows are not rewritten (each rewrite touches all eight indexes).
                if owner != setting || identity != stored {
                    devices::update(conn, tenant, setting, &identity)?;
                }
                if first_seen {
                    arrived.push((owner == setting, identity));
                }
            }
            (_, None) => {
                let mut identity =
                    ImportedAppleDeviceIdentity::new(new_id(now, index), serial, now);
                refresh(&mut identity, device);
                new.push(identity);
            }
        }
    }
    devices::mark_deleted(conn, tenant, setting, &deleted)?;
    devices::insert_many(conn, tenant, setting, &new)?;
    arrived.extend(new.into_iter().map(|d| (true, d)));
    queue_arrivals(conn, tenant, setting, &arrived, now)
}

/// Queues the profile of each arrived device at Apple: the profile requested for it (when it
/// names a profile of this token and the identity was this token's), else its platform's
/// default profile, if the token has one. `arrived` holds (identity was this token's, identity).
fn queue_arrivals(
    conn: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    arrived: &[(bool, ImportedAppleDeviceIdentity)],
    now: i64,
) -> diesel::QueryResult<()> {
    if arrived.is_empty() {
        return Ok(());
    }
    let defaults = profiles::defaults(conn, tenant, setting)?;
    let mut known: HashMap<ProfileId, bool> = HashMap::new();
    let mut queue: BTreeMap<ProfileId, Vec<String>> = BTreeMap::new();
    for (was_mine, d) in arrived {
        let requested = match &d.requested_enrollment_profile_id {
            Some(guid) if *was_mine => {
                let id = ProfileId::new(setting, guid);
                let exists = if let Some(e) = known.get(&id) {
                    *e
                } else {
                    let e = profiles::get(conn, tenant, setting, &id)?.is_some();
                    known.insert(id.clone(), e);
                    e
                };
                exists.then_some(id)
            }
            _ => None,
        };
        let profile = requested.or_else(|| {
            defaults
                .iter()
                .find(|(platform, _)| platform.as_str() == d.platform.as_str())
                .and_then(|(_, id)| ProfileId::parse(id))
        });
        if let Some(profile) = profile {
            queue
                .entry(profile)
                .or_default()
                .push(d.serial_number.clone());
        }
    }
    for (profile, serials) in &queue {
        profile_push::enqueue_in(conn, tenant, setting, serials, profile, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(serial: &str, op: Option<OpType>, secs: i64) -> Device {
        serde_json::from_value(serde_json::json!({
            "serial_number": serial,
            "op_type": op,
            "op_date": chrono::DateTime::from_timestamp(secs, 0),
        }))
        .unwrap()
    }

    #[test]
    fn new_ids_are_version_7_guids_in_page_order() {
        let now = crate::domain::time::to_ticks(chrono::Utc::now());
        // A sync page's 1,000 and an import's 20,000 (past the 12 bits of `rand_a`).
        let ids: Vec<String> = (0..20_000).map(|i| new_id(now, i)).collect();
        let later = new_id(now + TICKS_PER_SECOND, 0);
        for (i, id) in ids.iter().enumerate() {
            let uuid = Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 7, "{id}");
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
            if let Some(next) = ids.get(i + 1) {
                assert!(id < next, "{id} !< {next}");
            }
            assert!(*id < later);
        }
        // Random bits: two pages made in the same millisecond do not collide.
        assert_ne!(new_id(now, 5), new_id(now, 5));
    }

    #[test]
    fn the_latest_event_per_serial_wins() {
        let page = [
            device("c02abc12345", Some(OpType::Added), 10),
            device("C02XYZ12345", Some(OpType::Added), 10),
            device("C02ABC12345", Some(OpType::Deleted), 20),
            device("C02XYZ12345", Some(OpType::Modified), 5),
            device("bad", None, 1),
        ];
        let out = latest_per_serial(&page);
        let kinds: Vec<(&str, OpType)> = out
            .iter()
            .map(|(s, d)| (s.as_str(), d.effective_op_type()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("C02XYZ12345", OpType::Added),
                ("C02ABC12345", OpType::Deleted)
            ]
        );
    }
}
