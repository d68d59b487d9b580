//! Unit tests of the OAuth 1.0a signing primitives against the RFC 5849 and RFC 2202 vectors.

use super::*;

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    lower_hex(bytes)
}

#[test]
fn hmac_sha1_matches_rfc_2202() {
    assert_eq!(
        hex(&hmac_sha1(&[0x0b; 20], b"Hi There")),
        "b617318655057264e28bc0b6fb378c8ef146be00"
    );
    assert_eq!(
        hex(&hmac_sha1(
            &[0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "aa4ae5e15272d00e95705637ce8a3b55ed402112"
    );
}

#[test]
fn base_string_matches_rfc_5849_section_3_4_1_1() {
    let url = Url::parse("http://EXAMPLE.com:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").unwrap();
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    params.extend(pairs(&[
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("c2", ""),
        ("a3", "2 q"),
    ]));
    let base = signature_base_string("post", &base_string_uri(&url), &params);
    assert_eq!(
        base,
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
         %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
         key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
         ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
         9d7dh3k39sjv7"
    );
}

#[test]
fn signature_matches_rfc_5849_section_1_2() {
    let url =
        Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original").unwrap();
    let oauth = pairs(&[
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]);
    let sig = request_signature("GET", &url, &oauth, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00");
    assert_eq!(sig, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    let verify = |sig: &str, token_secret: &str| {
        verify_request_signature("GET", &url, &oauth, "kd94hf93k423kf44", token_secret, sig)
    };
    assert!(verify("MdpQcU8iPSUjWoN/UDMsK2sui9I=", "pfkkdhi9sl3r4s00"));
    assert!(!verify("MdpQcU8iPSUjWoN/UDMsK2sui9I=", "pfkkdhi9sl3r4s01"));
    assert!(!verify("NdpQcU8iPSUjWoN/UDMsK2sui9I=", "pfkkdhi9sl3r4s00"));
    assert!(!verify("MdpQcU8iPSUjWoN/UDMsK2sui9", "pfkkdhi9sl3r4s00"));
    assert!(!verify("not base64!", "pfkkdhi9sl3r4s00"));
}

#[test]
fn base_string_uri_keeps_non_default_ports_only() {
    let uri = |s: &str| base_string_uri(&Url::parse(s).unwrap());
    assert_eq!(
        uri("https://MDMenrollment.apple.com:443/session"),
        "https://mdmenrollment.apple.com/session"
    );
    assert_eq!(
        uri("http://127.0.0.1:8089/session?x=1"),
        "http://127.0.0.1:8089/session"
    );
}

#[test]
fn signed_header_parses_back_and_verifies() {
    let keys = OAuthKeys {
        consumer_key: "CK_1",
        consumer_secret: "CS_2 with space",
        access_token: "AT_3",
        access_secret: "AS_4&",
    };
    let url = Url::parse("http://127.0.0.1:1/session").unwrap();
    let header = sign_request("GET", &url, &keys, 1_700_000_000, "abc");
    assert!(header.starts_with("OAuth oauth_consumer_key=\"CK_1\""));
    let mut params = parse_authorization_header(&header).unwrap();
    let sig_at = params
        .iter()
        .position(|(k, _)| k == "oauth_signature")
        .unwrap();
    let (_, sig) = params.remove(sig_at);
    assert_eq!(
        request_signature(
            "GET",
            &url,
            &params,
            keys.consumer_secret,
            keys.access_secret
        ),
        sig
    );
}

#[test]
fn header_parser_rejects_other_schemes_and_garbage() {
    assert_eq!(
        parse_authorization_header("Bearer x"),
        Err(OAuthHeaderError::NotOAuth)
    );
    assert_eq!(
        parse_authorization_header("OAuth a=b"),
        Err(OAuthHeaderError::Malformed)
    );
    let parsed = parse_authorization_header("oauth realm=\"ADM\", oauth_nonce=\"a%20b\"").unwrap();
    assert_eq!(parsed, pairs(&[("realm", "ADM"), ("oauth_nonce", "a b")]));
}

#[test]
fn nonces_are_fresh() {
    assert_ne!(new_nonce(), new_nonce());
    assert_eq!(new_nonce().len(), 32);
}
