//! The `$filter` syntax tree: boolean connectives over comparisons, `in` lists, `has`, string
//! functions and `isof`, whose operands are properties (optionally behind a type cast and inside
//! `tolower`/`toupper`).

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
        /// The property as written by the client.
        property: Operand,
        /// The comparison operator.
        op: CmpOp,
        /// The right-hand literal.
        value: Literal,
    },
    /// `property in (v1, v2, ...)`.
    In {
        /// The property as written by the client.
        property: Operand,
        /// The listed literals (at least one).
        values: Vec<Literal>,
    },
    /// `startswith(property, 'value')` and friends.
    Function {
        /// Which string function.
        func: StringFunction,
        /// The property as written by the client.
        property: Operand,
        /// The string argument.
        value: String,
    },
    /// `property has value`: an enum property holds the member.
    Has {
        /// The property as written by the client.
        property: Operand,
        /// The member (a string or a qualified enum literal).
        value: Literal,
    },
    /// `isof('microsoft.graph.T')`: the item is of type `T` or derives from it.
    IsOf {
        /// The type name as written (qualified or not).
        type_name: String,
    },
}

/// A property operand: `name` or a type-cast path `microsoft.graph.T/name`, optionally inside
/// `tolower(…)` or `toupper(…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operand {
    /// Property name as written by the client.
    pub name: String,
    /// The type-cast segment as written (`microsoft.graph.depIOSEnrollmentProfile`), if any.
    pub cast: Option<String>,
    /// The case function wrapped around the property, if any.
    pub case: Option<CaseFunction>,
}

impl Operand {
    /// A plain property reference.
    pub fn property(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            cast: None,
            case: None,
        }
    }

    /// The operand as the client wrote it, for messages.
    pub fn describe(&self) -> String {
        let path = match &self.cast {
            Some(cast) => format!("{cast}/{}", self.name),
            None => self.name.clone(),
        };
        match self.case {
            Some(case) => format!("{}({path})", case.name()),
            None => path,
        }
    }
}

impl From<&str> for Operand {
    fn from(name: &str) -> Self {
        Self::property(name)
    }
}

impl From<String> for Operand {
    fn from(name: String) -> Self {
        Self::property(name)
    }
}

/// `tolower` or `toupper` around a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFunction {
    /// `tolower(p)`: ASCII letters lower-cased.
    ToLower,
    /// `toupper(p)`: ASCII letters upper-cased.
    ToUpper,
}

impl CaseFunction {
    /// The `OData` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::ToLower => "tolower",
            Self::ToUpper => "toupper",
        }
    }

    /// The SQL function (ASCII-only on `SQLite` and on `PostgreSQL`'s "C" collation, see `sql.rs`).
    pub fn sql(self) -> &'static str {
        match self {
            Self::ToLower => "LOWER",
            Self::ToUpper => "UPPER",
        }
    }

    /// Applies the function to a value, ASCII only (as the SQL functions do).
    pub fn apply(self, value: &str) -> String {
        match self {
            Self::ToLower => value.to_ascii_lowercase(),
            Self::ToUpper => value.to_ascii_uppercase(),
        }
    }
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
