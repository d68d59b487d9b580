//! Fetch/sync paging over the change log, and every cursor error.

use super::*;
use crate::apple_sim::generate;
use crate::apple_sim::model::{Device, OpType, now_secs};
use crate::apple_sim::server::OrgInput;

const KEY: &[u8] = b"test-key";

fn server(n: usize) -> MdmServer {
    let now = now_secs();
    let mut s = MdmServer::new("paging", OrgInput::default(), now);
    for i in 0..n {
        let mut d: Device = generate::device(&|_| false, "a@example.com", now);
        d.serial_number = format!("SER{i:04}");
        s.add_device(d, OpType::Added, now);
    }
    s
}

fn ctx<'a>(server: &'a MdmServer, settings: &'a SimSettings) -> PageCtx<'a> {
    PageCtx {
        server,
        settings,
        key: KEY,
        version: 10,
        now: now_secs(),
    }
}

fn req(cursor: Option<&str>, limit: Option<i64>) -> PageRequest {
    PageRequest {
        cursor: cursor.map(str::to_owned),
        limit,
    }
}

fn serials(page: &Page) -> Vec<String> {
    page.devices
        .iter()
        .map(|d| d.device.serial_number.clone())
        .collect()
}

fn code(err: SimError) -> (u16, String) {
    (err.status.as_u16(), err.body)
}

/// Fetches every page; returns the serials and the final cursor.
fn full_fetch(s: &MdmServer, settings: &SimSettings, limit: i64) -> (Vec<String>, String, usize) {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = fetch(&ctx(s, settings), &req(cursor.as_deref(), Some(limit))).unwrap();
        pages += 1;
        all.extend(serials(&page));
        assert!(page.devices.iter().all(|d| d.op_type.is_none()));
        cursor = Some(page.cursor);
        if !page.more_to_follow {
            return (all, cursor.unwrap_or_default(), pages);
        }
    }
}

#[test]
fn full_fetch_returns_every_device_once_in_exact_pages() {
    let s = server(25);
    let settings = SimSettings::default();
    let (all, last, pages) = full_fetch(&s, &settings, 10);
    assert_eq!(pages, 3);
    assert_eq!(all, s.devices.keys().cloned().collect::<Vec<_>>());
    let (all, _, pages) = full_fetch(&s, &settings, 25);
    assert_eq!(
        (all.len(), pages),
        (25, 1),
        "an exact fit needs no extra page"
    );
    let again = fetch(&ctx(&s, &settings), &req(Some(&last), None)).unwrap_err();
    assert_eq!(code(again), (400, "EXHAUSTED_CURSOR".into()));
}

#[test]
fn sync_returns_exactly_the_changes_since_the_cursor() {
    let mut s = server(5);
    let settings = SimSettings::default();
    let (_, cursor, _) = full_fetch(&s, &settings, 100);
    let now = now_secs();
    s.modify_device("SER0001", now, |d| d.asset_tag = Some("NEW".into()));
    s.remove_device("SER0002", now);
    let page = sync(&ctx(&s, &settings), &req(Some(&cursor), None)).unwrap();
    let ops: Vec<_> = page
        .devices
        .iter()
        .map(|d| (d.device.serial_number.as_str(), d.op_type))
        .collect();
    assert_eq!(
        ops,
        [
            ("SER0001", Some(OpType::Modified)),
            ("SER0002", Some(OpType::Deleted))
        ]
    );
    assert_eq!(page.devices[0].device.asset_tag.as_deref(), Some("NEW"));
    assert!(!page.more_to_follow);
    let empty = sync(&ctx(&s, &settings), &req(Some(&page.cursor), None)).unwrap();
    assert!(empty.devices.is_empty() && !empty.more_to_follow);
}

#[test]
fn sync_pages_through_a_long_log() {
    let mut s = server(0);
    let settings = SimSettings::default();
    let (_, mut cursor, _) = full_fetch(&s, &settings, 100);
    let now = now_secs();
    for i in 0..7 {
        let mut d = generate::device(&|_| false, "a@example.com", now);
        d.serial_number = format!("NEW{i}");
        s.add_device(d, OpType::Added, now);
    }
    let mut seen = Vec::new();
    loop {
        let page = sync(&ctx(&s, &settings), &req(Some(&cursor), Some(3))).unwrap();
        seen.extend(serials(&page));
        cursor = page.cursor;
        if !page.more_to_follow {
            break;
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("NEW{i}")).collect::<Vec<_>>());
}

#[test]
fn cursor_errors() {
    let s = server(3);
    let other = server(1);
    let settings = SimSettings::default();
    let p = ctx(&s, &settings);
    assert_eq!(
        code(sync(&p, &req(None, None)).unwrap_err()),
        (400, "CURSOR_REQUIRED".into())
    );
    assert_eq!(
        code(sync(&p, &req(Some(""), None)).unwrap_err()),
        (400, "CURSOR_REQUIRED".into())
    );
    assert_eq!(
        code(sync(&p, &req(Some("MTY1NzI2ODE5Ny0x"), None)).unwrap_err()),
        (400, "INVALID_CURSOR".into())
    );
    let foreign = fetch(&ctx(&other, &settings), &req(None, None))
        .unwrap()
        .cursor;
    assert_eq!(
        code(sync(&p, &req(Some(&foreign), None)).unwrap_err()),
        (400, "INVALID_CURSOR".into())
    );
    let mid_fetch = fetch(&p, &req(None, Some(1))).unwrap().cursor;
    assert_eq!(
        code(sync(&p, &req(Some(&mid_fetch), None)).unwrap_err()),
        (400, "INVALID_CURSOR".into())
    );
    let done = fetch(&p, &req(None, None)).unwrap().cursor;
    let short = SimSettings {
        cursor_max_age_secs: 0,
        ..SimSettings::default()
    };
    let expired = ctx(&s, &short);
    assert_eq!(
        code(sync(&expired, &req(Some(&done), None)).unwrap_err()),
        (400, "EXPIRED_CURSOR".into())
    );
    assert_eq!(
        code(fetch(&expired, &req(Some(&mid_fetch), None)).unwrap_err()),
        (400, "EXPIRED_CURSOR".into())
    );
}

#[test]
fn limit_defaults_and_caps() {
    let s = server(0);
    let settings = SimSettings {
        limit_default: 7,
        limit_max: 50,
        ..SimSettings::default()
    };
    let p = ctx(&s, &settings);
    assert_eq!(p.limit(None), 7);
    assert_eq!(p.limit(Some(0)), 7);
    assert_eq!(p.limit(Some(-3)), 7);
    assert_eq!(p.limit(Some(20)), 20);
    assert_eq!(p.limit(Some(5000)), 50);
}
