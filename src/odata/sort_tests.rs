//! In-memory ordering and keyset paging: the SQL order's sentinels and bytewise text, and page
//! round trips through `cursor_for`, signed tokens and `is_after`.

use serde_json::{Map, Value, json};

use super::*;
use crate::odata::spec::tests::DEP;
use crate::odata::{
    ODataError, OrderBy, PagingKey, check_cursor, compile_orderby, cursor_for, decode_skiptoken,
    encode_skiptoken,
};

pub(crate) fn keys(orderby: &[(&str, bool)]) -> Vec<SortKey> {
    let items: Vec<OrderBy> = orderby
        .iter()
        .map(|(p, d)| OrderBy {
            property: (*p).to_owned(),
            descending: *d,
        })
        .collect();
    compile_orderby(&items, &DEP).unwrap()
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["id"].as_str().unwrap()).collect()
}

fn sorted(keys: &[SortKey], items: &[Value]) -> Vec<Value> {
    let mut items = items.to_vec();
    items.sort_by(|a, b| compare(keys, a, b));
    items
}

/// Marks a property left out of an item in [`fixture`]'s value tables.
const MISSING: &str = "<missing>";

/// 21 items with ties, nulls and missing properties on every sort key; ids differ in case.
pub(crate) fn fixture() -> Vec<Value> {
    let columns = [
        (
            "tokenName",
            json!(["b", null, "A", "a", "", MISSING, "Ébène"]),
        ),
        ("syncedDeviceCount", json!([1, 2, MISSING, 1])),
        (
            "dataSharingConsentGranted",
            json!([true, false, null, MISSING]),
        ),
        (
            "tokenExpirationDateTime",
            json!([
                "2026-01-01T00:00:00.0000000Z",
                "0001-01-01T00:00:00Z",
                MISSING,
                "2025-09-19T16:50:51.5063355Z",
                "2026-01-01T01:00:00+01:00"
            ]),
        ),
        ("tokenType", json!(["dep", "none", "appleSchoolManager"])),
    ];
    (0..21)
        .map(|i: usize| {
            let case = if i.is_multiple_of(4) { "X" } else { "x" };
            let mut item = Map::new();
            item.insert("id".into(), json!(format!("{case}{:02}", (i * 8) % 21)));
            for (name, values) in &columns {
                let values = values.as_array().unwrap();
                let value = &values[i % values.len()];
                if *value != MISSING {
                    item.insert((*name).into(), value.clone());
                }
            }
            Value::Object(item)
        })
        .collect()
}

/// Orders the round trips cover: ties, nulls, both directions, every kind, `id` in the middle.
pub(crate) const ORDERS: &[&[(&str, bool)]] = &[
    &[],
    &[("id", true)],
    &[("tokenName", false)],
    &[("tokenName", true)],
    &[("tokenName", true), ("syncedDeviceCount", false)],
    &[
        ("syncedDeviceCount", true),
        ("dataSharingConsentGranted", false),
    ],
    &[
        ("dataSharingConsentGranted", true),
        ("tokenExpirationDateTime", true),
    ],
    &[("tokenExpirationDateTime", false), ("tokenType", true)],
    &[("tokenType", false), ("id", true), ("tokenName", false)],
];

#[test]
fn orders_like_sql_sentinels_and_bytes() {
    let items = [
        json!({"id": "2", "tokenName": "b", "syncedDeviceCount": 0}),
        json!({"id": "1", "dataSharingConsentGranted": true}),
        json!({"id": "3", "tokenName": null, "syncedDeviceCount": -1}),
        json!({"id": "0", "tokenName": "", "dataSharingConsentGranted": false}),
        json!({"id": "4", "tokenName": "B", "syncedDeviceCount": "5"}),
        json!({"id": "5", "tokenName": "É", "syncedDeviceCount": i64::MIN}),
    ];
    let order = |o: &[(&str, bool)]| ids(&sorted(&keys(o), &items)).join("");
    assert_eq!(order(&[]), "012345");
    assert_eq!(order(&[("tokenName", false)]), "013425");
    assert_eq!(order(&[("tokenName", true)]), "524013");
    assert_eq!(order(&[("syncedDeviceCount", false)]), "014532");
    assert_eq!(order(&[("syncedDeviceCount", true)]), "230145");
    assert_eq!(order(&[("dataSharingConsentGranted", true)]), "102345");
    assert_eq!(order(&[("id", true)]), "543210");
}

#[test]
fn cuts_pages_exactly_after_the_cursor() {
    let items = fixture();
    for orderby in ORDERS {
        let keys = keys(orderby);
        let sorted = sorted(&keys, &items);
        for pair in sorted.windows(2) {
            assert!(compare(&keys, &pair[0], &pair[1]).is_lt(), "{orderby:?}");
        }
        for (i, last) in sorted.iter().enumerate() {
            let cursor = cursor_for(&keys, last);
            let after: Vec<Value> = items
                .iter()
                .filter(|item| is_after(&keys, &cursor, item))
                .cloned()
                .collect();
            assert_eq!(
                ids(&self::sorted(&keys, &after)),
                ids(&sorted[i + 1..]),
                "{orderby:?} after {i}"
            );
            for other in &items {
                let want = compare(&keys, last, other).is_lt();
                assert_eq!(is_after(&keys, &cursor, other), want, "{orderby:?}");
            }
        }
    }
}

#[test]
fn pages_through_signed_tokens() {
    let items = fixture();
    let key = PagingKey([3; 32]);
    for orderby in ORDERS {
        let keys = keys(orderby);
        for page_size in 1..=4 {
            let (mut seen, mut token) = (Vec::new(), None::<String>);
            loop {
                let cursor = token.map(|t| decode_skiptoken(&t, "/fp", &key).unwrap());
                let rest: Vec<Value> = items
                    .iter()
                    .filter(|i| cursor.as_ref().is_none_or(|c| is_after(&keys, c, i)))
                    .cloned()
                    .collect();
                let page: Vec<Value> = sorted(&keys, &rest).into_iter().take(page_size).collect();
                let Some(last) = page.last() else { break };
                token = Some(encode_skiptoken(&cursor_for(&keys, last), "/fp", &key));
                seen.extend(page);
            }
            assert_eq!(ids(&seen), ids(&sorted(&keys, &items)), "{orderby:?}");
        }
    }
}

#[test]
fn rejects_cursors_that_do_not_fit() {
    let keys = keys(&[("syncedDeviceCount", false)]);
    let item = json!({"id": "z", "syncedDeviceCount": 9});
    let cursors = [
        vec![SqlValue::Int(1)],
        vec![SqlValue::Text("1".into()), SqlValue::Text("a".into())],
        vec![SqlValue::Null, SqlValue::Text("a".into())],
        vec![
            SqlValue::Int(1),
            SqlValue::Text("a".into()),
            SqlValue::Int(1),
        ],
    ];
    for values in cursors {
        let cursor = PageCursor { values };
        assert_eq!(
            check_cursor(&keys, &cursor),
            Err(ODataError::InvalidSkipToken)
        );
        assert!(!is_after(&keys, &cursor, &item), "{cursor:?}");
    }
    let fits = PageCursor {
        values: vec![SqlValue::Int(1), SqlValue::Text("a".into())],
    };
    assert_eq!(check_cursor(&keys, &fits), Ok(()));
    assert!(is_after(&keys, &fits, &item));
    assert!(!is_after(&[], &PageCursor::default(), &item));
}
