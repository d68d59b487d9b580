//! `$filter` validation shared by the SQL compiler (`sql.rs`) and the in-memory evaluator
//! (`eval.rs`): one place decides which property, operator and literal combinations are allowed,
//! which error each misuse gets, and how literals are normalised (canonical enum members, ticks,
//! ASCII-lower-cased text for case-insensitive tests).

use super::ODataError;
use super::ast::{CaseFunction, CmpOp, Expr, Literal, Operand, StringFunction};
use super::spec::{EntitySpec, Field, FieldKind, SpecType};
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
    Leaf(Target, Test),
    /// `isof` on a polymorphic set: the item's `@odata.type` is one of these (the named type and
    /// the types deriving from it).
    IsOf(Vec<&'static str>),
    /// A test whose outcome the spec alone decides (`isof` on a set of one type).
    Const(bool),
}

/// What a leaf tests: a property's value, read through an optional cast and case function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The property.
    pub(crate) field: &'static Field,
    /// A cast's types (the named type and those deriving from it): items of other types read
    /// the property as null.
    pub(crate) cast: Option<Vec<&'static str>>,
    /// `tolower`/`toupper` applied to the value before the test.
    pub(crate) case: Option<CaseFunction>,
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
            let target = target(spec, property)?;
            let test = compare(&target, *op, value)?;
            Checked::Leaf(target, test)
        }
        Expr::In { property, values } => {
            let target = target(spec, property)?;
            let test = in_list(&target, values)?;
            Checked::Leaf(target, test)
        }
        Expr::Function {
            func,
            property,
            value,
        } => {
            let target = target(spec, property)?;
            let test = function(target.field, *func, value)?;
            Checked::Leaf(target, test)
        }
        Expr::Has { property, value } => {
            let target = target(spec, property)?;
            let test = has(&target, value)?;
            Checked::Leaf(target, test)
        }
        Expr::IsOf { type_name } => match spec.cast_type(type_name)? {
            Some(ty) => Checked::IsOf(descendants(spec, ty)),
            None => Checked::Const(true),
        },
    })
}

/// Resolves an operand to a filterable property; a case function needs a string property.
fn target(spec: &EntitySpec, operand: &Operand) -> Result<Target, ODataError> {
    let (field, cast) = spec.resolve_path(operand.cast.as_deref(), &operand.name)?;
    let field = spec.filterable(field.name)?;
    if let Some(case) = operand.case
        && !matches!(field.kind, FieldKind::Text | FieldKind::Id)
    {
        return Err(ODataError::OperatorNotAllowed {
            op: case.name(),
            property: field.name,
        });
    }
    Ok(Target {
        field,
        cast: cast.map(|ty| descendants(spec, ty)),
        case: operand.case,
    })
}

/// The names of `ty` and of every type of the set deriving from it.
fn descendants(spec: &EntitySpec, ty: &SpecType) -> Vec<&'static str> {
    spec.types
        .iter()
        .filter(|t| t.is.contains(&ty.name))
        .map(|t| t.name)
        .collect()
}

fn compare(target: &Target, op: CmpOp, value: &Literal) -> Result<Test, ODataError> {
    let field = target.field;
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
    // "C" collation), and `Id` stays exact. After `tolower`/`toupper` the client chose the case:
    // the transformed value is compared exactly, as OData defines it.
    let fold = equality && field.kind == FieldKind::Text && target.case.is_none();
    let value = folded(typed_value(field, value)?, fold);
    Ok(Test::Compare { op, value, fold })
}

fn in_list(target: &Target, values: &[Literal]) -> Result<Test, ODataError> {
    let field = target.field;
    if field.kind == FieldKind::Bool {
        return Err(ODataError::OperatorNotAllowed {
            op: "in",
            property: field.name,
        });
    }
    let fold = field.kind == FieldKind::Text && target.case.is_none();
    let values = values
        .iter()
        .map(|v| typed_value(field, v).map(|v| folded(v, fold)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Test::In { values, fold })
}

fn function(field: &Field, func: StringFunction, value: &str) -> Result<Test, ODataError> {
    if !matches!(field.kind, FieldKind::Text | FieldKind::Id) {
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

/// `has` on an enum property. No enum of the served types is a flags enum (the CSDL declares
/// none `IsFlags`), so a value holds a member exactly when it is that member: `has` is `eq`.
fn has(target: &Target, value: &Literal) -> Result<Test, ODataError> {
    let field = target.field;
    let FieldKind::Enum(members) = field.kind else {
        return Err(ODataError::OperatorNotAllowed {
            op: "has",
            property: field.name,
        });
    };
    let Literal::String(member) = value else {
        return Err(ODataError::TypeMismatch {
            property: field.name,
            expected: "a string enum member",
        });
    };
    Ok(Test::Compare {
        op: CmpOp::Eq,
        value: enum_member(field, members, member)?,
        fold: false,
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
