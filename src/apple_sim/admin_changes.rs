//! Admin routes changing existing devices: modify, delete (release from the MDM server) and
//! move between servers. Each change is logged, so sync reports it.

use actix_web::{HttpResponse, web};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use super::admin::{AdminError, AdminResult, server_id};
use super::admin_devices::DeviceFields;
use super::gate::Sim;
use super::model::{Device, OpType, now_secs};
use super::persist;
use super::state::SimState;

/// Registers the routes of this module.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/servers/{server}/devices/modify",
        web::post().to(modify_devices),
    )
    .route(
        "/admin/servers/{server}/devices/delete",
        web::post().to(delete_devices),
    )
    .route("/admin/devices/move", web::post().to(move_devices));
}

/// Which serials were changed and which were not found.
#[derive(Debug, Default, Serialize)]
struct ChangedOut {
    changed: Vec<String>,
    not_found: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ModifyDevices {
    #[serde(default)]
    serials: Vec<String>,
    /// Also modify this many other devices, picked at random.
    #[serde(default)]
    count: usize,
    /// Fields to set; without it the asset tag changes.
    #[serde(default)]
    set: Option<DeviceFields>,
}

fn random_others(st: &SimState, id: &str, skip: &[String], count: usize) -> Vec<String> {
    let candidates: Vec<&String> = st
        .servers
        .get(id)
        .map(|s| s.devices.keys().filter(|k| !skip.contains(k)).collect())
        .unwrap_or_default();
    candidates
        .choose_multiple(&mut rand::rng(), count)
        .map(|s| (*s).clone())
        .collect()
}

/// `POST /admin/servers/{server}/devices/modify` `{"serials": […], "count": N, "set": {…}}`.
async fn modify_devices(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<ModifyDevices>,
) -> AdminResult {
    let body = body.into_inner();
    let out = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        let mut serials = body.serials.clone();
        serials.extend(random_others(&st, &id, &body.serials, body.count));
        let now = now_secs();
        let server = st
            .servers
            .get_mut(&id)
            .ok_or_else(|| AdminError::NotFound(id.clone()))?;
        let mut out = ChangedOut::default();
        for serial in serials {
            let fields = body.set.clone();
            let changed = server.modify_device(&serial, now, |d: &mut Device| match fields {
                Some(f) => f.apply(d),
                None => {
                    d.asset_tag = Some(format!("AT-{:05}", rand::rng().random_range(0..100_000)));
                }
            });
            let list = if changed {
                &mut out.changed
            } else {
                &mut out.not_found
            };
            list.push(serial);
        }
        st.touch();
        out
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
struct DeleteDevices {
    serials: Vec<String>,
    /// Also remove them from the organisation for good (as `POST /devices/disown` does).
    #[serde(default)]
    disown: bool,
}

/// `POST /admin/servers/{server}/devices/delete` `{"serials": […], "disown": false}`: the
/// devices leave the server (sync: `deleted`); with `disown` they also leave the organisation.
async fn delete_devices(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<DeleteDevices>,
) -> AdminResult {
    let body = body.into_inner();
    let out = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        let now = now_secs();
        let mut out = ChangedOut::default();
        for serial in body.serials {
            let removed = st
                .servers
                .get_mut(&id)
                .and_then(|s| s.remove_device(&serial, now))
                .is_some();
            if removed && body.disown {
                st.disowned.insert(serial.clone());
            }
            let list = if removed {
                &mut out.changed
            } else {
                &mut out.not_found
            };
            list.push(serial);
        }
        st.touch();
        out
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
struct MoveDevices {
    serials: Vec<String>,
    to: String,
    /// Report the arrival as `modified` with `profile_status: removed` (a portal oddity).
    #[serde(default)]
    as_modified: bool,
}

/// Moves one device; `false` if no server holds it.
fn move_one(st: &mut SimState, serial: &str, to: &str, as_modified: bool) -> bool {
    let now = now_secs();
    let Some(from) = st.owner_of(serial) else {
        return false;
    };
    if from == to {
        // Re-assigning to the same server removes the profile (fleet #39871).
        return st
            .servers
            .get_mut(to)
            .is_some_and(|s| s.modify_device(serial, now, Device::clear_profile));
    }
    let Some(mut device) = st
        .servers
        .get_mut(&from)
        .and_then(|s| s.remove_device(serial, now))
    else {
        return false;
    };
    device.clear_profile();
    device.device_assigned_date = Some(now);
    let op = if as_modified {
        OpType::Modified
    } else {
        "empty".clone_into(&mut device.profile_status);
        OpType::Added
    };
    if let Some(target) = st.servers.get_mut(to) {
        target.add_device(device, op, now);
    }
    true
}

/// `POST /admin/devices/move` `{"serials": […], "to": "server", "as_modified": false}`: the
/// source server reports `deleted`, the target `added` (or `modified`).
async fn move_devices(sim: web::Data<Sim>, body: web::Json<MoveDevices>) -> AdminResult {
    let body = body.into_inner();
    let out = {
        let mut st = sim.lock();
        let to = server_id(&st, &body.to)?;
        let mut out = ChangedOut::default();
        for serial in body.serials {
            let list = if move_one(&mut st, &serial, &to, body.as_modified) {
                &mut out.changed
            } else {
                &mut out.not_found
            };
            list.push(serial);
        }
        st.touch();
        out
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(out))
}
