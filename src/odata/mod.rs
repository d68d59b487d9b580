//! `OData` query options, the `$filter` parser and its SQL compilation, and keyset paging tokens.
//!
//! Flow for a collection request: [`QueryOptions::parse`] the raw query, [`QueryOptions::ensure_only`]
//! the options the resource accepts, [`compile_filter`] and [`compile_orderby`] against the
//! entity's [`EntitySpec`], add [`keyset_condition`] for a decoded [`decode_skiptoken`] cursor, and
//! sign the next page's cursor ([`cursor_for`], [`encode_skiptoken`]) into a nextLink rebuilt with
//! [`QueryOptions::to_query_string_without`].

mod ast;
mod error;
mod filter;
mod lexer;
mod paging;
mod query;
mod skiptoken;
mod spec;
mod sql;

pub use ast::{CmpOp, Expr, Literal, StringFunction};
pub use error::ODataError;
pub use filter::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, parse_filter};
pub use paging::{
    NULL_INT_SENTINEL, PageCursor, SortKey, compile_orderby, cursor_for, keyset_condition,
    order_by_sql, sort_expression,
};
pub use query::{OrderBy, QueryOption, QueryOptions};
pub use skiptoken::{PagingKey, decode_skiptoken, encode_skiptoken};
pub use spec::{EntitySpec, Field, FieldKind, resolve_select};
pub use sql::{SqlCondition, SqlPart, SqlValue, compile_filter};
