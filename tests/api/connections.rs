//! Connection-level hardening over raw TCP: a body that never arrives, `CONNECT` and protocol
//! upgrades are answered with Graph errors and the connection is closed; idle and half-sent
//! connections are closed; an authenticated client opening a thousand pinning connections under
//! `ulimit -n 1024` does not stop `/healthz` from answering.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dep_gateway::auth::{DevAuthority, TokenRequest};
use dep_gateway::domain::ids::TenantId;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Backend, READ, TestApp};
use crate::on_both_backends;

pub(crate) const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

/// Longest a test waits for the server to answer or close; only a hang reaches it.
const HANG: Duration = Duration::from_secs(30);

pub(crate) fn addr_of(base: &str) -> SocketAddr {
    let url = url::Url::parse(base).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
        .parse()
        .unwrap()
}

/// Writes `request` and reads until the server closes the connection.
pub(crate) async fn exchange(addr: SocketAddr, request: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(HANG)).unwrap();
        // The server may close before all of an oversized request is written; its answer is
        // still there to read.
        let _ = stream.write_all(request.as_bytes());
        let mut answer = Vec::new();
        // An error other than the hang guard (a reset after the answer) also ends the exchange.
        if let Err(e) = stream.read_to_end(&mut answer) {
            assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the server neither answered nor closed: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

/// The status and the Graph error code of a raw HTTP/1.1 answer.
pub(crate) fn graph_error(answer: &str) -> (u16, String) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let (_, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no body: {answer:?}"));
    let body: Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not a Graph body: {answer:?}"));
    (status, body["error"]["code"].as_str().unwrap().to_owned())
}

async fn endless_requests_get_graph_errors_and_are_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http_body_timeout_secs = 1;
        s.http_head_timeout_secs = 1;
        s.http_keep_alive_secs = 1;
    })
    .await;
    let addr = addr_of(&app.base);
    let token = app.token_for(app.tenant, &[READ]);
    let auth = format!("Authorization: Bearer {token}\r\n");
    // The reproduction: a body that is announced and never sent.
    let pinning = format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 10\r\n\r\n");
    let answer = exchange(addr, pinning).await;
    assert_eq!(
        graph_error(&answer),
        (408, "RequestTimeout".to_owned()),
        "{answer}"
    );
    // Half the body, then nothing.
    let trickle =
        format!("POST {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 100\r\n\r\n{{\"tok");
    let answer = exchange(addr, trickle).await;
    assert_eq!(graph_error(&answer).0, 408, "{answer}");

    for (case, request, status) in [
        (
            "CONNECT to an authority",
            format!("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n{auth}\r\n"),
            405,
        ),
        (
            "CONNECT to a path",
            format!("CONNECT {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
            405,
        ),
        (
            "websocket upgrade",
            format!(
                "GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}Connection: Upgrade\r\n\
                 Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
            400,
        ),
        (
            "h2c upgrade",
            format!(
                "GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}Connection: Upgrade, HTTP2-Settings\r\n\
                 Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
            ),
            400,
        ),
    ] {
        let answer = exchange(addr, request).await;
        let (got, code) = graph_error(&answer);
        assert_eq!(got, status, "{case}: {answer}");
        assert!(!code.is_empty(), "{case}");
    }

    // An idle keep-alive connection is closed after its answer; a half-sent head is closed too.
    let keep_alive = format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
    let answer = exchange(addr, keep_alive).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A head that never finishes gets actix-http's 408, with a Graph body (crate::edge_errors).
    let half_head = format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n");
    let answer = exchange(addr, half_head).await;
    assert_eq!(
        graph_error(&answer),
        (408, "RequestTimeout".to_owned()),
        "{answer}"
    );
}

/// A free local port (bound, then released for the child to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The gateway binary as a child under `ulimit -n 1024`, killed on drop.
struct LimitedGateway(Child);

impl Drop for LimitedGateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn healthz(client: &reqwest::Client, base: &str) -> Option<u16> {
    let resp = client.get(format!("{base}/healthz")).send().await.ok()?;
    Some(resp.status().as_u16())
}

/// No connection reuse: each /healthz must get a new connection accepted.
fn healthz_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Starts the binary under `ulimit -n 1024` and waits until `/healthz` answers.
async fn start_limited_gateway(
    dir: &std::path::Path,
    database_url: &str,
) -> (LimitedGateway, DevAuthority, u16) {
    let audience = "api://dep-gateway";
    let authority = DevAuthority::load_or_create(dir, audience).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" serve")
        .arg(env!("CARGO_BIN_EXE_dep-gateway"))
        .env_remove("DEP_GATEWAY_CONFIG")
        .env("DEP_GATEWAY_TEST_POSTGRES_URL", "postgres://unused")
        .env("DEP_GATEWAY_BIND", format!("127.0.0.1:{port}"))
        .env("DEP_GATEWAY_DATA_DIR", dir)
        .env("DEP_GATEWAY_DATABASE_URL", database_url)
        .env("DEP_GATEWAY_WORKERS", "2")
        .env("DEP_GATEWAY_SYNC_INTERVAL_SECS", "0")
        // Long enough that /healthz answering proves the connection cap, not the body timeout.
        .env("DEP_GATEWAY_HTTP_BODY_TIMEOUT_SECS", "120")
        .env("DEP_GATEWAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = LimitedGateway(child);
    let client = healthz_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    while healthz(&client, &base).await != Some(200) {
        assert!(Instant::now() < deadline, "the gateway did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, authority, port)
}

async fn pinning_a_thousand_connections_leaves_healthz_answering(backend: Backend) {
    // The in-process gateway only provides the PostgreSQL database; on SQLite the child gets a
    // file of its own (a SQLite file belongs to one gateway process).
    let app = TestApp::spawn(backend).await;
    let dir = std::env::temp_dir().join(format!("dep-gateway-pin-{}", Uuid::new_v4()));
    let database_url = match backend {
        Backend::Postgres => app.database_url(),
        Backend::Sqlite => format!("sqlite://{}", dir.join("pin.db").display()),
    };
    let (_child, authority, port) = start_limited_gateway(&dir, &database_url).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = healthz_client();
    let token = authority
        .mint(&TokenRequest {
            tenant: TenantId::new(Uuid::new_v4()),
            scopes: vec![READ.to_owned()],
            roles: vec![],
            ttl_secs: 600,
        })
        .unwrap();
    let pinning = format!(
        "GET {SETTINGS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 10\r\n\r\n"
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // A thousand connections, each sending the pinning request; the streams are held open.
    let pinned = tokio::task::spawn_blocking(move || {
        (0..1000)
            .filter_map(|_| {
                let mut stream = TcpStream::connect(addr).ok()?;
                stream.write_all(pinning.as_bytes()).ok()?;
                Some(stream)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(
        pinned.len() > 900,
        "only {} connections opened",
        pinned.len()
    );
    // While they are held, /healthz answers (on a fresh connection each time).
    for _ in 0..5 {
        assert_eq!(
            healthz(&client, &base).await,
            Some(200),
            "healthz while pinned"
        );
    }
    // The connections beyond the cap were answered with a Graph 503 at once and closed.
    let refused = tokio::task::spawn_blocking(move || {
        pinned
            .into_iter()
            .rev()
            .take(100)
            .filter_map(|mut stream| {
                stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer).ok()?;
                Some(String::from_utf8_lossy(&answer).into_owned())
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(!refused.is_empty(), "no connection was refused");
    for answer in &refused {
        assert_eq!(
            graph_error(answer),
            (503, "serviceNotAvailable".to_owned()),
            "{answer}"
        );
        assert!(
            answer.to_ascii_lowercase().contains("retry-after:"),
            "{answer}"
        );
    }
    assert_eq!(healthz(&client, &base).await, Some(200), "healthz after");
    let _ = std::fs::remove_dir_all(&dir);
}

on_both_backends!(
    endless_requests_get_graph_errors_and_are_closed,
    pinning_a_thousand_connections_leaves_healthz_answering,
);
