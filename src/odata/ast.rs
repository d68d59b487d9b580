//! The `$filter` syntax tree: boolean connectives over comparisons, `in` lists and string functions.

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Both sides hold.
    And(Box<Expr>, Box<Expr>),
    /// Either side holds.
    Or(Box<Expr>, Box<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// `property op value`.
    Compare {
        /// Property name as written by the client.
        property: String,
        /// The comparison operator.
        op: CmpOp,
        /// The right-hand literal.
        value: Literal,
    },
    /// `property in (v1, v2, ...)`.
    In {
        /// Property name as written by the client.
        property: String,
        /// The listed literals (at least one).
        values: Vec<Literal>,
    },
    /// `startswith(property, 'value')` and friends.
    Function {
        /// Which string function.
        func: StringFunction,
        /// Property name as written by the client.
        property: String,
        /// The string argument.
        value: String,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CmpOp {
    /// The `OData` spelling, e.g. `ge`.
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }

    /// The SQL spelling, e.g. `>=`.
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }

    /// Matches `eq`, `NE`, ... case-insensitively.
    pub(crate) fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }
}

/// A supported string function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFunction {
    /// `startswith(p,'v')`
    StartsWith,
    /// `endswith(p,'v')`
    EndsWith,
    /// `contains(p,'v')`
    Contains,
}

impl StringFunction {
    /// The `OData` spelling, e.g. `startswith`.
    pub fn name(self) -> &'static str {
        match self {
            StringFunction::StartsWith => "startswith",
            StringFunction::EndsWith => "endswith",
            StringFunction::Contains => "contains",
        }
    }
}

/// A literal value on the right of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer such as `-42`.
    Int(i64),
    /// A quoted string (or the member of a qualified enum literal).
    String(String),
    /// An unquoted GUID, as written.
    Guid(String),
    /// An unquoted `DateTimeOffset`, as ticks.
    DateTime(i64),
}
