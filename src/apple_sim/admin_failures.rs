//! Admin routes injecting failures: `POST /admin/failures` queues "the next `count` calls to
//! `endpoint` (of `server`) answer `response`", `GET` lists pending rules, `DELETE` clears them.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::admin::{AdminError, AdminResult, server_id};
use super::endpoint::Endpoint;
use super::failures::{self, FailureAction, InjectedFailure};
use super::gate::Sim;

/// Registers the routes of this module.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/failures", web::get().to(list_failures))
        .route("/admin/failures", web::post().to(add_failure))
        .route("/admin/failures", web::delete().to(clear_failures));
}

fn one() -> u32 {
    1
}

/// A rule as the admin API takes it: either a catalogue `response` name or `status` (+ `body`,
/// `retry_after`).
#[derive(Debug, Deserialize)]
struct FailureInput {
    /// Endpoint name (`devices_sync`) or route (`POST /devices/sync`); absent or `*`: any.
    #[serde(default)]
    endpoint: Option<String>,
    /// Server id or name; absent: any server.
    #[serde(default)]
    server: Option<String>,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    body: Option<String>,
    /// Seconds (number or string) or an HTTP date, sent as `Retry-After`.
    #[serde(default)]
    retry_after: Option<Value>,
}

fn action(input: &FailureInput) -> Result<FailureAction, AdminError> {
    let retry_after = match &input.retry_after {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(AdminError::BadRequest(format!("bad retry_after {other}"))),
    };
    let mut action = match (&input.response, input.status) {
        (Some(name), _) => failures::named(name)
            .ok_or_else(|| AdminError::BadRequest(format!("unknown response {name}")))?,
        (None, Some(status)) if (100..=599).contains(&status) => FailureAction::Respond {
            status,
            body: input.body.clone().unwrap_or_default(),
            retry_after: None,
        },
        _ => {
            return Err(AdminError::BadRequest(
                "give a response name or a status".into(),
            ));
        }
    };
    if let (
        FailureAction::Respond {
            retry_after: slot, ..
        },
        Some(value),
    ) = (&mut action, retry_after)
    {
        *slot = Some(value);
    }
    Ok(action)
}

#[derive(Serialize)]
struct FailuresOut {
    failures: Vec<InjectedFailure>,
}

/// `POST /admin/failures`.
async fn add_failure(sim: web::Data<Sim>, body: web::Json<FailureInput>) -> AdminResult {
    let input = body.into_inner();
    let endpoint = match input.endpoint.as_deref().map(str::trim) {
        None | Some("*" | "") => None,
        Some(text) => Some(
            Endpoint::parse(text)
                .ok_or_else(|| AdminError::BadRequest(format!("unknown endpoint {text}")))?,
        ),
    };
    let action = action(&input)?;
    let mut st = sim.lock();
    let server = match &input.server {
        Some(key) => Some(server_id(&st, key)?),
        None => None,
    };
    st.rt.next_failure_id += 1;
    let rule = InjectedFailure {
        id: st.rt.next_failure_id,
        endpoint,
        server,
        remaining: input.count.max(1),
        action,
    };
    st.rt.failures.push(rule.clone());
    Ok(HttpResponse::Created().json(rule))
}

async fn list_failures(sim: web::Data<Sim>) -> AdminResult {
    let failures = sim.lock().rt.failures.clone();
    Ok(HttpResponse::Ok().json(FailuresOut { failures }))
}

async fn clear_failures(sim: web::Data<Sim>) -> AdminResult {
    sim.lock().rt.failures.clear();
    Ok(HttpResponse::NoContent().finish())
}
