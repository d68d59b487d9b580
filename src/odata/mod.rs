//! `OData` query options, the `$filter` parser and its SQL compilation or in-memory evaluation,
//! keyset paging tokens, and the `$search` / `$expand` parsers.
//!
//! Flow for a collection request: [`QueryOptions::parse`] the raw query, [`QueryOptions::ensure_only`]
//! the options the resource accepts, [`compile_filter`] and [`compile_orderby`] against the
//! entity's [`EntitySpec`], add [`keyset_condition`] for a decoded [`decode_skiptoken`] cursor, and
//! sign the next page's cursor ([`cursor_for`], [`encode_skiptoken`]) into a nextLink rebuilt with
//! [`QueryOptions::to_query_string_without`].
//!
//! Entity sets held as JSON documents (polymorphic enrollment profiles) run the same flow in
//! memory over each item's Graph JSON rendering, with the same validation, errors and semantics:
//! [`compile_predicate`] instead of [`compile_filter`] (validate once, even for an empty list,
//! then [`Predicate::matches`] per item; [`check_filter`] and [`matches()`] are one-shot forms),
//! sort with [`compare`] instead of [`order_by_sql`], and after [`check_cursor`] keep the items
//! [`is_after`] the decoded cursor instead of adding [`keyset_condition`]; [`cursor_for`] and the
//! tokens are shared. [`parse_search`] extracts the `$search` term (applied by callers as a
//! case-insensitive contains, see [`search_matches`]) and [`parse_expand`] splits `$expand` into
//! [`ExpandItem`]s for callers to match against their navigation properties.

mod ast;
mod check;
mod error;
mod eval;
mod expand;
mod filter;
mod lexer;
mod paging;
mod query;
mod search;
mod skiptoken;
mod sort;
mod spec;
mod sql;

#[cfg(test)]
mod parity_tests;

pub use ast::{CaseFunction, CmpOp, Expr, Literal, Operand, StringFunction};
pub use error::ODataError;
pub use eval::{Predicate, check_filter, compile_predicate, matches};
pub use expand::{ExpandItem, NESTED_OPTIONS, parse_expand};
pub use filter::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter};
pub use paging::{
    NULL_INT_SENTINEL, PageCursor, SortKey, check_cursor, compile_orderby, cursor_for,
    keyset_condition, order_by_sql, sort_expression,
};
pub use query::{OrderBy, QueryOption, QueryOptions};
pub use search::{parse_search, search_matches};
pub use skiptoken::{PagingKey, decode_skiptoken, encode_skiptoken};
pub use sort::{compare, is_after};
pub use spec::{EntitySpec, Field, FieldKind, NAMESPACE, SpecType, resolve_select};
pub use sql::{Seek, SqlCondition, SqlPart, SqlValue, compile_filter};
