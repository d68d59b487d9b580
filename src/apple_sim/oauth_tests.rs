//! Verification of `/session` requests, starting from the RFC 5849 §1.2 example request.

use actix_web::test::TestRequest;
use chrono::{DateTime, TimeZone};

use super::*;
use crate::apple::oauth::{OAuthKeys, sign_request};
use crate::apple_sim::server::{MdmServer, OrgInput};

const RFC_HEADER: &str = "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
    oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA1\", \
    oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", \
    oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"";

fn rfc_time() -> DateTime<Utc> {
    Utc.timestamp_opt(137_131_202, 0).unwrap()
}

/// A state with one server holding the RFC 5849 §1.2 credentials.
fn rfc_state() -> (SimState, String) {
    let mut st = SimState::default();
    let mut server = MdmServer::new("photos", OrgInput::default(), rfc_time());
    server.credentials.consumer_key = "dpf43f3p2l4k3l03".into();
    server.credentials.consumer_secret = "kd94hf93k423kf44".into();
    server.credentials.access_token = "nnch734d00sl2jdk".into();
    server.credentials.access_secret = "pfkkdhi9sl3r4s00".into();
    let id = server.id.clone();
    st.servers.insert(id.clone(), server);
    (st, id)
}

fn rfc_request(header: &str) -> HttpRequest {
    TestRequest::get()
        .uri("/photos?file=vacation.jpg&size=original")
        .insert_header(("Host", "photos.example.net"))
        .insert_header(("Authorization", header))
        .to_http_request()
}

fn problem(err: &SimError) -> String {
    err.headers
        .iter()
        .find(|(n, _)| n == "WWW-Authenticate")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[test]
fn accepts_the_rfc_5849_example_request_once() {
    let (mut st, id) = rfc_state();
    let req = rfc_request(RFC_HEADER);
    assert_eq!(verify_session_request(&mut st, &req, rfc_time()), Ok(id));
    let again = verify_session_request(&mut st, &req, rfc_time()).unwrap_err();
    assert_eq!(again.status.as_u16(), 401);
    assert!(problem(&again).contains("nonce_used"));
}

#[test]
fn rejects_a_tampered_signature_or_url() {
    let (mut st, _) = rfc_state();
    let tampered = RFC_HEADER.replace("MdpQ", "MdpR");
    let err = verify_session_request(&mut st, &rfc_request(&tampered), rfc_time()).unwrap_err();
    assert!(problem(&err).contains("signature_invalid"), "{err:?}");
    let other_path = TestRequest::get()
        .uri("/photos?file=other.jpg&size=original")
        .insert_header(("Host", "photos.example.net"))
        .insert_header(("Authorization", RFC_HEADER))
        .to_http_request();
    let err = verify_session_request(&mut st, &other_path, rfc_time()).unwrap_err();
    assert!(problem(&err).contains("signature_invalid"), "{err:?}");
}

#[test]
fn rejects_stale_timestamps_unknown_keys_and_wrong_tokens() {
    let (mut st, _) = rfc_state();
    let late = rfc_time() + chrono::Duration::seconds(301);
    let err = verify_session_request(&mut st, &rfc_request(RFC_HEADER), late).unwrap_err();
    assert!(problem(&err).contains("timestamp_refused"));
    let unknown = RFC_HEADER.replace("dpf43f3p2l4k3l03", "CK_other");
    let err = verify_session_request(&mut st, &rfc_request(&unknown), rfc_time()).unwrap_err();
    assert!(problem(&err).contains("consumer_key_unknown"));
    let token = RFC_HEADER.replace("nnch734d00sl2jdk", "AT_other");
    let err = verify_session_request(&mut st, &rfc_request(&token), rfc_time()).unwrap_err();
    assert!(problem(&err).contains("token_rejected"));
}

#[test]
fn rejects_an_expired_server_token() {
    let (mut st, id) = rfc_state();
    st.servers
        .get_mut(&id)
        .unwrap()
        .credentials
        .access_token_expiry = rfc_time();
    let err = verify_session_request(&mut st, &rfc_request(RFC_HEADER), rfc_time()).unwrap_err();
    assert_eq!(err.status.as_u16(), 401);
    assert!(problem(&err).contains("token_expired"));
}

#[test]
fn malformed_parameters_are_bad_requests() {
    let (mut st, _) = rfc_state();
    for header in [
        RFC_HEADER.replace("HMAC-SHA1", "PLAINTEXT"),
        RFC_HEADER.replace("oauth_nonce=\"chapoH\", ", ""),
        format!("{RFC_HEADER}, oauth_nonce=\"again\""),
        format!("{RFC_HEADER}, oauth_callback=\"oob\""),
        RFC_HEADER.replace("oauth_timestamp=\"137131202\"", "oauth_timestamp=\"soon\""),
        "Basic abc".to_owned(),
    ] {
        let err = verify_session_request(&mut st, &rfc_request(&header), rfc_time()).unwrap_err();
        assert_eq!(err.status.as_u16(), 400, "{header}");
    }
    let no_header = TestRequest::get().uri("/session").to_http_request();
    let err = verify_session_request(&mut st, &no_header, rfc_time()).unwrap_err();
    assert_eq!(err.status.as_u16(), 400);
}

#[test]
fn accepts_what_the_shared_signer_produces() {
    let (mut st, id) = rfc_state();
    let creds = st.servers[&id].credentials.clone();
    let keys: OAuthKeys<'_> = creds.oauth_keys();
    let url = url::Url::parse("http://127.0.0.1:8089/session").unwrap();
    let now = Utc::now();
    let header = sign_request("GET", &url, &keys, now.timestamp(), "n1");
    let req = TestRequest::get()
        .uri("/session")
        .insert_header(("Host", "127.0.0.1:8089"))
        .insert_header(("Authorization", header))
        .to_http_request();
    st.servers
        .get_mut(&id)
        .unwrap()
        .credentials
        .access_token_expiry = now + chrono::Duration::days(1);
    assert_eq!(verify_session_request(&mut st, &req, now), Ok(id));
}
