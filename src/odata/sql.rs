//! Compiles a `$filter` AST into a backend-neutral SQL condition (text fragments plus binds)
//! that is valid on `SQLite` (≥ 3.23) and `PostgreSQL`.
//!
//! Only spec column names reach the SQL text; every value is a bind. `OData` uses two-valued logic,
//! so every leaf evaluates to TRUE or FALSE, never NULL: comparisons on nullable columns are wrapped
//! in `COALESCE(<cmp>, FALSE)` (`TRUE` for `ne`), which makes `ne` and `not` include NULL rows.
//! Outside any `not` the FALSE guard is left off (a NULL leaf already excludes the row there), so
//! the bare comparison can use an index.
//!
//! Case-insensitive matching lower-cases both sides. `LOWER()` folds ASCII only on `SQLite` and on
//! `PostgreSQL`'s `"C"` collation, so the bound value is folded with `to_ascii_lowercase` to match.
//! `Id` properties compare exactly, but the string functions use the same `LOWER(..) LIKE` form as
//! text, because a case-sensitive `LIKE` is not portable (`SQLite`'s `LIKE` ignores ASCII case).
//! [`FieldKind::Serial`] columns hold upper-case serials: their values are upper-cased instead
//! and the column stays bare, so `eq`, `in` and `startswith` (a range) are index seeks.
//!
//! Validation and literal normalisation live in `check.rs`, shared with the in-memory evaluator
//! (`eval.rs`), so both reject the same filters with the same errors.

use super::ODataError;
use super::ast::{CmpOp, Expr, StringFunction};
use super::check::{Checked, Target, Test, check};
use super::spec::{EntitySpec, FieldKind};

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
    write_expr(&mut out, &checked, Polarity::Positive);
    Ok(out)
}

/// Whether a leaf sits under an odd number of `not`s. Outside any `not`, a leaf that is NULL
/// excludes the row just as FALSE does (AND and OR are monotone and WHERE keeps only TRUE), so
/// the `COALESCE(<cmp>, FALSE)` guard is dropped there: a bare `column = ?` is what lets the
/// database use an index on a nullable column (`isDeleted`, `requestedEnrollmentProfileId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polarity {
    Positive,
    Negated,
}

impl Polarity {
    fn flipped(self) -> Self {
        match self {
            Self::Positive => Self::Negated,
            Self::Negated => Self::Positive,
        }
    }
}

fn write_expr(out: &mut SqlCondition, expr: &Checked, polarity: Polarity) {
    match expr {
        Checked::And(a, b) | Checked::Or(a, b) => {
            out.sql("(");
            write_expr(out, a, polarity);
            out.sql(if matches!(expr, Checked::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write_expr(out, b, polarity);
            out.sql(")");
        }
        Checked::Not(inner) => {
            out.sql("NOT (");
            write_expr(out, inner, polarity.flipped());
            out.sql(")");
        }
        Checked::Leaf(target, test) => write_test(out, target, test, polarity),
        // `isof` of the set's own type (the only one a set of one type allows).
        Checked::Const(value) => out.sql(if *value { "1 = 1" } else { "1 = 0" }),
        // Unreachable: `compile_filter` refuses polymorphic specs, the only ones with types.
        Checked::IsOf(_) => out.sql("1 = 0"),
    }
}

fn write_test(out: &mut SqlCondition, target: &Target, test: &Test, polarity: Polarity) {
    let field = target.field;
    // Serials are stored upper-cased, so a folded test upper-cases the value instead of
    // lower-casing the column (which no index serves).
    let serial = field.kind == FieldKind::Serial;
    let lhs = |fold: bool| match target.case {
        Some(case) => format!("{}({})", case.sql(), field.column),
        None if fold && !serial => format!("LOWER({})", field.column),
        None => field.column.to_owned(),
    };
    let value = |v: &SqlValue, fold: bool| match v {
        SqlValue::Text(s) if serial && fold => SqlValue::Text(s.to_ascii_uppercase()),
        other => other.clone(),
    };
    let guard = |if_null: bool| Guard {
        nullable: field.nullable && (if_null || polarity == Polarity::Negated),
        if_null,
    };
    match test {
        Test::IsNull(is_null) => {
            let test = if *is_null { "IS NULL" } else { "IS NOT NULL" };
            out.sql(&format!("{} {test}", field.column));
        }
        Test::Compare { op, value: v, fold } => leaf(
            out,
            guard(*op == CmpOp::Ne),
            &lhs(*fold),
            op.sql(),
            &[value(v, *fold)],
        ),
        Test::In { values, fold } => {
            let values: Vec<SqlValue> = values.iter().map(|v| value(v, *fold)).collect();
            leaf(out, guard(false), &lhs(*fold), "IN", &values);
        }
        Test::Function {
            func: StringFunction::StartsWith,
            needle,
        } if serial => {
            // Every stored serial is ASCII letters and digits, all below '~', so the serials
            // starting with P are exactly those in [P, P || '~'): an index range seek.
            let prefix = needle.to_ascii_uppercase();
            let upper = format!("{prefix}~");
            guard(false).open(out);
            out.sql(&format!("{} >= ", field.column));
            out.bind(SqlValue::Text(prefix));
            out.sql(&format!(" AND {} < ", field.column));
            out.bind(SqlValue::Text(upper));
            guard(false).close(out);
        }
        Test::Function { func, needle } => {
            // Always case-insensitive: a case function around the property changes nothing.
            let needle = if serial {
                needle.to_ascii_uppercase()
            } else {
                needle.clone()
            };
            let pattern = SqlValue::Text(like_pattern(*func, &needle));
            let column = if serial {
                field.column.to_owned()
            } else {
                format!("LOWER({})", field.column)
            };
            leaf(out, guard(false), &column, "LIKE", &[pattern]);
        }
    }
}

/// The NULL-safety wrapper of one leaf: `COALESCE(<cmp>, if_null)` when the column may be NULL
/// and the NULL would not already exclude the row.
#[derive(Debug, Clone, Copy)]
struct Guard {
    nullable: bool,
    if_null: bool,
}

impl Guard {
    fn open(self, out: &mut SqlCondition) {
        out.sql(if self.nullable { "COALESCE((" } else { "(" });
    }

    fn close(self, out: &mut SqlCondition) {
        out.sql(match (self.nullable, self.if_null) {
            (false, _) => ")",
            (true, true) => "), TRUE)",
            (true, false) => "), FALSE)",
        });
    }
}

/// Emits `lhs op <binds>` (a parenthesised list for `IN`), NULL-safe where `guard` says so.
fn leaf(out: &mut SqlCondition, guard: Guard, lhs: &str, op: &str, binds: &[SqlValue]) {
    if guard.nullable {
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
    if guard.nullable {
        out.sql(if guard.if_null { ", TRUE)" } else { ", FALSE)" });
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
