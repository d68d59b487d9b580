//! Resolution without local state: the tenant's tokens are the upstream's
//! depOnboardingSettings, the legacy default token is decided from them as in local mode
//! (`service::legacy::pick`); tenant-wide reads merge every token's pages (`super::merge`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::UpCall;
use crate::api::error::ApiError;
use crate::service::legacy::{DefaultToken, pick};

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
