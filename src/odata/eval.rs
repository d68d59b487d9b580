//! In-memory `$filter` evaluation over the Graph JSON rendering of items, for entity sets whose
//! properties are not columns (polymorphic enrollment profiles stored as JSON documents).
//!
//! Validation is `check.rs`, shared with [`compile_filter`](super::compile_filter), so both
//! reject the same filters with the same [`ODataError`]; evaluation mirrors the SQL semantics:
//! two-valued logic where a NULL, absent or mistyped property fails every test except `ne` and
//! `eq null` (so `ne` and `not` include it), text equality, `in` and the string functions
//! ASCII-case-insensitive, ordering on the raw text bytewise, `Id` equality exact, `DateTime`
//! compared as ticks and enums by canonical member name.

use std::cmp::Ordering;

use serde_json::Value;

use super::ODataError;
use super::ast::{CmpOp, Expr, StringFunction};
use super::check::{Checked, Target, Test, check, folded};
use super::paging::json_value;
use super::sort::cmp_values;
use super::spec::{EntitySpec, unqualified};
use super::sql::SqlValue;

/// A `$filter` validated against an entity spec, ready to test any number of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predicate {
    tree: Checked,
}

impl Predicate {
    /// Whether a Graph JSON item (property names = `Field::name`) satisfies the filter.
    pub fn matches(&self, item: &Value) -> bool {
        eval(&self.tree, item)
    }
}

/// Validates a `$filter` exactly like [`compile_filter`](super::compile_filter) and compiles it
/// for in-memory evaluation. Call it once per request, before looking at any item.
pub fn compile_predicate(expr: &Expr, spec: &EntitySpec) -> Result<Predicate, ODataError> {
    check(expr, spec).map(|tree| Predicate { tree })
}

/// Validates a `$filter` against an entity spec without compiling anything.
pub fn check_filter(expr: &Expr, spec: &EntitySpec) -> Result<(), ODataError> {
    check(expr, spec).map(|_| ())
}

/// Validates and evaluates a `$filter` against one item; prefer [`compile_predicate`] for lists.
pub fn matches(expr: &Expr, spec: &EntitySpec, item: &Value) -> Result<bool, ODataError> {
    compile_predicate(expr, spec).map(|p| p.matches(item))
}

fn eval(expr: &Checked, item: &Value) -> bool {
    match expr {
        Checked::And(a, b) => eval(a, item) && eval(b, item),
        Checked::Or(a, b) => eval(a, item) || eval(b, item),
        Checked::Not(inner) => !eval(inner, item),
        Checked::Leaf(target, test) => eval_test(target, test, item),
        Checked::IsOf(types) => is_of(types, item),
        Checked::Const(value) => *value,
    }
}

/// Whether the item's `@odata.type` is one of `types` (unqualified names).
fn is_of(types: &[&str], item: &Value) -> bool {
    item.get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| types.iter().any(|n| n.eq_ignore_ascii_case(unqualified(t))))
}

/// The value a leaf tests: null through a cast the item does not satisfy, and case-mapped.
fn operand(target: &Target, item: &Value) -> Option<SqlValue> {
    if target
        .cast
        .as_ref()
        .is_some_and(|types| !is_of(types, item))
    {
        return None;
    }
    match (json_value(target.field, item), target.case) {
        (Some(SqlValue::Text(s)), Some(case)) => Some(SqlValue::Text(case.apply(&s))),
        (value, _) => value,
    }
}

/// One leaf; `None` is the SQL NULL that `COALESCE(<cmp>, FALSE)` (`TRUE` for `ne`) absorbs.
fn eval_test(target: &Target, test: &Test, item: &Value) -> bool {
    let actual = operand(target, item);
    match test {
        Test::IsNull(is_null) => actual.is_none() == *is_null,
        Test::Compare { op, value, fold } => actual.map_or(*op == CmpOp::Ne, |actual| {
            holds(*op, cmp_values(&folded(actual, *fold), value))
        }),
        Test::In { values, fold } => {
            actual.is_some_and(|actual| values.contains(&folded(actual, *fold)))
        }
        Test::Function { func, needle } => match actual {
            Some(SqlValue::Text(hay)) => applies(*func, &hay.to_ascii_lowercase(), needle),
            _ => false,
        },
    }
}

fn holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering.is_eq(),
        CmpOp::Ne => ordering.is_ne(),
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Ge => ordering.is_ge(),
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Le => ordering.is_le(),
    }
}

fn applies(func: StringFunction, hay: &str, needle: &str) -> bool {
    match func {
        StringFunction::StartsWith => hay.starts_with(needle),
        StringFunction::EndsWith => hay.ends_with(needle),
        StringFunction::Contains => hay.contains(needle),
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
pub(crate) mod tests;
