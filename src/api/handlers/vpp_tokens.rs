//! Handlers of `/deviceAppManagement/vppTokens` and of the depOnboardingSettings function
//! `getExpiringVppTokenCount(expiringBeforeDateTime='…')`.

use actix_web::http::StatusCode;
use percent_encoding::percent_decode_str;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::path::unquote;
use crate::api::response::{self, GraphResponse, primitive};
use crate::api::table::{Call, VPP_TOKEN_ID};
use crate::domain::time::parse_ticks;
use crate::domain::vpp::ODATA_TYPE;
use crate::service::vpp_tokens as service;
use crate::storage::vpp_tokens::SPEC;

const SET_PATH: &str = "deviceAppManagement/vppTokens";
const PARAMETER: &str = "expiringBeforeDateTime";

/// `GET /deviceAppManagement/vppTokens`.
pub async fn list_vpp_tokens(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let page = service::list(st, tenant, q).await?;
    Ok(response::collection(
        ctx,
        SET_PATH,
        Some(ODATA_TYPE),
        &page,
        q,
        select.as_deref(),
    ))
}

/// `GET /deviceAppManagement/vppTokens/$count`.
pub async fn count_vpp_tokens(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    Ok(GraphResponse::count(service::count(st, tenant, q).await?))
}

/// `GET /deviceAppManagement/vppTokens/{id}`.
pub async fn get_vpp_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(VPP_TOKEN_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let token = service::get(st, tenant, id).await?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        SET_PATH,
        Some(ODATA_TYPE),
        &token,
        select.as_deref(),
    ))
}

/// `POST /deviceAppManagement/vppTokens` → 201 with the new token (its `token` rendered null).
pub async fn create_vpp_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    let token = service::create(st, tenant, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        SET_PATH,
        Some(ODATA_TYPE),
        &token,
        None,
    );
    resp.headers.push((
        "Location",
        format!("{}/beta/{SET_PATH}/{}", ctx.public_url, token.id),
    ));
    Ok(resp)
}

/// `PATCH /deviceAppManagement/vppTokens/{id}` → 204.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6).
pub async fn update_vpp_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(VPP_TOKEN_ID);
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    service::update(st, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceAppManagement/vppTokens/{id}` → 204.
pub async fn delete_vpp_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(VPP_TOKEN_ID);
    let (st, tenant) = (c.services, c.tenant);
    service::delete(st, tenant, id).await?;
    Ok(GraphResponse::no_content())
}

/// `GET /deviceManagement/depOnboardingSettings/getExpiringVppTokenCount(expiringBeforeDateTime='…')`
/// → `{"value": N}`: the tenant's VPP tokens expiring before the date (expired ones included).
pub async fn get_expiring_vpp_token_count(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let before = expiring_before(c.params.args.as_deref(), c.raw_query)?;
    let n = service::count_expiring_before(st, tenant, before).await?;
    Ok(primitive(ctx, &json!(i32::try_from(n).unwrap_or(i32::MAX))))
}

/// The `expiringBeforeDateTime` parameter in ticks: inline in the path (quoted or not; the path
/// is already percent-decoded), through a parameter alias (`=@p` with `@p=…` in the query), or
/// as a query parameter when the path has none (OData 4.01 implicit alias).
fn expiring_before(args: Option<&str>, query: &str) -> Result<i64, ApiError> {
    let args = args.map(str::trim).filter(|a| !a.is_empty());
    let value = match args {
        Some(args) => inline_value(args, query)?,
        None => query_value(query, PARAMETER).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "The parameter '{PARAMETER}' of getExpiringVppTokenCount is required, e.g. \
                 getExpiringVppTokenCount({PARAMETER}='2026-12-31T00:00:00Z')."
            ))
        })?,
    };
    // Edm.String holding a DateTimeOffset: quoted or not.
    let text = unquote(value.trim());
    parse_ticks(&text).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "The parameter '{PARAMETER}' must be a DateTimeOffset such as \
             '2026-12-31T00:00:00Z'; '{}' is not one.",
            text.chars().take(64).collect::<String>()
        ))
    })
}

/// The value of `expiringBeforeDateTime=…`, the only parameter allowed in the parentheses.
fn inline_value(args: &str, query: &str) -> Result<String, ApiError> {
    let Some((name, value)) = args.split_once('=') else {
        return Err(ApiError::BadRequest(format!(
            "The parameters of getExpiringVppTokenCount must be named: \
             ({PARAMETER}='2026-12-31T00:00:00Z')."
        )));
    };
    let name = name.trim();
    if !name.eq_ignore_ascii_case(PARAMETER) {
        return Err(ApiError::BadRequest(format!(
            "'{name}' is not a parameter of getExpiringVppTokenCount; its only parameter is \
             '{PARAMETER}'."
        )));
    }
    let value = value.trim();
    match value.strip_prefix('@') {
        Some(alias) => query_value(query, &format!("@{alias}")).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "The parameter alias '@{alias}' has no value in the query string."
            ))
        }),
        None => Ok(value.to_owned()),
    }
}

/// A non-system query parameter, percent-decoded. `+` stays `+`: here it is a time-zone
/// offset far more often than an encoded space.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|piece| {
        let (raw_name, raw_value) = piece.split_once('=')?;
        let decoded = percent_decode_str(raw_name).decode_utf8().ok()?;
        decoded
            .eq_ignore_ascii_case(name)
            .then(|| percent_decode_str(raw_value).decode_utf8().ok())
            .flatten()
            .map(std::borrow::Cow::into_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::format_ticks;

    fn before(args: Option<&str>, query: &str) -> Result<String, String> {
        expiring_before(args, query)
            .map(format_ticks)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_quoted_unquoted_aliased_and_query_forms() {
        let want = Ok("2026-12-31T00:00:00.0000000Z".to_owned());
        assert_eq!(
            before(Some("expiringBeforeDateTime='2026-12-31T00:00:00Z'"), ""),
            want
        );
        assert_eq!(
            before(Some("expiringBeforeDateTime=2026-12-31T00:00:00Z"), ""),
            want
        );
        assert_eq!(
            before(
                Some(" ExpiringBeforeDateTime = '2026-12-31T01:00:00+01:00' "),
                ""
            ),
            want
        );
        assert_eq!(
            before(
                Some("expiringBeforeDateTime=@d"),
                "@d='2026-12-31T01:00:00%2B01:00'"
            ),
            want
        );
        assert_eq!(
            before(
                Some("expiringBeforeDateTime=@d"),
                "@d=2026-12-31T01:00:00+01:00"
            ),
            want
        );
        assert_eq!(
            before(
                None,
                "expiringBeforeDateTime=%272026-12-31T00%3A00%3A00Z%27"
            ),
            want
        );
        assert_eq!(
            before(Some(""), "expiringBeforeDateTime=2026-12-31T00:00:00Z"),
            want
        );
    }

    #[test]
    fn names_what_is_missing_or_malformed() {
        for (args, query, needle) in [
            (None, "", "is required"),
            (Some(""), "$top=1", "is required"),
            (Some("'2026-12-31T00:00:00Z'"), "", "must be named"),
            (
                Some("before='2026-12-31T00:00:00Z'"),
                "",
                "'before' is not a parameter",
            ),
            (
                Some("expiringBeforeDateTime='tomorrow'"),
                "",
                "'tomorrow' is not one",
            ),
            (Some("expiringBeforeDateTime=''"), "", "'' is not one"),
            (Some("expiringBeforeDateTime=@p"), "", "'@p' has no value"),
            (
                Some("expiringBeforeDateTime='2026-12-31T00:00:00Z',x=1"),
                "",
                "is not one",
            ),
        ] {
            let err = before(args, query).unwrap_err();
            assert!(err.contains(needle), "{args:?} {query}: {err}");
        }
    }
}
