//! `$filter` validation shared by the SQL compiler (`sql.rs`) and the in-memory evaluator
//! (`eval.rs`): one place decides which property, operator and literal combinations are allowed,
//! which error each misuse gets, and how literals are normalised (canonical enum members, ticks,
//! ASCII-lower-cased text for case-insensitive tests).

use super::ODataError;
use super::ast::{CmpOp, Expr, Literal, StringFunction};
use super::spec::{EntitySpec, Field, FieldKind};
use super::sql::SqlValue;
use crate::domain::time::parse_ticks;

/// A validated `$filter`: the shape of [`Expr`] with resolved fields and typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Both sides hold.
    And(Box<Checked>, Box<Checked>),
    /// Either side holds.
    Or(Box<Checked>, Box<Checked>),
    /// The operand does not hold.
    Not(Box<Checked>),
    /// A test of one property.
    Leaf(&'static Field, Test),
}

/// The test a leaf applies to its property's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Test {
    /// `eq null` (`true`) or `ne null` (`false`).
    IsNull(bool),
    /// `op value`. With `fold`, `value` is ASCII-lower-cased and the property must be folded too.
    Compare {
        /// The operator.
        op: CmpOp,
        /// The non-null value, of the property's type.
        value: SqlValue,
        /// Compare ASCII-case-insensitively.
        fold: bool,
    },
    /// `in (values)`, folded like [`Test::Compare`].
    In {
        /// The non-null values, of the property's type.
        values: Vec<SqlValue>,
        /// Compare ASCII-case-insensitively.
        fold: bool,
    },
    /// A string function, always ASCII-case-insensitive: `needle` is already lower-cased.
    Function {
        /// Which function.
        func: StringFunction,
        /// The lower-cased argument.
        needle: String,
    },
}

/// Validates a `$filter` against an entity's allow-list, failing on the first offending leaf in
/// left-to-right order.
pub(crate) fn check(expr: &Expr, spec: &EntitySpec) -> Result<Checked, ODataError> {
    let both = |a: &Expr, b: &Expr| -> Result<_, ODataError> {
        Ok((Box::new(check(a, spec)?), Box::new(check(b, spec)?)))
    };
    Ok(match expr {
        Expr::And(a, b) => {
            let (a, b) = both(a, b)?;
            Checked::And(a, b)
        }
        Expr::Or(a, b) => {
            let (a, b) = both(a, b)?;
            Checked::Or(a, b)
        }
        Expr::Not(inner) => Checked::Not(Box::new(check(inner, spec)?)),
        Expr::Compare {
            property,
            op,
            value,
        } => {
            let field = spec.filterable(property)?;
            Checked::Leaf(field, compare(field, *op, value)?)
        }
        Expr::In { property, values } => {
            let field = spec.filterable(property)?;
            Checked::Leaf(field, in_list(field, values)?)
        }
        Expr::Function {
            func,
            property,
            value,
        } => {
            let field = spec.filterable(property)?;
            Checked::Leaf(field, function(field, *func, value)?)
        }
    })
}

fn compare(field: &Field, op: CmpOp, value: &Literal) -> Result<Test, ODataError> {
    if *value == Literal::Null {
        return match op {
            CmpOp::Eq => Ok(Test::IsNull(true)),
            CmpOp::Ne => Ok(Test::IsNull(false)),
            _ => Err(ODataError::unsupported(
                "comparison",
                format!("{} null", op.name()),
            )),
        };
    }
    let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
    if !equality && matches!(field.kind, FieldKind::Bool | FieldKind::Enum(_)) {
        return Err(ODataError::OperatorNotAllowed {
            op: op.name(),
            property: field.name,
        });
    }
    // Only equality on text ignores case; ordering compares the raw value (bytewise, like the
    // "C" collation), and `Id` stays exact.
    let fold = equality && field.kind.is_text();
    let value = folded(typed_value(field, value)?, fold);
    Ok(Test::Compare { op, value, fold })
}

fn in_list(field: &Field, values: &[Literal]) -> Result<Test, ODataError> {
    if field.kind == FieldKind::Bool {
        return Err(ODataError::OperatorNotAllowed {
            op: "in",
            property: field.name,
        });
    }
    let fold = field.kind.is_text();
    let values = values
        .iter()
        .map(|v| typed_value(field, v).map(|v| folded(v, fold)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Test::In { values, fold })
}

fn function(field: &Field, func: StringFunction, value: &str) -> Result<Test, ODataError> {
    if !matches!(
        field.kind,
        FieldKind::Text | FieldKind::Serial | FieldKind::Id
    ) {
        return Err(ODataError::OperatorNotAllowed {
            op: func.name(),
            property: field.name,
        });
    }
    Ok(Test::Function {
        func,
        needle: value.to_ascii_lowercase(),
    })
}

/// ASCII-lower-cases a text value when `fold` is set.
pub(crate) fn folded(value: SqlValue, fold: bool) -> SqlValue {
    match value {
        SqlValue::Text(s) if fold => SqlValue::Text(s.to_ascii_lowercase()),
        other => other,
    }
}

/// Converts a non-null literal to a value of the field's type, checking the type.
fn typed_value(field: &Field, value: &Literal) -> Result<SqlValue, ODataError> {
    let mismatch = |expected| ODataError::TypeMismatch {
        property: field.name,
        expected,
    };
    match (field.kind, value) {
        (
            FieldKind::Id | FieldKind::Text | FieldKind::Serial,
            Literal::String(s) | Literal::Guid(s),
        ) => Ok(SqlValue::Text(s.clone())),
        (FieldKind::Id | FieldKind::Text | FieldKind::Serial, _) => Err(mismatch("a string")),
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

/// Matches an enum member case-insensitively and yields its canonical name.
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
