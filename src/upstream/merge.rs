//! Tenant-wide lists over the upstream: a k-way merge of every token's pages. Each token's list
//! is asked for with the request's own `$filter`, `$search`, `$orderby` and `$top`, so the
//! upstream returns each in the request's order (`$orderby`, then `id`, as local mode sorts);
//! the gateway merges the heads, so the tenant-wide list comes out in that one order, as local
//! mode's single query answers it. `$count=true` is the sum of the tokens' counts.
//!
//! The continuation token the gateway signs keeps each token's position: the upstream URL of
//! the page it is in (its first page or one of its `@odata.nextLink`s; empty once exhausted),
//! its last known count, and the sort values of the last item served. A next page fetches each
//! unfinished token's page again and drops what is not after that item; it needs no token list.

use std::collections::VecDeque;

use futures_util::future::try_join_all;
use serde_json::{Map, Value};

use super::UpCall;
use super::fanout::{on_token, tokens};
use crate::api::error::ApiError;
use crate::odata::{
    EntitySpec, ODataError, PageCursor, QueryOption, SortKey, SqlValue, check_cursor, compare,
    compile_orderby, cursor_for, decode_skiptoken, encode_skiptoken, is_after,
};
use crate::service::paging::{Page, page_size};

/// Where the lists to merge are.
pub enum Sources<'s> {
    /// `{token}{tail}` on each of the caller's tenant's tokens.
    PerToken(&'s str),
    /// One upstream list (absolute URL).
    One(String),
}

/// One token's list, as far as this request has read it.
struct Stream {
    /// The URL to read when the buffer runs out (the first page, then each `nextLink`).
    fetch: Option<String>,
    /// The URL of the page the buffer came from.
    current: String,
    /// Items of that page not served yet.
    buf: VecDeque<Value>,
    /// The token's `@odata.count`, when the upstream sent one.
    count: Option<i64>,
}

impl Stream {
    fn new(url: String, count: Option<i64>) -> Self {
        Self {
            fetch: Some(url).filter(|u| !u.is_empty()),
            current: String::new(),
            buf: VecDeque::new(),
            count,
        }
    }

    /// Reads pages until the buffer holds an item after `after`, or the list ends.
    async fn fill(
        &mut self,
        c: &UpCall<'_>,
        keys: &[SortKey],
        after: Option<&PageCursor>,
    ) -> Result<(), ApiError> {
        while self.buf.is_empty() {
            let Some(url) = self.fetch.take() else {
                return Ok(());
            };
            let url = c.up.checked_link(&url)?;
            let mut body = c.up.http.get_json(c.ctx, &url).await?;
            if let Some(n) = body["@odata.count"].as_i64() {
                self.count = Some(n);
            }
            self.fetch = body["@odata.nextLink"].as_str().map(str::to_owned);
            self.buf = match body.get_mut("value").map(Value::take) {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .filter(Value::is_object)
                    .filter(|i| after.is_none_or(|a| is_after(keys, a, i)))
                    .collect(),
                _ => VecDeque::new(),
            };
            self.current = url;
        }
        Ok(())
    }
}

/// One page of the merged list of `sources`, in the request's order, each item converted by
/// `convert`; `spec` is the upstream items' (the sort keys are resolved on it) and `resource`
/// names the list in the continuation's signature.
pub async fn page(
    c: &UpCall<'_>,
    resource: &str,
    spec: &'static EntitySpec,
    sources: Sources<'_>,
    convert: impl Fn(&Map<String, Value>) -> Value,
) -> Result<Page<Value>, ApiError> {
    let q = &c.query;
    let keys = compile_orderby(q.orderby.as_deref().unwrap_or_default(), spec)?;
    let fingerprint = format!("upstream|{}|{}", c.tenant, q.paging_fingerprint(resource));
    let key = &c.up.paging_key;
    let (mut streams, after) = match &q.skiptoken {
        Some(token) => {
            let (streams, after) = decode(&decode_skiptoken(token, &fingerprint, key)?)?;
            check_cursor(&keys, &after)?;
            (streams, Some(after))
        }
        None => (first_pages(c, sources).await?, None),
    };
    try_join_all(streams.iter_mut().map(|s| s.fill(c, &keys, after.as_ref()))).await?;
    let mut skip = match q.skiptoken {
        Some(_) => 0,
        None => q.skip.unwrap_or(0),
    };
    let size = usize::try_from(page_size(q, c.up.max_page_size)).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last = None;
    while items.len() < size {
        let head = streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.buf.front().map(|h| (i, h)))
            .min_by(|(i, a), (j, b)| compare(&keys, a, b).then(i.cmp(j)))
            .map(|(i, _)| i);
        let Some(i) = head else { break };
        let Some(item) = streams[i].buf.pop_front() else {
            break;
        };
        let cursor = cursor_for(&keys, &item);
        streams[i].fill(c, &keys, Some(&cursor)).await?;
        last = Some(cursor);
        if skip > 0 {
            skip -= 1;
        } else if let Value::Object(obj) = &item {
            items.push(convert(obj));
        }
    }
    let more = streams.iter().any(|s| !s.buf.is_empty());
    let skiptoken = match last {
        Some(last) if more => Some(encode_skiptoken(&encode(&streams, last), &fingerprint, key)),
        _ => None,
    };
    Ok(Page {
        items,
        skiptoken,
        count: q.count.then(|| {
            streams
                .iter()
                .filter_map(|s| s.count)
                .fold(0i64, i64::saturating_add)
        }),
    })
}

/// The first page of each list, with the request's options (its `$select` is the gateway's to
/// apply on the converted items; `$skip` the gateway's, over the merged list).
async fn first_pages(c: &UpCall<'_>, sources: Sources<'_>) -> Result<Vec<Stream>, ApiError> {
    let urls = match sources {
        Sources::PerToken(tail) => tokens(c)
            .await?
            .iter()
            .map(|t| on_token(c, t, tail))
            .collect(),
        Sources::One(url) => vec![url],
    };
    let mut query = c.query.to_query_string_without(&[
        QueryOption::SkipToken,
        QueryOption::Skip,
        QueryOption::Select,
        QueryOption::Count,
    ]);
    if c.query.count {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("$count=true");
    }
    Ok(urls
        .into_iter()
        .map(|u| {
            let url = if query.is_empty() {
                u
            } else {
                format!("{u}?{query}")
            };
            Stream::new(url, None)
        })
        .collect())
}

/// The continuation: `[n, (url, count)×n, last item's sort values…]` (count −1: unknown).
fn encode(streams: &[Stream], last: PageCursor) -> PageCursor {
    let mut values = vec![SqlValue::Int(i64::try_from(streams.len()).unwrap_or(0))];
    for s in streams {
        let url = if s.buf.is_empty() {
            String::new()
        } else {
            s.current.clone()
        };
        values.push(SqlValue::Text(url));
        values.push(SqlValue::Int(s.count.unwrap_or(-1)));
    }
    values.extend(last.values);
    PageCursor { values }
}

fn decode(cursor: &PageCursor) -> Result<(Vec<Stream>, PageCursor), ODataError> {
    let invalid = || ODataError::InvalidSkipToken;
    let Some(SqlValue::Int(n)) = cursor.values.first() else {
        return Err(invalid());
    };
    let n = usize::try_from(*n).map_err(|_| invalid())?;
    let end = n
        .checked_mul(2)
        .and_then(|m| m.checked_add(1))
        .ok_or_else(invalid)?;
    let positions = cursor.values.get(1..end).ok_or_else(invalid)?;
    let streams = positions
        .chunks(2)
        .map(|pair| match pair {
            [SqlValue::Text(url), SqlValue::Int(count)] => {
                Ok(Stream::new(url.clone(), (*count >= 0).then_some(*count)))
            }
            _ => Err(invalid()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let after = PageCursor {
        values: cursor.values[end..].to_vec(),
    };
    Ok((streams, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_decodes_to_what_was_encoded() {
        let mut done = Stream::new(String::new(), Some(3));
        done.fetch = None;
        let mut open = Stream::new(String::new(), None);
        open.current = "http://up/beta/x?$skiptoken=a".to_owned();
        open.buf.push_back(Value::Null);
        let last = PageCursor {
            values: vec![SqlValue::Text("SERIAL".into()), SqlValue::Int(7)],
        };
        let (streams, after) = decode(&encode(&[done, open], last.clone())).unwrap();
        assert_eq!(after, last);
        assert_eq!(streams.len(), 2);
        assert_eq!(streams[0].fetch, None);
        assert_eq!(streams[0].count, Some(3));
        assert_eq!(
            streams[1].fetch.as_deref(),
            Some("http://up/beta/x?$skiptoken=a")
        );
        assert_eq!(streams[1].count, None);
        let short = PageCursor {
            values: vec![SqlValue::Int(2), SqlValue::Text(String::new())],
        };
        assert!(decode(&short).is_err());
    }
}
