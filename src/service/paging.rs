//! Turns OData collection options into a storage page request and a page into a response with
//! an opaque, tamper-evident `$skiptoken` (keyset paging: page N costs what page 1 costs).

use serde::Serialize;
use serde_json::Value;

use super::ServiceError;
use crate::domain::ValidationError;
use crate::odata::{
    self, EntitySpec, Expr, PageCursor, PagingKey, QueryOption, QueryOptions, SortKey,
    SqlCondition, StringFunction,
};
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

/// Options a collection GET accepts where `$search` is supported.
pub const SEARCHABLE_COLLECTION_OPTIONS: &[QueryOption] = &[
    QueryOption::Select,
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
    QueryOption::Count,
    QueryOption::SkipToken,
    QueryOption::Search,
];

/// Options a collection GET accepts where `$search` and `$expand` are supported.
pub const EXPANDABLE_SEARCHABLE_COLLECTION_OPTIONS: &[QueryOption] = &[
    QueryOption::Select,
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
    QueryOption::Count,
    QueryOption::SkipToken,
    QueryOption::Search,
    QueryOption::Expand,
];

/// Options a `/$count` GET accepts where `$search` is supported.
pub const SEARCHABLE_COUNT_OPTIONS: &[QueryOption] = &[QueryOption::Filter, QueryOption::Search];

/// Options a `/$count` GET accepts.
pub const COUNT_OPTIONS: &[QueryOption] = &[QueryOption::Filter];

/// Options a single-entity GET accepts.
pub const ENTITY_OPTIONS: &[QueryOption] = &[QueryOption::Select];

/// Options a single-entity GET accepts where the entity has navigations to expand.
pub const EXPANDABLE_ENTITY_OPTIONS: &[QueryOption] = &[QueryOption::Select, QueryOption::Expand];

/// Validates `$expand` on an entity type without navigation properties: `*` expands nothing
/// (OData allows it on any type); a name is Graph's "Could not find a navigation property".
pub fn check_no_navigations(q: &QueryOptions, entity: &str) -> Result<(), ServiceError> {
    let Some(raw) = &q.expand else {
        return Ok(());
    };
    match odata::parse_expand(raw)?.into_iter().find(|i| !i.is_all()) {
        Some(item) => Err(ValidationError::new(format!(
            "Could not find a navigation property named '{}' on type '{entity}'.",
            item.name
        ))
        .into()),
        None => Ok(()),
    }
}

/// `$filter` and `$search` as one expression: `$search=term` is `contains(p1, term) or
/// contains(p2, term) …` over the set's searchable properties (none: not searchable).
pub fn effective_filter(
    q: &QueryOptions,
    search_properties: &[&str],
) -> Result<Option<Expr>, ServiceError> {
    let search = match &q.search {
        Some(raw) if !search_properties.is_empty() => {
            let term = odata::parse_search(raw)?;
            search_properties
                .iter()
                .map(|p| Expr::Function {
                    func: StringFunction::Contains,
                    property: (*p).into(),
                    value: term.clone(),
                })
                .reduce(|a, b| Expr::Or(Box::new(a), Box::new(b)))
        }
        _ => None,
    };
    Ok(match (q.filter.clone(), search) {
        (Some(f), Some(s)) => Some(Expr::And(Box::new(f), Box::new(s))),
        (f, s) => f.or(s),
    })
}

/// Validates the options of a `/$count` GET and compiles its `$filter` (and `$search`, where the
/// set supports it).
pub fn count_filter(
    spec: &'static EntitySpec,
    q: &QueryOptions,
    search_properties: &[&str],
) -> Result<Option<SqlCondition>, ServiceError> {
    q.ensure_only(if search_properties.is_empty() {
        COUNT_OPTIONS
    } else {
        SEARCHABLE_COUNT_OPTIONS
    })?;
    Ok(effective_filter(q, search_properties)?
        .map(|f| odata::compile_filter(&f, spec))
        .transpose()?)
}

/// The items on one page: `$top`, capped at `max_page_size`.
pub fn page_size(q: &QueryOptions, max_page_size: u32) -> u64 {
    q.top.map_or(u64::from(max_page_size), |top| {
        top.min(u64::from(max_page_size))
    })
}

/// Filters, sorts and pages items held in memory (rendered as Graph JSON) with exactly the
/// semantics of the SQL path, for sets small enough to load whole.
pub fn page_in_memory(
    spec: &'static EntitySpec,
    set: &str,
    q: &QueryOptions,
    key: &PagingKey,
    max_page_size: u32,
    search_properties: &[&str],
    items: Vec<Value>,
) -> Result<Page<Value>, ServiceError> {
    q.ensure_only(EXPANDABLE_SEARCHABLE_COLLECTION_OPTIONS)?;
    let predicate = effective_filter(q, search_properties)?
        .map(|f| odata::compile_predicate(&f, spec))
        .transpose()?;
    let keys = odata::compile_orderby(q.orderby.as_deref().unwrap_or_default(), spec)?;
    let fingerprint = q.paging_fingerprint(set);
    let cursor = match &q.skiptoken {
        Some(token) => {
            let cursor = odata::decode_skiptoken(token, &fingerprint, key)?;
            odata::check_cursor(&keys, &cursor)?;
            Some(cursor)
        }
        None => None,
    };
    let mut matching: Vec<Value> = items
        .into_iter()
        .filter(|i| predicate.as_ref().is_none_or(|p| p.matches(i)))
        .collect();
    let count = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    matching.sort_by(|a, b| odata::compare(&keys, a, b));
    let skip = match &cursor {
        Some(c) => matching
            .iter()
            .take_while(|i| !odata::is_after(&keys, c, i))
            .count(),
        None => usize::try_from(q.skip.unwrap_or(0)).unwrap_or(usize::MAX),
    };
    let pager = Pager {
        keys,
        fingerprint,
        page_size: usize::try_from(page_size(q, max_page_size)).unwrap_or(usize::MAX),
    };
    let page: Vec<Value> = matching
        .into_iter()
        .skip(skip)
        .take(pager.page_size.saturating_add(1))
        .collect();
    Ok(pager.finish(page, key, q.count.then_some(count)))
}

/// A validated `$filter`/`$orderby`/`$skip`/`$top` for a list cut in memory without paging
/// tokens (a collection expanded inside another entity).
#[derive(Debug, Clone)]
pub struct InMemoryPage {
    predicate: Option<odata::Predicate>,
    keys: Vec<SortKey>,
    skip: usize,
    top: usize,
}

/// Validates nested options against `spec` for [`InMemoryPage::apply`]; `$top` is capped at
/// `max_page_size`.
pub fn in_memory_page(
    spec: &'static EntitySpec,
    q: &QueryOptions,
    max_page_size: u32,
) -> Result<InMemoryPage, ServiceError> {
    let predicate = q
        .filter
        .as_ref()
        .map(|f| odata::compile_predicate(f, spec))
        .transpose()?;
    let keys = odata::compile_orderby(q.orderby.as_deref().unwrap_or_default(), spec)?;
    Ok(InMemoryPage {
        predicate,
        keys,
        skip: usize::try_from(q.skip.unwrap_or(0)).unwrap_or(usize::MAX),
        top: usize::try_from(page_size(q, max_page_size)).unwrap_or(usize::MAX),
    })
}

impl InMemoryPage {
    /// Filters, sorts and cuts the items, with the semantics of the SQL path.
    pub fn apply(&self, items: Vec<Value>) -> Vec<Value> {
        let mut kept: Vec<Value> = items
            .into_iter()
            .filter(|i| self.predicate.as_ref().is_none_or(|p| p.matches(i)))
            .collect();
        kept.sort_by(|a, b| odata::compare(&self.keys, a, b));
        kept.into_iter().skip(self.skip).take(self.top).collect()
    }
}

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
    /// Cuts the page and issues the next token.
    pub pager: Pager,
}

/// What it takes to cut a page and sign the token of the next one.
pub struct Pager {
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
    plan_searchable(spec, set, q, key, max_page_size, &[])
}

/// Like [`plan`], for a set whose `$search` is a contains-match on any of `search_properties`.
pub fn plan_searchable(
    spec: &'static EntitySpec,
    set: &str,
    q: &QueryOptions,
    key: &PagingKey,
    max_page_size: u32,
    search_properties: &[&str],
) -> Result<ListPlan, ServiceError> {
    // The row already limited the options; `$expand` is the handler's (navigations differ).
    q.ensure_only(if search_properties.is_empty() {
        COLLECTION_OPTIONS
    } else {
        EXPANDABLE_SEARCHABLE_COLLECTION_OPTIONS
    })?;
    let filter = effective_filter(q, search_properties)?
        .map(|f| odata::compile_filter(&f, spec))
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
    let page_size = page_size(q, max_page_size);
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
        pager: Pager {
            keys,
            fingerprint,
            page_size: usize::try_from(page_size).unwrap_or(usize::MAX),
        },
    })
}

impl Pager {
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
