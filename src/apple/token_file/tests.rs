//! Round trips, encodings and failure modes of server token files.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, TimeZone, Utc};

use super::*;

/// One key pair for the whole module: RSA generation is the slow part.
fn pair() -> &'static (String, String) {
    static PAIR: OnceLock<(String, String)> = OnceLock::new();
    PAIR.get_or_init(|| generate_key_and_certificate("depserver").unwrap())
}

fn creds() -> ServerTokenCredentials {
    ServerTokenCredentials::generate(Utc.with_ymd_and_hms(2031, 7, 1, 22, 18, 53).unwrap())
}

fn body_bytes(p7m: &str) -> Vec<u8> {
    let body: String = p7m.split("\n\n").nth(1).unwrap().lines().collect();
    STANDARD.decode(body).unwrap()
}

#[test]
fn round_trips_with_both_ciphers_and_encodings() {
    let (key, cert) = pair();
    for cipher in [TokenCipher::Aes256Cbc, TokenCipher::Des3Cbc] {
        for encoding in [TokenEncoding::Ber, TokenEncoding::Der] {
            let original = creds();
            let p7m = make_server_token_p7m_with(&original, cert, cipher, encoding).unwrap();
            let read = read_server_token_p7m(&p7m, key, cert).unwrap();
            assert_eq!(read, original, "{cipher:?} {encoding:?}");
        }
    }
}

#[test]
fn default_output_is_apple_shaped_indefinite_length_ber() {
    let (_, cert) = pair();
    let p7m = make_server_token_p7m(&creds(), cert, TokenCipher::Aes256Cbc).unwrap();
    assert!(p7m.starts_with(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n\
         Content-Transfer-Encoding: base64\n"
    ));
    assert!(p7m.lines().skip(5).all(|l| l.len() <= 76));
    let ber = body_bytes(&p7m);
    // SEQUENCE (indefinite) { OID envelopedData, [0] (indefinite) { SEQUENCE (indefinite) …
    assert_eq!(&ber[..2], &[0x30, 0x80]);
    assert_eq!(
        &ber[2..13],
        &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03
        ]
    );
    assert_eq!(&ber[13..17], &[0xa0, 0x80, 0x30, 0x80]);
    assert_eq!(
        &ber[ber.len() - 4..],
        &[0, 0, 0, 0],
        "end-of-contents octets"
    );

    let der = body_bytes(
        &make_server_token_p7m_with(&creds(), cert, TokenCipher::Aes256Cbc, TokenEncoding::Der)
            .unwrap(),
    );
    assert_eq!(&der[..2], &[0x30, 0x82], "DER has definite lengths");
}

#[test]
fn reads_raw_ber_and_bare_base64_and_openssl_smime() {
    let (key, cert) = pair();
    let original = creds();
    let p7m = make_server_token_p7m(&original, cert, TokenCipher::Des3Cbc).unwrap();
    let ber = body_bytes(&p7m);
    assert_eq!(read_server_token_bytes(&ber, key, cert).unwrap(), original);
    let bare = STANDARD.encode(&ber);
    assert_eq!(read_server_token_p7m(&bare, key, cert).unwrap(), original);
    let crlf = p7m.replace('\n', "\r\n");
    assert_eq!(read_server_token_p7m(&crlf, key, cert).unwrap(), original);
}

#[test]
fn a_token_for_a_bare_public_key_decrypts_with_the_private_key() {
    let (key, cert) = pair();
    let public_pem = X509::from_pem(cert.as_bytes())
        .unwrap()
        .public_key()
        .unwrap()
        .public_key_to_pem()
        .unwrap();
    let original = creds();
    let p7m = make_server_token_p7m(
        &original,
        std::str::from_utf8(&public_pem).unwrap(),
        TokenCipher::Aes256Cbc,
    )
    .unwrap();
    assert_eq!(read_server_token_p7m(&p7m, key, cert).unwrap(), original);
}

#[test]
fn another_key_pair_is_the_wrong_key() {
    let (_, cert) = pair();
    let (other_key, other_cert) = generate_key_and_certificate("other").unwrap();
    let p7m = make_server_token_p7m(&creds(), cert, TokenCipher::Aes256Cbc).unwrap();
    assert_eq!(
        read_server_token_p7m(&p7m, &other_key, &other_cert),
        Err(TokenFileError::WrongKey)
    );
}

#[test]
fn mismatched_key_and_certificate_are_rejected_up_front() {
    let (key, _) = pair();
    let (_, other_cert) = generate_key_and_certificate("other").unwrap();
    let err = read_server_token_p7m("x", key, &other_cert).unwrap_err();
    assert!(
        matches!(err, TokenFileError::InvalidKeyMaterial(_)),
        "{err:?}"
    );
    let err = read_server_token_p7m("x", "not a key", &other_cert).unwrap_err();
    assert!(
        matches!(err, TokenFileError::InvalidKeyMaterial(_)),
        "{err:?}"
    );
}

#[test]
fn truncated_tokens_are_reported_as_truncated() {
    let (key, cert) = pair();
    for encoding in [TokenEncoding::Ber, TokenEncoding::Der] {
        let p7m =
            make_server_token_p7m_with(&creds(), cert, TokenCipher::Aes256Cbc, encoding).unwrap();
        for cut in [p7m.len() / 2, p7m.len() - 10, 260, 263] {
            assert_eq!(
                read_server_token_p7m(&p7m[..cut], key, cert),
                Err(TokenFileError::Truncated),
                "{encoding:?} cut at {cut}"
            );
        }
        let raw = body_bytes(&p7m);
        assert_eq!(
            read_server_token_bytes(&raw[..raw.len() - 20], key, cert),
            Err(TokenFileError::Truncated)
        );
    }
}

#[test]
fn garbage_is_garbage() {
    let (key, cert) = pair();
    for input in [
        "",
        "hello world",
        "Content-Type: text/plain\n\nnot base64 at all!",
        "aGVsbG8gd29ybGQ=",
        "Content-Type: x\n\nü",
    ] {
        assert_eq!(
            read_server_token_p7m(input, key, cert),
            Err(TokenFileError::Garbage),
            "{input:?}"
        );
    }
    assert_eq!(
        read_server_token_bytes(&[0x30, 0x03, 0x02, 0x01, 0x00], key, cert),
        Err(TokenFileError::Garbage)
    );
}

#[test]
fn payload_is_exactly_apples_format() {
    let c = ServerTokenCredentials {
        consumer_key: "CK_a".into(),
        consumer_secret: "CS_b".into(),
        access_token: "AT_c".into(),
        access_secret: "AS_d".into(),
        access_token_expiry: Utc.with_ymd_and_hms(2023, 7, 1, 22, 18, 53).unwrap(),
    };
    assert_eq!(
        token_payload(&c),
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
         -----BEGIN MESSAGE-----\n\
         {\"consumer_key\":\"CK_a\",\"consumer_secret\":\"CS_b\",\"access_token\":\"AT_c\",\
         \"access_secret\":\"AS_d\",\"access_token_expiry\":\"2023-07-01T22:18:53Z\"}\n\
         -----END MESSAGE-----\n"
    );
}

#[test]
fn payload_parser_tolerates_line_endings_and_spanning_json() {
    let json = "{\"consumer_key\":\"CK_a\",\r\n\"consumer_secret\":\"CS_b\",\"access_token\":\"AT_c\",\
                \"access_secret\":\"AS_d\",\"access_token_expiry\":\"2023-07-01T22:18:53Z\"}";
    let wrapped = format!(
        "Content-Type: text/plain\r\n\r\n-----BEGIN MESSAGE-----\r\n{json}\r\n-----END MESSAGE-----\r\n"
    );
    for text in [wrapped.as_str(), json] {
        let c = parse_token_payload(text).unwrap();
        assert_eq!(c.access_secret, "AS_d");
        assert_eq!(
            c.access_token_expiry.to_rfc3339(),
            "2023-07-01T22:18:53+00:00"
        );
    }
    let empty = json.replace("AS_d", " ");
    assert!(matches!(
        parse_token_payload(&empty),
        Err(TokenFileError::InvalidPayload(_))
    ));
    assert!(matches!(
        parse_token_payload("{}"),
        Err(TokenFileError::InvalidPayload(_))
    ));
}

#[test]
fn expiry_is_a_separate_check() {
    let mut c = creds();
    let now = Utc::now();
    assert_eq!(check_not_expired(&c, now), Ok(()));
    c.access_token_expiry = now - Duration::seconds(1);
    assert_eq!(
        check_not_expired(&c, now),
        Err(TokenFileError::Expired(c.access_token_expiry))
    );
}

#[test]
fn generated_certificate_follows_the_reference() {
    let (key, cert) = pair();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let cert = X509::from_pem(cert.as_bytes()).unwrap();
    let cn = cert
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .unwrap();
    assert_eq!(cn.data().to_string().unwrap(), "depserver");
    assert_eq!(cert.public_key().unwrap().bits(), 2048);
    assert_eq!(
        cert.signature_algorithm().object().nid(),
        openssl::nid::Nid::SHA256WITHRSAENCRYPTION
    );
    let in_a_year = openssl::asn1::Asn1Time::days_from_now(CERT_VALIDITY_DAYS - 1).unwrap();
    assert!(cert.not_after() > in_a_year);
    assert!(cert.not_before() < openssl::asn1::Asn1Time::days_from_now(0).unwrap());
}

#[test]
fn debug_output_hides_secrets() {
    let c = creds();
    let shown = format!("{c:?}");
    assert!(!shown.contains(&c.consumer_secret) && !shown.contains(&c.access_secret));
}
