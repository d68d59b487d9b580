//! The one error type of the `OData` layer; its `Display` is the exact client-facing message.

/// A malformed or unsupported `OData` query. The HTTP layer renders it as a Graph `400 BadRequest`
/// whose message is this value's `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ODataError {
    /// A `$`-prefixed query parameter that is not an `OData` system query option.
    #[error("The query parameter '{0}' is not supported.")]
    UnknownOption(String),
    /// The same option given twice once names are normalised (`$top` and `TOP`).
    #[error(
        "Query option '{0}' was specified more than once, but it must be specified at most once."
    )]
    DuplicateOption(&'static str),
    /// A known option that the addressed resource does not accept.
    #[error("Query option '{0}' is not supported on this resource.")]
    UnsupportedOption(&'static str),
    /// An option value that does not have the expected form.
    #[error("Invalid value '{value}' for query option '{option}': expected {expected}.")]
    InvalidValue {
        /// Canonical option name, e.g. `$top`.
        option: &'static str,
        /// The decoded value the client sent.
        value: String,
        /// What the option accepts.
        expected: &'static str,
    },
    /// The query string is not valid percent-encoded UTF-8.
    #[error("The query string is not valid percent-encoded UTF-8.")]
    InvalidEncoding,
    /// A `$filter` syntax error.
    #[error("Syntax error in $filter at position {position}: {message}.")]
    Syntax {
        /// Zero-based character offset in the decoded `$filter` value.
        position: usize,
        /// What was expected and found.
        message: String,
    },
    /// A recognised `OData` construct this service does not implement (`tolower`, `has`, `any`).
    #[error("The {kind} '{name}' is not supported in $filter.")]
    Unsupported {
        /// `function`, `operator`, `lambda operator`, `literal` or `comparison`.
        kind: &'static str,
        /// The construct as the client wrote it.
        name: String,
    },
    /// A navigation or complex-property path such as `a/b`.
    #[error("Property path '{path}' is not supported in {clause}.")]
    PropertyPath {
        /// The path as written.
        path: String,
        /// `$filter`, `$orderby` or `$expand`.
        clause: &'static str,
    },
    /// The `$filter` value exceeds the length limit.
    #[error("The $filter expression is too long; the limit is {0} characters.")]
    FilterTooLong(usize),
    /// The `$filter` value nests parentheses or `not` too deeply.
    #[error("The $filter expression is nested too deeply; the limit is {0} levels.")]
    FilterTooDeep(usize),
    /// A property the entity type does not have.
    #[error("Could not find a property named '{property}' on type '{entity}'.")]
    UnknownProperty {
        /// The property as the client wrote it.
        property: String,
        /// Qualified entity type name.
        entity: &'static str,
    },
    /// A property that exists but may not be used in this clause.
    #[error("The property '{property}' cannot be used in {clause}.")]
    NotAllowed {
        /// Graph property name.
        property: &'static str,
        /// `$filter` or `$orderby`.
        clause: &'static str,
    },
    /// A literal of the wrong type for the property.
    #[error("The property '{property}' must be compared with {expected} in $filter.")]
    TypeMismatch {
        /// Graph property name.
        property: &'static str,
        /// The accepted literal type, e.g. `an integer`.
        expected: &'static str,
    },
    /// An operator or function that does not apply to the property's type.
    #[error("The operator '{op}' cannot be applied to the property '{property}' in $filter.")]
    OperatorNotAllowed {
        /// `gt`, `contains`, ...
        op: &'static str,
        /// Graph property name.
        property: &'static str,
    },
    /// A string that is not a member of the property's enum type.
    #[error(
        "'{value}' is not a valid value for the property '{property}'; valid values are: {members}."
    )]
    UnknownEnumMember {
        /// Graph property name.
        property: &'static str,
        /// The literal as sent.
        value: String,
        /// Comma-separated canonical members.
        members: String,
    },
    /// A type cast or `isof` naming a type the set's items cannot be.
    // GRAPH-COMPAT: the wording of OData's (and Graph's) invalid-cast message.
    #[error("Encountered invalid type cast. '{name}' is not assignable from '{entity}'.")]
    InvalidCast {
        /// The type as written.
        name: String,
        /// Qualified entity type name of the set.
        entity: &'static str,
    },
    /// The same property sorted twice.
    #[error("The property '{0}' appears more than once in $orderby.")]
    DuplicateOrderBy(&'static str),
    /// A recognised construct of `$expand` or `$search` that this service does not implement.
    #[error("{construct} in {option} are not supported.")]
    UnsupportedConstruct {
        /// What was sent, in plural, e.g. `Nested query options`.
        construct: &'static str,
        /// `$expand` or `$search`.
        option: &'static str,
    },
    /// The same navigation property expanded twice.
    #[error("The navigation property '{0}' appears more than once in $expand.")]
    DuplicateExpand(String),
    /// A `$skiptoken` that was tampered with, signed by another key or minted for another query.
    #[error("The $skiptoken is invalid or has expired.")]
    InvalidSkipToken,
}

impl ODataError {
    /// A `$filter` syntax error at a character position.
    pub(crate) fn syntax(position: usize, message: impl Into<String>) -> Self {
        Self::Syntax {
            position,
            message: message.into(),
        }
    }

    /// A recognised but unsupported `$filter` construct.
    pub(crate) fn unsupported(kind: &'static str, name: impl Into<String>) -> Self {
        Self::Unsupported {
            kind,
            name: name.into(),
        }
    }
}
