//! Unit tests of the vppToken rules and the `.vpptoken` parser.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::*;

const NOW: i64 = 17_583_006_515_063_355; // 2025-09-19T16:50:51.5063355Z

fn file(doc: &Value) -> String {
    STANDARD.encode(doc.to_string())
}

fn apple(exp: &str) -> String {
    file(&json!({"token": "t1XoUzpLEtpdla+nsxCdwrct0Rjw==", "expDate": exp, "orgName": "Contoso"}))
}

fn body(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn parses_apple_files_and_offsets() {
    let parsed = parse_vpptoken(&apple("2027-05-06T10:15:30-0700")).unwrap();
    assert_eq!(parsed.organization_name, "Contoso");
    assert_eq!(
        format_ticks(parsed.expiration),
        "2027-05-06T17:15:30.0000000Z"
    );
    assert_eq!(parsed.fingerprint.len(), 64);
    for exp in [
        "2027-05-06T17:15:30Z",
        "2027-05-06T19:15:30+02:00",
        "2027-05-06T17:15:30.000+0000",
    ] {
        assert_eq!(
            parse_vpptoken(&apple(exp)).unwrap().expiration,
            parsed.expiration,
            "{exp}"
        );
    }
    // Line breaks, surrounding blanks and missing padding are tolerated.
    let wrapped = apple("2027-05-06T10:15:30-0700");
    let (a, b) = wrapped.split_at(20);
    let relaxed = format!("  {a}\n{b}\n")
        .trim_end_matches(['=', '\n'])
        .to_owned();
    assert_eq!(parse_vpptoken(&relaxed).unwrap(), parsed);
}

#[test]
fn rejects_malformed_files_without_quoting_the_secret() {
    for (content, needle) in [
        (String::new(), "it is empty"),
        ("not base64!".to_owned(), "not Base64"),
        (STANDARD.encode("[1,2]"), "not a JSON object"),
        (STANDARD.encode("secret-garbage"), "not a JSON object"),
        (
            file(&json!({"expDate": "2027-05-06T10:15:30-0700", "orgName": "C"})),
            "'token'",
        ),
        (
            file(&json!({"token": "secret", "expDate": "2027-05-06T10:15:30-0700"})),
            "'orgName'",
        ),
        (
            file(&json!({"token": "secret", "orgName": "C"})),
            "'expDate'",
        ),
        (
            file(&json!({"token": "secret", "orgName": "C", "expDate": 5})),
            "'expDate'",
        ),
        (
            file(&json!({"token": "secret", "orgName": "C", "expDate": "soon"})),
            "'soon'",
        ),
    ] {
        let err = parse_vpptoken(&content).unwrap_err().message;
        assert!(err.contains(needle), "{content}: {err}");
        assert!(!err.contains("secret"), "{err}");
    }
}

#[test]
fn create_derives_and_refuses_expired_tokens() {
    let content = apple("2027-05-06T10:15:30-0700");
    let t = VppToken::create(
        "id".into(),
        &body(&json!({"token": content, "displayName": "Main"})),
        NOW,
    )
    .unwrap();
    assert_eq!(
        (t.organization_name.as_str(), t.state),
        ("Contoso", "valid")
    );
    assert_eq!(t.display_name.as_deref(), Some("Main"));
    assert!(!format!("{t:?}").contains(&content));
    let v = serde_json::to_value(&t).unwrap();
    assert!(v["token"].is_null());
    assert!(v.get("tokenFingerprint").is_none());
    let expired = VppToken::create(
        "id".into(),
        &body(&json!({"token": apple("2020-01-01T00:00:00Z")})),
        NOW,
    );
    assert!(
        expired
            .unwrap_err()
            .message
            .contains("expired on 2020-01-01T00:00:00.0000000Z")
    );
    let missing = VppToken::create("id".into(), &body(&json!({"displayName": "x"})), NOW);
    assert!(missing.unwrap_err().message.contains("'token' is required"));
}

#[test]
fn patch_rules_and_renewal() {
    let mut t = VppToken::create(
        "id".into(),
        &body(&json!({"token": apple("2027-05-06T10:15:30-0700")})),
        NOW,
    )
    .unwrap();
    let mut round_trip = serde_json::to_value(&t).unwrap();
    round_trip["displayName"] = json!("Renamed");
    t.apply(round_trip.as_object().unwrap(), NOW).unwrap();
    assert_eq!(t.display_name.as_deref(), Some("Renamed"));
    let before = t.clone();
    for (patch, needle) in [
        (
            json!({"organizationName": "Other"}),
            "'organizationName' is read-only",
        ),
        (json!({"state": "expired"}), "'state' is read-only"),
        (
            json!({"displayName": "x", "lastAppCount": 3}),
            "'lastAppCount' is read-only",
        ),
        (
            json!({"vppTokenAccountType": "school"}),
            "business, education",
        ),
        (json!({"automaticallyUpdateApps": "yes"}), "Edm.Boolean"),
        (json!({"token": 7}), "Edm.String"),
        (json!({"colour": "red"}), "'colour' does not exist"),
    ] {
        let err = t.apply(&body(&patch), NOW).unwrap_err().message;
        assert!(err.contains(needle), "{patch}: {err}");
        assert_eq!(t, before);
    }
    let renewed =
        file(&json!({"token": "new", "expDate": "2028-01-01T00:00:00Z", "orgName": "Fabrikam"}));
    t.apply(
        &body(&json!({"token": renewed, "organizationName": "Fabrikam"})),
        NOW,
    )
    .unwrap();
    assert_eq!(t.organization_name, "Fabrikam");
    assert_ne!(t.token_fingerprint, before.token_fingerprint);
}

#[test]
fn state_follows_expiry() {
    assert_eq!(state_at(NOW, NOW), "expired");
    assert_eq!(state_at(NOW + 1, NOW), "valid");
}
