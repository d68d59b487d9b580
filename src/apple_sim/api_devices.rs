//! `POST /server/devices`, `POST /devices/sync`, `POST /devices` and `POST /devices/disown`.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use super::failures::FailureAction;
use super::gate::{self, Ctx, Sim, json_body};
use super::model::DeviceOut;
use super::paging::{self, Page, PageCtx, PageRequest};
use super::profiles::{self, Results};
use super::reply::{Outcome, Reply, SimError};
use super::state::SimState;

/// `{"devices": ["SERIAL", …]}` of the per-serial endpoints.
#[derive(Debug, Deserialize)]
pub(crate) struct SerialsRequest {
    #[serde(default)]
    pub devices: Option<Vec<String>>,
}

/// `{"devices": {"SERIAL": "STATUS"}}`.
#[derive(Debug, Serialize)]
pub(crate) struct ResultsOut {
    pub devices: Results,
}

/// The serials of a request: `400 DEVICE_ID_REQUIRED` when none, `400 TOO_MANY_DEVICES`
/// above `max_serials_per_request` (Apple's 1000-device guidance; the code is the simulator's).
pub(crate) fn serials(list: Option<Vec<String>>, st: &SimState) -> Result<Vec<String>, SimError> {
    let list = list
        .filter(|l| !l.is_empty())
        .ok_or_else(|| SimError::bad_request("DEVICE_ID_REQUIRED"))?;
    if list.len() > st.settings.max_serials_per_request {
        return Err(SimError::bad_request("TOO_MANY_DEVICES"));
    }
    Ok(list)
}

fn page_ctx<'a>(st: &'a SimState, ctx: &Ctx) -> Result<PageCtx<'a>, SimError> {
    Ok(PageCtx {
        server: st.servers.get(&ctx.server).ok_or_else(SimError::internal)?,
        settings: &st.settings,
        key: st.cursor_key.as_bytes(),
        version: ctx.version,
        now: ctx.now,
    })
}

/// The injected same-cursor bug: the request's cursor again, "with more to follow".
fn with_quirk(mut page: Page, req: &PageRequest, ctx: &Ctx) -> Page {
    if ctx.quirk == Some(FailureAction::SameCursor) {
        if let Some(cursor) = req.cursor.clone().filter(|c| !c.is_empty()) {
            page.cursor = cursor;
        }
        page.more_to_follow = true;
    }
    page
}

fn paged(
    st: &SimState,
    ctx: &Ctx,
    req: &HttpRequest,
    body: &[u8],
    run: fn(&PageCtx<'_>, &PageRequest) -> Result<Page, SimError>,
) -> Outcome {
    let request: PageRequest = json_body(req, body)?;
    let page = run(&page_ctx(st, ctx)?, &request)?;
    Reply::json(&with_quirk(page, &request, ctx))
}

/// `POST /server/devices`.
pub(crate) async fn fetch_devices(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::ServerDevices, |st, ctx| {
        paged(st, ctx, &req, &body, paging::fetch)
    })
}

/// `POST /devices/sync`.
pub(crate) async fn sync_devices(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::DevicesSync, |st, ctx| {
        paged(st, ctx, &req, &body, paging::sync)
    })
}

/// One entry of the details answer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Detail {
    Found(Box<DeviceOut>),
    Missing {
        serial_number: String,
        response_status: String,
    },
}

#[derive(Debug, Serialize)]
struct DetailsOut {
    devices: BTreeMap<String, Detail>,
}

fn detail(st: &SimState, ctx: &Ctx, serial: &str) -> Detail {
    let forced = match &ctx.quirk {
        Some(FailureAction::DeviceStatus { status }) if status != "SUCCESS" => Some(status),
        _ => None,
    };
    let device = st
        .servers
        .get(&ctx.server)
        .and_then(|s| s.devices.get(serial));
    match (device, forced) {
        (Some(d), None) => Detail::Found(Box::new(DeviceOut {
            response_status: Some("SUCCESS".to_owned()),
            ..DeviceOut::plain(d, ctx.version)
        })),
        (_, status) => Detail::Missing {
            serial_number: serial.to_owned(),
            response_status: status.map_or("NOT_FOUND", String::as_str).to_owned(),
        },
    }
}

/// `POST /devices`: details with `response_status` per serial (`NOT_FOUND` when not here).
pub(crate) async fn device_details(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::Devices, |st, ctx| {
        let request: SerialsRequest = json_body(&req, &body)?;
        let devices = serials(request.devices, st)?
            .into_iter()
            .map(|serial| {
                let d = detail(st, ctx, &serial);
                (serial, d)
            })
            .collect();
        Reply::json(&DetailsOut { devices })
    })
}

/// `POST /devices/disown`.
pub(crate) async fn disown_devices(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::DevicesDisown, |st, ctx| {
        let request: SerialsRequest = json_body(&req, &body)?;
        let list = serials(request.devices, st)?;
        let devices = profiles::disown(st, &ctx.server, &list, ctx.quirk.as_ref(), ctx.now)?;
        Reply::json(&ResultsOut { devices })
    })
}
