//! Turns OData collection options into a storage page request and a page into a response with
//! an opaque, tamper-evident `$skiptoken` (keyset paging: page N costs what page 1 costs).

use serde::Serialize;

use super::ServiceError;
use crate::odata::{self, EntitySpec, PageCursor, PagingKey, QueryOption, QueryOptions, SortKey};
use crate::storage::PageQuery;

/// Options a collection GET accepts.
pub const COLLECTION_OPTIONS: &[QueryOption] = &[
    QueryOption::Select,
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
    QueryOption::Count,
    QueryOption::SkipToken,
];

/// Options a `/$count` GET accepts.
pub const COUNT_OPTIONS: &[QueryOption] = &[QueryOption::Filter];

/// Options a single-entity GET accepts.
pub const ENTITY_OPTIONS: &[QueryOption] = &[QueryOption::Select];

/// One page of a collection.
#[derive(Debug)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Continuation token when more items follow.
    pub skiptoken: Option<String>,
    /// Total matching items, when asked for (or always, where Graph always sends it).
    pub count: Option<i64>,
}

/// A compiled list request.
pub struct ListPlan {
    /// What storage runs (its `limit` asks for one row more than the page, to detect a next page).
    pub query: PageQuery,
    keys: Vec<SortKey>,
    fingerprint: String,
    page_size: usize,
}

/// Validates and compiles the options of a collection GET on `set` (a stable name of the entity
/// set, e.g. `depOnboardingSettings/{id}/enrollmentProfiles`).
pub fn plan(
    spec: &'static EntitySpec,
    set: &str,
    q: &QueryOptions,
    key: &PagingKey,
    max_page_size: u32,
) -> Result<ListPlan, ServiceError> {
    q.ensure_only(COLLECTION_OPTIONS)?;
    let filter = q
        .filter
        .as_ref()
        .map(|f| odata::compile_filter(f, spec))
        .transpose()?;
    let keys = odata::compile_orderby(q.orderby.as_deref().unwrap_or_default(), spec)?;
    // The token binds the set, the filter and the order: it cannot be replayed on another query.
    let fingerprint = q.paging_fingerprint(set);
    let after = match &q.skiptoken {
        Some(token) => {
            let cursor = odata::decode_skiptoken(token, &fingerprint, key)?;
            Some(odata::keyset_condition(&keys, &cursor)?)
        }
        None => None,
    };
    let page_size = q.top.map_or(u64::from(max_page_size), |top| {
        top.min(u64::from(max_page_size))
    });
    let offset = if q.skiptoken.is_some() {
        0
    } else {
        q.skip.unwrap_or(0)
    };
    Ok(ListPlan {
        query: PageQuery {
            filter,
            after,
            order_by: odata::order_by_sql(&keys),
            limit: i64::try_from(page_size).unwrap_or(i64::MAX - 1) + 1,
            offset: i64::try_from(offset).unwrap_or(i64::MAX),
        },
        keys,
        fingerprint,
        page_size: usize::try_from(page_size).unwrap_or(usize::MAX),
    })
}

impl ListPlan {
    /// Cuts the extra row off and, when there was one, issues the token for the next page.
    pub fn finish<T: Serialize>(
        &self,
        mut items: Vec<T>,
        key: &PagingKey,
        count: Option<i64>,
    ) -> Page<T> {
        let skiptoken = if items.len() > self.page_size {
            items.truncate(self.page_size);
            items.last().and_then(|last| self.token_after(last, key))
        } else {
            None
        };
        Page {
            items,
            skiptoken,
            count,
        }
    }

    fn token_after<T: Serialize>(&self, last: &T, key: &PagingKey) -> Option<String> {
        let json = serde_json::to_value(last).ok()?;
        let cursor: PageCursor = odata::cursor_for(&self.keys, &json);
        Some(odata::encode_skiptoken(&cursor, &self.fingerprint, key))
    }
}
