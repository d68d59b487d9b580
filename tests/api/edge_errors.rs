//! Errors of the HTTP layer carry Graph bodies: what the gateway answers before a request reaches
//! an operation (the documents' 404, 413, an oversized token's 401) and what actix-http answers
//! by itself before any service runs (414 for a URI over 64 KiB, 431 for a head over 128 KiB,
//! 400 for a control byte in a header or a raw `<` or `"` in the target, 408 for a head that
//! never finishes: `src/http/wire.rs`), over plain HTTP and over TLS; ordinary requests on the
//! same server, and on the same connection before the error, are untouched.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

use crate::connections::{SETTINGS, addr_of, exchange, graph_error};
use crate::helpers::{Backend, READ, TestApp};
use crate::on_both_backends;

/// The requests actix-http refuses itself, with the status and Graph code each must get.
fn refused_by_actix() -> Vec<(&'static str, String, u16, &'static str)> {
    vec![
        (
            "URI over 64 KiB",
            format!(
                "GET /beta/{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(70_000)
            ),
            414,
            "RequestUriTooLong",
        ),
        (
            "URI over the 128 KiB head buffer",
            format!(
                "GET /beta/{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(140_000)
            ),
            414,
            "RequestUriTooLong",
        ),
        (
            "a 133 KB bearer token",
            format!(
                "GET {SETTINGS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
                "a".repeat(133_000)
            ),
            431,
            "RequestHeaderFieldsTooLarge",
        ),
        (
            "a control byte in Authorization",
            format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\r\n\r\n"),
            400,
            "BadRequest",
        ),
        (
            "a raw quote and < in the target",
            format!("GET {SETTINGS}?$filter=\"< HTTP/1.1\r\nHost: x\r\n\r\n"),
            400,
            "BadRequest",
        ),
    ]
}

/// Asserts a raw answer is `status` with a Graph body of `code`, a JSON content type, a
/// content length that fits the body and request ids.
fn assert_graph_answer(case: &str, answer: &str, status: u16, code: &str) {
    assert_eq!(
        graph_error(answer),
        (status, code.to_owned()),
        "{case}: {answer}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("\r\ncontent-type: application/json"),
        "{case}: {answer}"
    );
    assert!(
        head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
        "{case}: {answer}"
    );
    assert!(head.contains("\r\nrequest-id: "), "{case}: {answer}");
    let body: Value = serde_json::from_str(body).unwrap();
    let inner = &body["error"]["innerError"];
    assert!(inner["request-id"].is_string(), "{case}: {body}");
    assert!(inner["date"].is_string(), "{case}: {body}");
    assert!(body["error"]["message"].is_string(), "{case}: {body}");
}

/// Sends `request` until an answer arrives: closing with the rest of an oversized head unread
/// makes the kernel send a reset, which can overtake the answer; a few tries see it.
async fn answer_to(addr: SocketAddr, request: &str) -> String {
    let mut answer = String::new();
    for _ in 0..5 {
        answer = exchange(addr, request.to_owned()).await;
        if !answer.is_empty() {
            break;
        }
    }
    answer
}

async fn http_layer_errors_carry_graph_bodies(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.max_body_bytes = 1000).await;
    let addr = addr_of(&app.base);
    let token = app.token_for(app.tenant, &[READ]);
    let auth = format!("Authorization: Bearer {token}\r\n");
    // The documents answer a Graph 404, also to a traversal attempt.
    for path in [
        "/docs/..%2f..",
        "/docs/..%2F..%2Fetc%2Fpasswd",
        "/docs/secrets.txt",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = exchange(addr, request).await;
        assert_graph_answer(path, &answer, 404, "ResourceNotFound");
    }
    // A body over the limit: 413 with a Graph body, before it is read.
    let big = format!(
        "POST {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: 5000\r\nConnection: close\r\n\r\n"
    );
    let answer = exchange(addr, big).await;
    assert_graph_answer("413", &answer, 413, "RequestEntityTooLarge");
    // A token over max_token_bytes but within the head limit reaches the gateway: Graph 401.
    let long = format!(
        "GET {SETTINGS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        "a".repeat(100_000)
    );
    let answer = exchange(addr, long).await;
    assert_graph_answer("long token", &answer, 401, "InvalidAuthenticationToken");

    for (case, request, status, code) in refused_by_actix() {
        let answer = answer_to(addr, &request).await;
        assert_graph_answer(case, &answer, status, code);
    }

    // On one keep-alive connection: an ordinary request is answered as ever, then a malformed
    // one gets the Graph 400 and the connection is closed.
    let ordinary = format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
    let malformed = format!("GET {SETTINGS} HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n");
    let (first, second) = two_on_one_connection(addr, &ordinary, &malformed).await;
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(first.contains("\"value\""), "{first}");
    assert_graph_answer("after a good request", &second, 400, "BadRequest");

    // The server is unaffected: an ordinary request and an ordinary Graph error as before.
    let resp = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .get(format!("{}{SETTINGS}/not-a-guid", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
}

/// Sends `first`, reads its whole answer (the body has a content length), then sends `second`
/// on the same connection and reads until the server closes.
async fn two_on_one_connection(addr: SocketAddr, first: &str, second: &str) -> (String, String) {
    let (first, second) = (first.to_owned(), second.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        stream.write_all(first.as_bytes()).unwrap();
        let first_answer = read_one_answer(&mut stream);
        stream.write_all(second.as_bytes()).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        (first_answer, String::from_utf8_lossy(&rest).into_owned())
    })
    .await
    .unwrap()
}

/// Reads one answer with a `content-length` from `stream`.
fn read_one_answer(stream: &mut impl Read) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|n| n.parse::<usize>().unwrap())
                })
                .expect("a content length");
            if body.len() >= length {
                return text;
            }
        }
        let n = stream.read(&mut byte).expect("the answer");
        assert!(n > 0, "closed early: {text}");
        got.extend_from_slice(&byte[..n]);
    }
}

/// Writes `request` over TLS (HTTP/1.1 by ALPN) and reads until the server closes.
async fn tls_exchange(addr: SocketAddr, cert: std::path::PathBuf, request: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&cert).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let _ = tls.write_all(request.as_bytes());
        let mut answer = Vec::new();
        // The server closes without close_notify after an error (an unexpected EOF); the
        // answer read before that is what counts.
        let _ = tls.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

async fn http_layer_errors_carry_graph_bodies_over_tls(backend: Backend) {
    let app = TestApp::spawn_tls(backend).await;
    let addr = addr_of(&app.base);
    let cert = app.tls_cert.clone().expect("a TLS gateway");
    for (case, request, status, code) in refused_by_actix() {
        let mut answer = String::new();
        for _ in 0..5 {
            answer = tls_exchange(addr, cert.clone(), request.clone()).await;
            if !answer.is_empty() {
                break;
            }
        }
        assert_graph_answer(case, &answer, status, code);
    }
    // HTTP/2 and HTTP/1.1 keep working.
    for client in [
        app.client_with(reqwest::ClientBuilder::http1_only),
        app.client_with(|b| b),
    ] {
        let resp = client
            .get(format!("{}{SETTINGS}", app.base))
            .bearer_auth(app.token_for(app.tenant, &[READ]))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}

on_both_backends!(
    http_layer_errors_carry_graph_bodies,
    http_layer_errors_carry_graph_bodies_over_tls,
);
