//! In-memory `$orderby` and keyset paging over Graph JSON items, in exactly the order the SQL of
//! `paging.rs` produces: each key reads the value [`cursor_for`] would store (NULL, absent or
//! mistyped properties as the sentinel of [`sort_expression`](super::sort_expression)), text
//! compares bytewise on the raw value (`SQLite`'s `BINARY`, `PostgreSQL`'s `"C"` collation),
//! descending keys are reversed, and the `id` tiebreaker of [`compile_orderby`] makes the order
//! total.
//!
//! [`cursor_for`]: super::cursor_for
//! [`compile_orderby`]: super::compile_orderby

use std::cmp::Ordering;

use serde_json::Value;

use super::paging::{PageCursor, SortKey, check_cursor, sort_value};
use super::sql::SqlValue;

/// Orders two Graph JSON items by the keys of [`compile_orderby`](super::compile_orderby), for
/// `sort_by`. Keys are compared in turn; the first difference decides.
pub fn compare(keys: &[SortKey], a: &Value, b: &Value) -> Ordering {
    keys.iter()
        .map(|key| {
            let ordering = cmp_values(&sort_value(key.field, a), &sort_value(key.field, b));
            directed(ordering, key.descending)
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Whether an item comes strictly after the cursor in the keys' order, i.e. whether
/// [`keyset_condition`](super::keyset_condition) would select its row. A cursor that does not
/// fit the keys selects nothing; reject it first with [`check_cursor`](super::check_cursor).
pub fn is_after(keys: &[SortKey], cursor: &PageCursor, item: &Value) -> bool {
    if check_cursor(keys, cursor).is_err() {
        return false;
    }
    keys.iter()
        .zip(&cursor.values)
        .map(|(key, at)| directed(cmp_values(&sort_value(key.field, item), at), key.descending))
        .find(|o| o.is_ne())
        .is_some_and(Ordering::is_gt)
}

fn directed(ordering: Ordering, descending: bool) -> Ordering {
    if descending {
        ordering.reverse()
    } else {
        ordering
    }
}

/// The SQL order of two values of one type: integers numerically, `FALSE < TRUE`, text bytewise.
/// Values of different types (never produced for one field) order by type, so the order is total.
pub(crate) fn cmp_values(a: &SqlValue, b: &SqlValue) -> Ordering {
    match (a, b) {
        (SqlValue::Int(a), SqlValue::Int(b)) => a.cmp(b),
        (SqlValue::Bool(a), SqlValue::Bool(b)) => a.cmp(b),
        (SqlValue::Text(a), SqlValue::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn rank(value: &SqlValue) -> u8 {
    match value {
        SqlValue::Null => 0,
        SqlValue::Bool(_) => 1,
        SqlValue::Int(_) => 2,
        SqlValue::Text(_) => 3,
    }
}

#[cfg(test)]
#[path = "sort_tests.rs"]
pub(crate) mod tests;
