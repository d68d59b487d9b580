//! Profile validation and per-serial assignment effects.

use serde_json::json;

use super::*;
use crate::apple_sim::model::{Device, OpType, now_secs};
use crate::apple_sim::server::{AssignOverride, OrgInput};

fn profile(extra: &Value) -> Map<String, Value> {
    let mut p = json!({"profile_name": "Staff", "url": "https://mdm.example.com/enroll"});
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p.as_object().cloned().unwrap()
}

fn code(extra: &Value) -> String {
    validate(&profile(extra))
        .err()
        .map(|e| e.body)
        .unwrap_or_default()
}

#[test]
fn validation_errors_follow_the_reference() {
    assert_eq!(code(&json!({})), "");
    let mut missing = profile(&json!({}));
    missing.remove("profile_name");
    assert_eq!(validate(&missing).unwrap_err().body, "CONFIG_NAME_REQUIRED");
    missing = profile(&json!({}));
    missing.remove("url");
    assert_eq!(validate(&missing).unwrap_err().body, "CONFIG_URL_REQUIRED");
    let cases = [
        (json!({"profile_name": ""}), "CONFIG_NAME_INVALID"),
        (
            json!({"profile_name": "x".repeat(126)}),
            "CONFIG_NAME_INVALID",
        ),
        (json!({"url": "not a url"}), "CONFIG_URL_INVALID"),
        (
            json!({"url": format!("https://e.com/{}", "a".repeat(2000))}),
            "CONFIG_URL_INVALID",
        ),
        (json!({"department": "d".repeat(126)}), "DEPARTMENT_INVALID"),
        (json!({"org_magic": "m".repeat(257)}), "MAGIC_INVALID"),
        (
            json!({"support_email_address": "e".repeat(251)}),
            "SUPPORT_EMAIL_INVALID",
        ),
        (
            json!({"support_phone_number": "1".repeat(51)}),
            "SUPPORT_PHONE_INVALID",
        ),
        (json!({"is_mdm_removable": false}), "FLAGS_INVALID"),
        (json!({"language": "english"}), "LOCALE_INVALID"),
        (json!({"region": "U1"}), "LOCALE_INVALID"),
        (json!({"is_supervised": "yes"}), "MALFORMED_REQUEST_BODY"),
        (json!({"devices": [1]}), "MALFORMED_REQUEST_BODY"),
    ];
    for (extra, expected) in cases {
        assert_eq!(code(&extra), expected, "{extra}");
    }
    assert_eq!(
        code(&json!({"is_mdm_removable": false, "is_supervised": true})),
        ""
    );
    assert_eq!(code(&json!({"language": "en", "region": "US"})), "");
}

fn server_with(serials: &[&str]) -> MdmServer {
    let now = now_secs();
    let mut s = MdmServer::new("p", OrgInput::default(), now);
    for serial in serials {
        let mut d: Device = crate::apple_sim::generate::device(&|_| false, "a@example.com", now);
        d.serial_number = (*serial).to_owned();
        s.add_device(d, OpType::Added, now);
    }
    s
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn assign_reports_each_serial_and_logs_modifications() {
    let mut s = server_with(&["A", "B", "C"]);
    let throttled = AssignOverride {
        outcome: "THROTTLED".into(),
        retry_after_seconds: Some(60),
    };
    s.assign_overrides.insert("B".into(), throttled);
    s.assign_overrides.insert(
        "C".into(),
        AssignOverride {
            outcome: "FAILED".into(),
            retry_after_seconds: None,
        },
    );
    let before = s.last_seq();
    let (results, retry) = assign(
        &mut s,
        "P1",
        &list(&["A", "B", "C", "Z"]),
        None,
        10,
        now_secs(),
    );
    let expected: Results = [
        ("A", "SUCCESS"),
        ("B", "THROTTLED"),
        ("C", "FAILED"),
        ("Z", "NOT_ACCESSIBLE"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(results, expected);
    assert_eq!(retry, Some(60));
    assert_eq!(s.events_after(before).len(), 1);
    assert_eq!(s.devices["A"].profile_status, "assigned");
    assert_eq!(s.devices["A"].profile_uuid.as_deref(), Some("P1"));

    let (old, retry) = assign(&mut s, "P1", &list(&["B"]), None, 8, now_secs());
    assert_eq!(
        (old["B"].as_str(), retry),
        ("FAILED", None),
        "no THROTTLED before v9"
    );
}

#[test]
fn remove_and_forced_statuses() {
    let mut s = server_with(&["A"]);
    assign(&mut s, "P1", &list(&["A"]), None, 7, now_secs());
    let forced = FailureAction::DeviceStatus {
        status: "FAILED".into(),
    };
    assert_eq!(
        remove(&mut s, &list(&["A"]), Some(&forced), now_secs())["A"],
        "FAILED"
    );
    assert_eq!(
        s.devices["A"].profile_status, "assigned",
        "forced answers change nothing"
    );
    let results = remove(&mut s, &list(&["A", "Z"]), None, now_secs());
    assert_eq!(
        (results["A"].as_str(), results["Z"].as_str()),
        ("SUCCESS", "NOT_ACCESSIBLE")
    );
    assert_eq!(s.devices["A"].profile_status, "removed");
    assert_eq!(s.devices["A"].profile_uuid, None);
}

#[test]
fn disown_removes_devices_from_the_organisation() {
    let mut st = SimState::default();
    let s = server_with(&["A", "B"]);
    let id = s.id.clone();
    st.servers.insert(id.clone(), s);
    let results = disown(&mut st, &id, &list(&["A", "Q"]), None, now_secs()).unwrap();
    assert_eq!(
        (results["A"].as_str(), results["Q"].as_str()),
        ("SUCCESS", "NOT_ACCESSIBLE")
    );
    assert!(st.serial_taken("A") && st.disowned.contains("A"));
    assert_eq!(
        st.servers[&id].log.last().map(|e| e.op_type),
        Some(OpType::Deleted)
    );
}
