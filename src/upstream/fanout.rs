//! Resolution without local state: the tenant's tokens are the upstream's
//! depOnboardingSettings, the legacy default token is decided from them as in local mode
//! (`service::legacy::pick`), and tenant-wide reads walk every token's pages behind one
//! continuation token the gateway signs (the position and the upstream's own `nextLink`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use super::UpCall;
use crate::api::error::ApiError;
use crate::odata::{PageCursor, QueryOption, SqlValue, decode_skiptoken, encode_skiptoken};
use crate::service::legacy::{DefaultToken, pick};
use crate::service::paging::Page;

/// The multi-token collection.
pub const SETTINGS: &str = "/deviceManagement/depOnboardingSettings";

/// Characters kept as they are in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// An id as one path segment (escaped: an id cannot add segments or a query).
pub fn seg(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// `{base}/beta/deviceManagement/depOnboardingSettings/{id}{tail}`.
pub fn on_token(c: &UpCall<'_>, token: &str, tail: &str) -> String {
    c.up.http.beta(&format!("{SETTINGS}/{}{tail}", seg(token)))
}

/// The ids of the caller's tenant's tokens, in the upstream's order.
pub async fn tokens(c: &UpCall<'_>) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    let mut url = c.up.http.beta(&format!("{SETTINGS}?$select=id"));
    loop {
        let page = c.up.http.get_json(c.ctx, &url).await?;
        ids.extend(
            page["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_owned)),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = c.up.checked_link(next)?,
            None => return Ok(ids),
        }
    }
}

/// The legacy default token: the one the request's header or the configuration names for the
/// tenant, else the only token.
pub async fn default_token(c: &UpCall<'_>) -> Result<(Vec<String>, DefaultToken), ApiError> {
    let ids = tokens(c).await?;
    let decided = pick(&ids, c.designated().as_deref());
    Ok((ids, decided))
}

/// The default token for an old tenant-wide write, or the 409 (several tokens, none named) or
/// 400 (no token) that says what to do instead.
pub async fn require_default(c: &UpCall<'_>, per_token_call: &str) -> Result<String, ApiError> {
    match default_token(c).await?.1 {
        DefaultToken::One(id) => Ok(id),
        DefaultToken::NoToken => Err(crate::legacy::resolve::no_token()),
        DefaultToken::Ambiguous(n) => Err(ambiguous(n, per_token_call)),
    }
}

/// The 409 of an old tenant-wide call on a tenant with several tokens and none named.
pub fn ambiguous(n: usize, per_token_call: &str) -> ApiError {
    ApiError::Conflict(format!(
        "This tenant has {n} DEP tokens and none is designated as the legacy default token, so \
             this single-token call cannot choose one. Use {per_token_call} with the id of the \
             token (GET /beta/deviceManagement/depOnboardingSettings lists them), or name the \
             default token with the {} request header or in the gateway's configuration \
             (upstream.default_tokens).",
        crate::http::DEFAULT_TOKEN_HEADER
    ))
}

/// One page of a tenant-wide collection: the items of `sources` (the first-page URLs, one per
/// token) in turn, each token's pages as the upstream cuts them, converted by `convert` (which
/// drops what the old API cannot show). `resource` names the collection in the signature.
pub async fn page(
    c: &UpCall<'_>,
    resource: &str,
    sources: &[String],
    convert: impl Fn(&Map<String, Value>) -> Option<Value>,
) -> Result<Page<Value>, ApiError> {
    let fingerprint = format!(
        "upstream|{}|{}",
        c.tenant,
        c.query.paging_fingerprint(resource)
    );
    let key = &c.up.paging_key;
    let (mut index, mut next) = match &c.query.skiptoken {
        Some(token) => {
            let cursor = decode_skiptoken(token, &fingerprint, key)?;
            match cursor.values.as_slice() {
                [SqlValue::Int(i), SqlValue::Text(next)] => (
                    usize::try_from(*i).map_err(|_| crate::odata::ODataError::InvalidSkipToken)?,
                    Some(next.clone()).filter(|n| !n.is_empty()),
                ),
                _ => return Err(crate::odata::ODataError::InvalidSkipToken.into()),
            }
        }
        None => (0, None),
    };
    let query = c.query.to_query_string_without(&[
        QueryOption::SkipToken,
        QueryOption::Skip,
        QueryOption::Select,
        QueryOption::Count,
    ]);
    while let Some(source) = sources.get(index) {
        let url = match next.take() {
            Some(next) => c.up.checked_link(&next)?,
            None if query.is_empty() => source.clone(),
            None => format!("{source}?{query}"),
        };
        let body = c.up.http.get_json(c.ctx, &url).await?;
        let items: Vec<Value> = body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .filter_map(&convert)
            .collect();
        let upstream_next = body["@odata.nextLink"].as_str().map(str::to_owned);
        let resume = match upstream_next {
            Some(link) => Some((index, link)),
            None => (index + 1 < sources.len()).then(|| (index + 1, String::new())),
        };
        if !items.is_empty() || resume.is_none() {
            let skiptoken = resume.map(|(i, link)| {
                let cursor = PageCursor {
                    values: vec![
                        SqlValue::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                        SqlValue::Text(link),
                    ],
                };
                encode_skiptoken(&cursor, &fingerprint, key)
            });
            return Ok(Page {
                items,
                skiptoken,
                count: None,
            });
        }
        if let Some((i, link)) = resume {
            index = i;
            next = Some(link).filter(|l| !l.is_empty());
        }
    }
    Ok(Page {
        items: Vec::new(),
        skiptoken: None,
        count: None,
    })
}
