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

use super::ODataError;
use super::ast::{CmpOp, Expr, Literal, StringFunction};
use super::spec::{EntitySpec, Field, FieldKind};
use crate::domain::time::parse_ticks;

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

/// Compiles a `$filter` against an entity's allow-list.
pub fn compile_filter(expr: &Expr, spec: &EntitySpec) -> Result<SqlCondition, ODataError> {
    let mut out = SqlCondition::default();
    write_expr(&mut out, expr, spec)?;
    Ok(out)
}

fn write_expr(out: &mut SqlCondition, expr: &Expr, spec: &EntitySpec) -> Result<(), ODataError> {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            out.sql("(");
            write_expr(out, a, spec)?;
            out.sql(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write_expr(out, b, spec)?;
            out.sql(")");
        }
        Expr::Not(inner) => {
            out.sql("NOT (");
            write_expr(out, inner, spec)?;
            out.sql(")");
        }
        Expr::Compare {
            property,
            op,
            value,
        } => compare(out, spec.filterable(property)?, *op, value)?,
        Expr::In { property, values } => in_list(out, spec.filterable(property)?, values)?,
        Expr::Function {
            func,
            property,
            value,
        } => function(out, spec.filterable(property)?, *func, value)?,
    }
    Ok(())
}

/// Emits `lhs op <binds>` (a parenthesised list for `IN`), NULL-safe for nullable columns.
fn leaf(
    out: &mut SqlCondition,
    field: &Field,
    lhs: &str,
    op: &str,
    binds: Vec<SqlValue>,
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
    for (i, value) in binds.into_iter().enumerate() {
        if i > 0 {
            out.sql(", ");
        }
        out.bind(value);
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

fn compare(
    out: &mut SqlCondition,
    field: &Field,
    op: CmpOp,
    value: &Literal,
) -> Result<(), ODataError> {
    if *value == Literal::Null {
        let test = match op {
            CmpOp::Eq => "IS NULL",
            CmpOp::Ne => "IS NOT NULL",
            _ => {
                return Err(ODataError::unsupported(
                    "comparison",
                    format!("{} null", op.name()),
                ));
            }
        };
        out.sql(&format!("{} {test}", field.column));
        return Ok(());
    }
    let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
    if !equality && matches!(field.kind, FieldKind::Bool | FieldKind::Enum(_)) {
        return Err(ODataError::OperatorNotAllowed {
            op: op.name(),
            property: field.name,
        });
    }
    let bind = bind_value(field, value)?;
    let (lhs, bind) = match (field.kind, bind) {
        (FieldKind::Text, SqlValue::Text(s)) if equality => (
            format!("LOWER({})", field.column),
            SqlValue::Text(s.to_ascii_lowercase()),
        ),
        (_, bind) => (field.column.to_owned(), bind),
    };
    leaf(out, field, &lhs, op.sql(), vec![bind], op == CmpOp::Ne);
    Ok(())
}

fn in_list(out: &mut SqlCondition, field: &Field, values: &[Literal]) -> Result<(), ODataError> {
    if field.kind == FieldKind::Bool {
        return Err(ODataError::OperatorNotAllowed {
            op: "in",
            property: field.name,
        });
    }
    let mut binds = values
        .iter()
        .map(|v| bind_value(field, v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut lhs = field.column.to_owned();
    if field.kind == FieldKind::Text {
        lhs = format!("LOWER({lhs})");
        for bind in &mut binds {
            if let SqlValue::Text(s) = bind {
                s.make_ascii_lowercase();
            }
        }
    }
    leaf(out, field, &lhs, "IN", binds, false);
    Ok(())
}

fn function(
    out: &mut SqlCondition,
    field: &Field,
    func: StringFunction,
    value: &str,
) -> Result<(), ODataError> {
    if !matches!(field.kind, FieldKind::Text | FieldKind::Id) {
        return Err(ODataError::OperatorNotAllowed {
            op: func.name(),
            property: field.name,
        });
    }
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    let pattern = match func {
        StringFunction::StartsWith => format!("{escaped}%"),
        StringFunction::EndsWith => format!("%{escaped}"),
        StringFunction::Contains => format!("%{escaped}%"),
    };
    let lhs = format!("LOWER({})", field.column);
    leaf(
        out,
        field,
        &lhs,
        "LIKE",
        vec![SqlValue::Text(pattern)],
        false,
    );
    Ok(())
}

/// Converts a non-null literal to the bind for a field, checking its type.
fn bind_value(field: &Field, value: &Literal) -> Result<SqlValue, ODataError> {
    let mismatch = |expected| ODataError::TypeMismatch {
        property: field.name,
        expected,
    };
    match (field.kind, value) {
        (FieldKind::Id | FieldKind::Text, Literal::String(s) | Literal::Guid(s)) => {
            Ok(SqlValue::Text(s.clone()))
        }
        (FieldKind::Id | FieldKind::Text, _) => Err(mismatch("a string")),
        (FieldKind::Int, Literal::Int(n)) => Ok(SqlValue::Int(*n)),
        (FieldKind::Int, _) => Err(mismatch("an integer")),
        (FieldKind::Bool, Literal::Bool(b)) => Ok(SqlValue::Bool(*b)),
        (FieldKind::Bool, _) => Err(mismatch("true or false")),
        (FieldKind::DateTime, Literal::DateTime(t)) => Ok(SqlValue::Int(*t)),
        (FieldKind::DateTime, Literal::String(s)) => parse_ticks(s)
            .map(SqlValue::Int)
            .ok_or(mismatch("a DateTimeOffset")),
        (FieldKind::DateTime, _) => Err(mismatch("a DateTimeOffset")),
        (FieldKind::Enum(members), Literal::String(s)) => enum_member(field, members, s),
        (FieldKind::Enum(_), _) => Err(mismatch("a string enum member")),
        (FieldKind::Collection, _) => Err(ODataError::NotAllowed {
            property: field.name,
            clause: "$filter",
        }),
    }
}

/// Matches an enum member case-insensitively and binds its canonical name.
// GRAPH-COMPAT: clients send `'AdminImport'` for `adminImport` (conventions §6.1).
fn enum_member(field: &Field, members: &[&str], value: &str) -> Result<SqlValue, ODataError> {
    match members.iter().find(|m| m.eq_ignore_ascii_case(value)) {
        Some(member) => Ok(SqlValue::Text((*member).to_owned())),
        None => Err(ODataError::UnknownEnumMember {
            property: field.name,
            value: value.to_owned(),
            members: members.join(", "),
        }),
    }
}

#[cfg(test)]
#[path = "sql_tests.rs"]
pub(crate) mod tests;
