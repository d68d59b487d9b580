//! A real HTTP receiver of change notifications for the tests: answers Graph's validation
//! handshake (or fails it, as told), records every delivery, and can be switched to refuse
//! deliveries (a receiver that is down) and back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Echoes validation tokens, accepts deliveries with 202.
    Accept,
    /// Answers everything 503 (down).
    Down,
    /// Answers the handshake 200 with the wrong text.
    WrongEcho,
    /// Answers the handshake only after this many seconds.
    Slow(u64),
    /// Records deliveries but answers none until the mode changes (a receiver that hangs).
    Hold,
}

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Path and query string.
    pub target: String,
    /// The gateway's signature header, if sent.
    pub signature: Option<String>,
    /// The raw body.
    pub raw: Vec<u8>,
    /// The body as JSON.
    pub body: Value,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    validations: Vec<String>,
    deliveries: Vec<Delivery>,
    refused: usize,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:port`.
    pub base: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let query = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "validationToken")
        .map(|(_, v)| v.into_owned());
    let mode = state.lock().unwrap().mode.unwrap_or(Mode::Accept);
    if let Some(token) = query {
        state.lock().unwrap().validations.push(token.clone());
        return match mode {
            Mode::Accept | Mode::Hold => HttpResponse::Ok().content_type("text/plain").body(token),
            Mode::Down => HttpResponse::ServiceUnavailable().finish(),
            Mode::WrongEcho => HttpResponse::Ok().content_type("text/plain").body("hello"),
            Mode::Slow(secs) => {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                HttpResponse::Ok().content_type("text/plain").body(token)
            }
        };
    }
    if mode == Mode::Down {
        state.lock().unwrap().refused += 1;
        return HttpResponse::ServiceUnavailable().finish();
    }
    let delivery = Delivery {
        target: req.uri().to_string(),
        signature: req
            .headers()
            .get("X-DepGateway-Signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    state.lock().unwrap().deliveries.push(delivery);
    while mode == Mode::Hold && state.lock().unwrap().mode == Some(Mode::Hold) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    HttpResponse::Accepted().finish()
}

impl Receiver {
    /// Starts a receiver on a free loopback port.
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(answer))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("receiver bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base: format!("http://{addr}"),
            state,
            server: handle,
        }
    }

    /// A URL of this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Changes how it answers.
    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().unwrap().deliveries.clone()
    }

    /// Validation requests received so far.
    pub fn validations(&self) -> usize {
        self.state.lock().unwrap().validations.len()
    }

    /// Deliveries refused while down.
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    /// Every notification received, in arrival order.
    pub fn notifications(&self) -> Vec<Value> {
        self.deliveries()
            .iter()
            .flat_map(|d| d.body["value"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.server.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}
