//! Compiles a `$filter` AST into a backend-neutral SQL condition (text fragments plus binds)
//! that is valid on `SQLite` (≥ 3.23) and `PostgreSQL`.
//!
//! Only spec column names reach the SQL text; every value is a bind. `OData` uses two-valued logic,
//! so every leaf evaluates to TRUE or FALSE, never NULL: comparisons on nullable columns are wrapped
//! in `COALESCE(<cmp>, FALSE)` (`TRUE` for `ne`), which makes `ne` and `not` include NULL rows.
//!
//! Case-insensitive matching lower-cases both sides. `LOWER()` folds ASCII only on `SQLite` and on
//! `PostgreSQL`'s `"C"` collation, so the bound value is folded with `to_ascii_lowercase` to match.
//! `Id` properties compare exactly, but the string functions use the same `LOWER(..) LIKE` form as
//! text, because a case-sensitive `LIKE` is not portable (`SQLite`'s `LIKE` ignores ASCII case).
//!
//! Validation and literal normalisation live in `check.rs`, shared with the in-memory evaluator
//! (`eval.rs`), so both reject the same filters with the same errors.

use super::ODataError;
use super::ast::{CmpOp, Expr, StringFunction};
use super::check::{Checked, Target, Test, check};
use super::spec::{EntitySpec, Field};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// A text value.
    Text(String),
    /// A 64-bit integer (also `DateTimeOffset` ticks).
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// A fragment of a condition: SQL text (never holding a placeholder) or a value to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlPart {
    /// Plain SQL text.
    Sql(String),
    /// A value the storage layer binds in place (as `?` or `$n`).
    Bind(SqlValue),
}

/// A boolean SQL expression split into text and binds, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlCondition {
    /// The fragments, to be emitted in order.
    pub parts: Vec<SqlPart>,
}

impl SqlCondition {
    /// Appends SQL text.
    pub fn sql(&mut self, text: &str) {
        match self.parts.last_mut() {
            Some(SqlPart::Sql(last)) => last.push_str(text),
            _ => self.parts.push(SqlPart::Sql(text.to_owned())),
        }
    }

    /// Appends a bind.
    pub fn bind(&mut self, value: SqlValue) {
        self.parts.push(SqlPart::Bind(value));
    }
}

/// Compiles a `$filter` against an entity's allow-list. Sets of one type only: polymorphic sets
/// (a non-empty [`EntitySpec::types`]) have no type column and are filtered in memory, so their
/// `isof` and casts are refused here rather than compiled wrongly.
pub fn compile_filter(expr: &Expr, spec: &EntitySpec) -> Result<SqlCondition, ODataError> {
    if !spec.types.is_empty() {
        return Err(ODataError::unsupported("type-cast set", spec.entity));
    }
    let checked = check(expr, spec)?;
    let mut out = SqlCondition::default();
    write_expr(&mut out, &checked);
    Ok(out)
}

fn write_expr(out: &mut SqlCondition, expr: &Checked) {
    match expr {
        Checked::And(a, b) | Checked::Or(a, b) => {
            out.sql("(");
            write_expr(out, a);
            out.sql(if matches!(expr, Checked::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write_expr(out, b);
            out.sql(")");
        }
        Checked::Not(inner) => {
            out.sql("NOT (");
            write_expr(out, inner);
            out.sql(")");
        }
        Checked::Leaf(target, test) => write_test(out, target, test),
        // `isof` of the set's own type (the only one a set of one type allows).
        Checked::Const(value) => out.sql(if *value { "1 = 1" } else { "1 = 0" }),
        // Unreachable: `compile_filter` refuses polymorphic specs, the only ones with types.
        Checked::IsOf(_) => out.sql("1 = 0"),
    }
}

fn write_test(out: &mut SqlCondition, target: &Target, test: &Test) {
    let field = target.field;
    let lhs = |fold: bool| match (target.case, fold) {
        (Some(case), _) => format!("{}({})", case.sql(), field.column),
        (None, true) => format!("LOWER({})", field.column),
        (None, false) => field.column.to_owned(),
    };
    match test {
        Test::IsNull(is_null) => {
            let test = if *is_null { "IS NULL" } else { "IS NOT NULL" };
            out.sql(&format!("{} {test}", field.column));
        }
        Test::Compare { op, value, fold } => leaf(
            out,
            field,
            &lhs(*fold),
            op.sql(),
            std::slice::from_ref(value),
            *op == CmpOp::Ne,
        ),
        Test::In { values, fold } => leaf(out, field, &lhs(*fold), "IN", values, false),
        Test::Function { func, needle } => {
            // Always case-insensitive: a case function around the property changes nothing.
            let pattern = SqlValue::Text(like_pattern(*func, needle));
            let lower = format!("LOWER({})", field.column);
            leaf(out, field, &lower, "LIKE", &[pattern], false);
        }
    }
}

/// Emits `lhs op <binds>` (a parenthesised list for `IN`), NULL-safe for nullable columns.
fn leaf(
    out: &mut SqlCondition,
    field: &Field,
    lhs: &str,
    op: &str,
    binds: &[SqlValue],
    if_null: bool,
) {
    if field.nullable {
        out.sql("COALESCE(");
    }
    out.sql(&format!("{lhs} {op} "));
    let list = op == "IN";
    if list {
        out.sql("(");
    }
    for (i, value) in binds.iter().enumerate() {
        if i > 0 {
            out.sql(", ");
        }
        out.bind(value.clone());
    }
    if list {
        out.sql(")");
    } else if op == "LIKE" {
        out.sql(" ESCAPE '\\'");
    }
    if field.nullable {
        out.sql(if if_null { ", TRUE)" } else { ", FALSE)" });
    }
}

/// The `LIKE` pattern for a (lower-cased) string-function argument, with `%`, `_` and `\`
/// escaped.
fn like_pattern(func: StringFunction, needle: &str) -> String {
    let mut escaped = String::with_capacity(needle.len() + 2);
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    match func {
        StringFunction::StartsWith => format!("{escaped}%"),
        StringFunction::EndsWith => format!("%{escaped}"),
        StringFunction::Contains => format!("%{escaped}%"),
    }
}

#[cfg(test)]
#[path = "sql_tests.rs"]
pub(crate) mod tests;
