//! Admin routes adding and listing devices, and forcing per-serial assignment outcomes.
//! Added devices go through the change log, so they show up in sync as `added`.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::admin::{AdminError, AdminResult, server_id};
use super::gate::Sim;
use super::generate;
use super::model::{Device, OpType, now_secs};
use super::persist;
use super::server::AssignOverride;
use super::state::SimState;

/// Registers the routes of this module.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/servers/{server}/devices",
        web::get().to(list_devices),
    )
    .route(
        "/admin/servers/{server}/devices",
        web::post().to(add_devices),
    )
    .route(
        "/admin/servers/{server}/assign-outcomes",
        web::post().to(set_assign_outcomes),
    );
}

fn admin_id(st: &SimState, id: &str) -> Result<String, AdminError> {
    st.servers
        .get(id)
        .map(|s| s.account.admin_id.clone())
        .ok_or_else(|| AdminError::NotFound(format!("no MDM server {id}")))
}

/// `count` generated devices with serials unused anywhere.
fn fresh_devices(st: &SimState, admin_id: &str, count: usize, now: DateTime<Utc>) -> Vec<Device> {
    let mut fresh = BTreeSet::new();
    (0..count)
        .map(|_| {
            let d = generate::device(&|s| fresh.contains(s) || st.serial_taken(s), admin_id, now);
            fresh.insert(d.serial_number.clone());
            d
        })
        .collect()
}

fn insert(
    st: &mut SimState,
    id: &str,
    devices: &[Device],
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let server = st
        .servers
        .get_mut(id)
        .ok_or_else(|| AdminError::NotFound(format!("no MDM server {id}")))?;
    for d in devices {
        server.add_device(d.clone(), OpType::Added, now);
    }
    Ok(())
}

/// Adds `count` generated devices to server `id` (logged as `added`).
pub(crate) fn generate_into(
    st: &mut SimState,
    id: &str,
    count: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Device>, AdminError> {
    let devices = fresh_devices(st, &admin_id(st, id)?, count, now);
    insert(st, id, &devices, now)?;
    Ok(devices)
}

#[derive(Serialize)]
struct DevicesOut {
    devices: Vec<Device>,
}

async fn list_devices(sim: web::Data<Sim>, path: web::Path<String>) -> AdminResult {
    let st = sim.lock();
    let id = server_id(&st, &path)?;
    let devices = st
        .servers
        .get(&id)
        .map(|s| s.devices.values().cloned().collect())
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(DevicesOut { devices }))
}

/// Device fields for `add` (missing ones are generated) and `modify` (`""` clears an
/// optional field).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct DeviceFields {
    serial_number: Option<String>,
    model: Option<String>,
    description: Option<String>,
    color: Option<String>,
    asset_tag: Option<String>,
    os: Option<String>,
    device_family: Option<String>,
    profile_status: Option<String>,
}

impl DeviceFields {
    /// Writes the given fields into `d`.
    pub(crate) fn apply(self, d: &mut Device) {
        let set = |field: &mut Option<String>, v: Option<String>| {
            if let Some(v) = v {
                *field = Some(v).filter(|v| !v.is_empty());
            }
        };
        if let Some(serial) = self.serial_number {
            d.serial_number = serial;
        }
        if let Some(model) = self.model {
            d.model = model;
        }
        if let Some(status) = self.profile_status {
            d.profile_status = status;
        }
        set(&mut d.description, self.description);
        set(&mut d.color, self.color);
        set(&mut d.asset_tag, self.asset_tag);
        set(&mut d.os, self.os);
        set(&mut d.device_family, self.device_family);
    }
}

#[derive(Debug, Deserialize)]
struct AddDevices {
    #[serde(default)]
    count: usize,
    #[serde(default)]
    devices: Vec<DeviceFields>,
}

/// Explicit serials must be new everywhere and unique in the request.
fn check_unique(st: &SimState, devices: &[Device]) -> Result<(), AdminError> {
    let mut seen = BTreeSet::new();
    for d in devices {
        if !seen.insert(d.serial_number.as_str()) || st.serial_taken(&d.serial_number) {
            return Err(AdminError::BadRequest(format!(
                "serial {} already exists",
                d.serial_number
            )));
        }
    }
    Ok(())
}

/// `POST /admin/servers/{server}/devices` `{"count": N, "devices": [{…}]}`.
async fn add_devices(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<AddDevices>,
) -> AdminResult {
    let body = body.into_inner();
    let added = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        let now = now_secs();
        let mut devices = fresh_devices(
            &st,
            &admin_id(&st, &id)?,
            body.count + body.devices.len(),
            now,
        );
        for (device, fields) in devices.iter_mut().skip(body.count).zip(body.devices) {
            fields.apply(device);
        }
        check_unique(&st, &devices)?;
        insert(&mut st, &id, &devices, now)?;
        st.touch();
        devices
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(DevicesOut { devices: added }))
}

#[derive(Debug, Deserialize)]
struct AssignOutcomes {
    serials: Vec<String>,
    /// `FAILED`, `THROTTLED`, or `SUCCESS` (back to normal).
    outcome: String,
    #[serde(default)]
    retry_after_seconds: Option<u64>,
}

#[derive(Serialize)]
struct OutcomesOut {
    overrides: usize,
}

/// `POST /admin/servers/{server}/assign-outcomes`: what profile assignment answers for these
/// serials from now on.
async fn set_assign_outcomes(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<AssignOutcomes>,
) -> AdminResult {
    let body = body.into_inner();
    if !matches!(body.outcome.as_str(), "FAILED" | "THROTTLED" | "SUCCESS") {
        return Err(AdminError::BadRequest(
            "outcome must be FAILED, THROTTLED or SUCCESS".into(),
        ));
    }
    let overrides = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        let server = st
            .servers
            .get_mut(&id)
            .ok_or_else(|| AdminError::NotFound(id.clone()))?;
        for serial in body.serials {
            if body.outcome == "SUCCESS" {
                server.assign_overrides.remove(&serial);
            } else {
                let o = AssignOverride {
                    outcome: body.outcome.clone(),
                    retry_after_seconds: body.retry_after_seconds,
                };
                server.assign_overrides.insert(serial, o);
            }
        }
        let overrides = server.assign_overrides.len();
        st.touch();
        overrides
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(OutcomesOut { overrides }))
}
