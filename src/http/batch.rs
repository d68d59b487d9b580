//! JSON batching: `POST /beta/$batch` (graph-http-conventions.md §9).
//!
//! The whole batch is checked first (shape, at most 20 requests, unique ids, known `dependsOn`
//! ids, no cycles); any fault answers `400` and runs nothing. Then the requests run in waves:
//! every request whose dependencies have answered runs, concurrently with the others of its
//! wave, through [`super::run`] — the path of a direct call, so each is authorised with the
//! batch's token and throttled on its own. A request whose dependency failed (status ≥ 400)
//! answers `424` without running.

use std::collections::HashMap;

use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Map, Value, json};

use super::context::RequestCtx;
use super::error::ApiError;
use super::path::{self, Segment};
use super::response::{Body, GraphResponse};
use super::{AppState, common_headers};
use crate::api::GraphRequest;

/// Most requests in one batch.
pub const MAX_REQUESTS: usize = crate::api::request::MAX_BATCH_REQUESTS;

/// Whether the path (below `/beta`) is `$batch`.
pub fn is_batch(segments: &[Segment]) -> bool {
    matches!(segments, [only] if only.is("$batch") && only.args.is_none())
}

/// One parsed request of a batch.
#[derive(Debug)]
struct SubRequest {
    /// The id as the client sent it, as a string.
    id: String,
    method: Method,
    url: String,
    client_request_id: Option<String>,
    body: Bytes,
    /// Indices of the requests this one waits for.
    depends_on: Vec<usize>,
}

/// Runs a batch for the authenticated caller in `outer`.
pub async fn execute(
    st: &AppState,
    outer: &RequestCtx,
    body: &[u8],
) -> Result<GraphResponse, ApiError> {
    let requests = parse(body)?;
    let waves = waves(&requests)?;
    let mut answers: Vec<Option<(StatusCode, Value)>> = vec![None; requests.len()];
    for wave in waves {
        // The first dependency that failed (status >= 400, 424 included), per request.
        let jobs: Vec<(usize, Option<String>)> = wave
            .iter()
            .map(|&i| {
                let failed = requests[i]
                    .depends_on
                    .iter()
                    .find(|&&d| answers[d].as_ref().is_some_and(|(s, _)| s.as_u16() >= 400));
                (i, failed.map(|&d| requests[d].id.clone()))
            })
            .collect();
        let runs = jobs.into_iter().map(|(i, failed)| {
            let req = &requests[i];
            async move { (i, run_one(st, outer, req, failed).await) }
        });
        for (i, answer) in futures_util::future::join_all(runs).await {
            answers[i] = Some(answer);
        }
    }
    let responses: Vec<Value> = answers.into_iter().flatten().map(|(_, v)| v).collect();
    Ok(GraphResponse::json(
        StatusCode::OK,
        &json!({ "responses": responses }),
    ))
}

/// Runs one request (or answers 424 for it) and renders its entry of `responses`.
async fn run_one(
    st: &AppState,
    outer: &RequestCtx,
    req: &SubRequest,
    failed_dependency: Option<String>,
) -> (StatusCode, Value) {
    let started = std::time::Instant::now();
    let (path, query) = req.url.split_once('?').unwrap_or((req.url.as_str(), ""));
    let mut ctx = RequestCtx::new(
        &st.public_url,
        &format!("/beta/{}", req.url.trim_start_matches('/')),
        Some(
            req.client_request_id
                .as_deref()
                .unwrap_or(&outer.client_request_id),
        ),
    );
    ctx.principal.clone_from(&outer.principal);
    ctx.client_ip.clone_from(&outer.client_ip);
    let result = match failed_dependency {
        Some(id) => Err(ApiError::FailedDependency(id)),
        None => match super::guard::check_request(path, query, &req.body)
            .and_then(|()| sub_segments(path))
        {
            Ok(segments) => {
                let graph_req = GraphRequest {
                    method: req.method.clone(),
                    segments,
                    query: query.to_owned(),
                    body: req.body.clone(),
                };
                super::run(st, &mut ctx, &graph_req).await
            }
            Err(e) => Err(e),
        },
    };
    let response = result.unwrap_or_else(|e| e.render(&ctx));
    // Each item counts as the operation it ran (the envelope counts as `$batch`).
    st.services.metrics.http_request(
        ctx.operation.unwrap_or(super::NO_OPERATION),
        response.status.as_u16(),
        started.elapsed(),
    );
    tracing::debug!(id = %req.id, method = %req.method, url = %req.url,
        status = response.status.as_u16(), "batch request served");
    (response.status, render(&req.id, response, &ctx))
}

/// The segments of a batch URL, relative to the version root.
fn sub_segments(path: &str) -> Result<Vec<Segment>, ApiError> {
    if path.contains("://") {
        return Err(ApiError::BadRequest(
            "Batch request URLs must be relative to the version root, e.g. \
             'deviceManagement/depOnboardingSettings'."
                .to_owned(),
        ));
    }
    let mut segments = path::split(path)?;
    // GRAPH-COMPAT: the JS client's BatchRequestContent turns absolute request URLs into
    // `/beta/...` (it strips only scheme and host), and Graph serves those; so a leading
    // version segment is dropped (real-clients.md §2, graph-http-conventions.md §9).
    if segments
        .first()
        .is_some_and(|s| s.is("beta") && s.args.is_none())
    {
        segments.remove(0);
    }
    Ok(segments)
}

/// `{"id","status","headers","body"}` of one response: JSON bodies embedded as JSON, text as a
/// string, no `body` for an empty one.
fn render(id: &str, response: GraphResponse, ctx: &RequestCtx) -> Value {
    let mut headers = Map::new();
    for (name, value) in common_headers(ctx) {
        headers.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    for (name, value) in response.headers {
        headers.insert(name.to_owned(), Value::String(value));
    }
    let body = match response.body {
        Body::Empty => None,
        Body::Json(bytes, content_type) => {
            headers.insert("Content-Type".to_owned(), content_type.into());
            Some(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }
        Body::Text(text) => {
            headers.insert("Content-Type".to_owned(), "text/plain".into());
            Some(Value::String(text))
        }
    };
    let mut out = Map::new();
    out.insert("id".to_owned(), Value::String(id.to_owned()));
    out.insert("status".to_owned(), response.status.as_u16().into());
    out.insert("headers".to_owned(), Value::Object(headers));
    if let Some(body) = body {
        out.insert("body".to_owned(), body);
    }
    Value::Object(out)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// Parses and checks the whole batch; every fault is a 400 for the batch as a whole.
fn parse(body: &[u8]) -> Result<Vec<SubRequest>, ApiError> {
    let root = crate::api::json_object(body)?;
    let Some(Value::Array(items)) = root.get("requests") else {
        return Err(bad(
            "Invalid batch payload format: 'requests' must be an array of requests.",
        ));
    };
    if items.is_empty() {
        return Err(bad("Invalid batch payload format: 'requests' is empty."));
    }
    if items.len() > MAX_REQUESTS {
        return Err(bad(format!(
            "Invalid batch payload format: {} requests exceed the limit of {MAX_REQUESTS}.",
            items.len()
        )));
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut raw_depends = Vec::with_capacity(items.len());
    let mut requests = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(bad(format!(
                "Invalid batch payload format: request {index} is not a JSON object."
            )));
        };
        let id = id_text(item.get("id")).ok_or_else(|| {
            bad(format!(
                "Request {index} needs an 'id': a non-empty string or an integer."
            ))
        })?;
        // GRAPH-COMPAT: ids are unique case-insensitively (graph-http-conventions.md §9).
        if ids.insert(id.to_lowercase(), index).is_some() {
            return Err(bad(format!("Request id '{id}' is used more than once.")));
        }
        let (request, depends_on) = parse_item(id, item)?;
        raw_depends.push(depends_on);
        requests.push(request);
    }
    for (req, depends) in requests.iter_mut().zip(raw_depends) {
        for d in depends {
            let index = *ids.get(&d.to_lowercase()).ok_or_else(|| {
                bad(format!(
                    "Request '{}' depends on '{d}', which is not in the batch.",
                    req.id
                ))
            })?;
            req.depends_on.push(index);
        }
    }
    Ok(requests)
}

/// One request object of the batch, its id already checked; returns it with the ids it names
/// in `dependsOn`.
fn parse_item(
    id: String,
    item: &Map<String, Value>,
) -> Result<(SubRequest, Vec<String>), ApiError> {
    let method = match item.get("method") {
        Some(Value::String(m)) => match m.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PATCH" => Method::PATCH,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            _ => {
                return Err(bad(format!(
                    "Request '{id}' has an unsupported method '{m}'."
                )));
            }
        },
        _ => return Err(bad(format!("Request '{id}' needs a 'method' string."))),
    };
    let url = match item.get("url") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.trim().to_owned(),
        _ => return Err(bad(format!("Request '{id}' needs a 'url' string."))),
    };
    let headers = match item.get("headers") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(h)) => h.clone(),
        Some(_) => {
            return Err(bad(format!(
                "The 'headers' of request '{id}' must be an object."
            )));
        }
    };
    let header = |name: &str| -> Result<Option<String>, ApiError> {
        match headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            None => Ok(None),
            Some((_, Value::String(v))) => Ok(Some(v.clone())),
            Some((k, _)) => Err(bad(format!(
                "Header '{k}' of request '{id}' must be a string."
            ))),
        }
    };
    let content_type = header("Content-Type")?;
    let client_request_id = header("client-request-id")?;
    let body = match item.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(body) => {
            if content_type.is_none() {
                return Err(bad(format!(
                    "Write request id : {id} does not contain Content-Type header or body."
                )));
            }
            match body {
                // Graph: a string body is base64 (for non-JSON payloads).
                Value::String(b64) => Bytes::from(
                    STANDARD
                        .decode(b64)
                        .or_else(|_| URL_SAFE.decode(b64))
                        .map_err(|_| {
                            bad(format!(
                                "The body of request '{id}' is a string but not base64."
                            ))
                        })?,
                ),
                other => Bytes::from(serde_json::to_vec(other).unwrap_or_default()),
            }
        }
    };
    let depends_on: Vec<String> = match item.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|d| {
                id_text(Some(d)).ok_or_else(|| {
                    bad(format!(
                        "The 'dependsOn' of request '{id}' must list request ids."
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(bad(format!(
                "The 'dependsOn' of request '{id}' must be an array."
            )));
        }
    };
    Ok((
        SubRequest {
            id,
            method,
            url,
            client_request_id,
            body,
            depends_on: Vec::new(),
        },
        depends_on,
    ))
}

/// An id as text: a non-empty string, or an integer (`IntuneCD` sends `"id": 1`).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Groups the requests into waves: each wave holds the requests whose dependencies are all in
/// earlier waves. A cycle is a 400.
fn waves(requests: &[SubRequest]) -> Result<Vec<Vec<usize>>, ApiError> {
    let mut done = vec![false; requests.len()];
    let mut left = requests.len();
    let mut waves = Vec::new();
    while left > 0 {
        let wave: Vec<usize> = (0..requests.len())
            .filter(|&i| !done[i] && requests[i].depends_on.iter().all(|&d| done[d]))
            .collect();
        if wave.is_empty() {
            return Err(bad("The 'dependsOn' references of the batch form a cycle."));
        }
        for &i in &wave {
            done[i] = true;
        }
        left -= wave.len();
        waves.push(wave);
    }
    Ok(waves)
}
