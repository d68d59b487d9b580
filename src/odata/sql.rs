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
//! Top-level conjuncts that an index could drive (`eq`/`in` on a bare column, a serial prefix)
//! are recorded as [`Seek`]s, their column emitted as [`SqlPart::Column`]: `SQLite`'s planner has
//! no statistics to tell a rare value from a common one, so storage counts each seek's rows (a
//! bounded index probe) and demotes the others to `+column`, which no index serves.
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
    /// The column of `seeks[i]`: bare, or with `SQLite`'s unary plus when it is demoted.
    Column(usize),
}

/// A top-level conjunct an index on its column could drive: the query's rows are a subset of
/// its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seek {
    /// The column.
    pub column: &'static str,
    /// The conjunct alone (column bare), to count its rows.
    pub probe: SqlCondition,
    /// Whether it selects at most as many rows as it has values (a serial `eq`/`in`: serials
    /// are unique in a tenant).
    pub bounded: bool,
    /// Whether the column is written `+column`, so that the planner does not drive the query
    /// from its index. `SQLite` only: `PostgreSQL` has no unary plus on text.
    pub demoted: bool,
}

/// A boolean SQL expression split into text and binds, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlCondition {
    /// The fragments, to be emitted in order.
    pub parts: Vec<SqlPart>,
    /// The index-drivable conjuncts, referred to by [`SqlPart::Column`].
    pub seeks: Vec<Seek>,
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

    /// This condition with every seek but `driver` demoted (`SQLite` only, see [`Seek`]).
    #[must_use]
    pub fn driven_by(&self, driver: usize) -> Self {
        let mut out = self.clone();
        for (i, seek) in out.seeks.iter_mut().enumerate() {
            seek.demoted = i != driver;
        }
        out
    }

    fn lhs(&mut self, lhs: &Lhs) {
        match lhs {
            Lhs::Expr(text) => self.sql(text),
            Lhs::Seek(i) => self.parts.push(SqlPart::Column(*i)),
        }
    }
}

/// The left side of a leaf: an expression, or the column of a seek.
enum Lhs {
    Expr(String),
    Seek(usize),
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
    write_expr(&mut out, &checked, Polarity::Positive, true);
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

/// `top`: whether `expr` is a conjunct of the whole filter (reached through `and`s only).
fn write_expr(out: &mut SqlCondition, expr: &Checked, polarity: Polarity, top: bool) {
    match expr {
        Checked::And(a, b) | Checked::Or(a, b) => {
            let and = matches!(expr, Checked::And(..));
            out.sql("(");
            write_expr(out, a, polarity, top && and);
            out.sql(if and { " AND " } else { " OR " });
            write_expr(out, b, polarity, top && and);
            out.sql(")");
        }
        Checked::Not(inner) => {
            out.sql("NOT (");
            write_expr(out, inner, polarity.flipped(), false);
            out.sql(")");
        }
        Checked::Leaf(target, test) => {
            let seek = if top { seek(target, test) } else { None };
            match seek {
                Some(mut seek) => {
                    write_test(&mut seek.probe, target, test, polarity, None);
                    let i = out.seeks.len();
                    out.seeks.push(seek);
                    write_test(out, target, test, polarity, Some(i));
                }
                None => write_test(out, target, test, polarity, None),
            }
        }
        // `isof` of the set's own type (the only one a set of one type allows).
        Checked::Const(value) => out.sql(if *value { "1 = 1" } else { "1 = 0" }),
        // Unreachable: `compile_filter` refuses polymorphic specs, the only ones with types.
        Checked::IsOf(_) => out.sql("1 = 0"),
    }
}

/// The seek a top-level leaf makes, if an index on its bare column could drive it.
fn seek(target: &Target, test: &Test) -> Option<Seek> {
    let field = target.field;
    let serial = field.kind == FieldKind::Serial;
    let bare = |fold: bool| target.case.is_none() && (serial || !fold);
    let bounded = match test {
        Test::Compare {
            op: CmpOp::Eq,
            fold,
            ..
        }
        | Test::In { fold, .. } => {
            if !bare(*fold) {
                return None;
            }
            serial
        }
        Test::Function {
            func: StringFunction::StartsWith,
            ..
        } if serial => false,
        _ => return None,
    };
    Some(Seek {
        column: field.column,
        probe: SqlCondition::default(),
        bounded,
        demoted: false,
    })
}

/// Writes one leaf; with `seek`, its bare column is that seek's [`SqlPart::Column`].
fn write_test(
    out: &mut SqlCondition,
    target: &Target,
    test: &Test,
    polarity: Polarity,
    seek: Option<usize>,
) {
    let field = target.field;
    // Serials are stored upper-cased, so a folded test upper-cases the value instead of
    // lower-casing the column (which no index serves).
    let serial = field.kind == FieldKind::Serial;
    let column = || seek.map_or_else(|| Lhs::Expr(field.column.to_owned()), Lhs::Seek);
    let lhs = |fold: bool| match target.case {
        Some(case) => Lhs::Expr(format!("{}({})", case.sql(), field.column)),
        None if fold && !serial => Lhs::Expr(format!("LOWER({})", field.column)),
        None => column(),
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
            out.lhs(&column());
            out.sql(" >= ");
            out.bind(SqlValue::Text(prefix));
            out.sql(" AND ");
            out.lhs(&column());
            out.sql(" < ");
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
                Lhs::Expr(field.column.to_owned())
            } else {
                Lhs::Expr(format!("LOWER({})", field.column))
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
fn leaf(out: &mut SqlCondition, guard: Guard, lhs: &Lhs, op: &str, binds: &[SqlValue]) {
    if guard.nullable {
        out.sql("COALESCE(");
    }
    out.lhs(lhs);
    out.sql(&format!(" {op} "));
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
