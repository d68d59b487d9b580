//! Runs a Graph request through the operation table: match the path, refuse what the row does
//! not allow (legacy API off, method, permission, query options), then call the row's handler
//! with typed inputs.

use super::context::RequestCtx;
use super::error::ApiError;
use super::matcher::Table;
use super::request::GraphRequest;
use super::response::GraphResponse;
use super::table::{Call, Query, Request};
use crate::odata::QueryOptions;
use crate::service::Services;

/// Dispatches `req` (already authenticated and throttled) to its row's handler. Once a row
/// matched, `ctx.operation` names it (the label of the request's metrics), refused or not.
pub async fn dispatch(
    table: &'static Table,
    services: &Services,
    legacy_api: bool,
    ctx: &mut RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let found = table.find(&req.segments)?;
    if !legacy_api && let Some(segment) = found.rows.iter().find_map(|r| r.legacy) {
        // GRAPH-COMPAT: what Graph itself answers for the single-token paths since the switch
        // to multi-token DEP.
        return Err(ApiError::SegmentNotFound(segment.to_owned()));
    }
    let row = found
        .rows
        .iter()
        .find(|r| r.verb.is(&req.method))
        .ok_or(ApiError::MethodNotAllowed)?;
    ctx.operation = Some(row.id.as_str());
    let tenant = ctx.require(row.permission)?;
    let query = match row.query {
        Query::Only(allowed) => {
            let query = QueryOptions::parse(&req.query)?;
            query.ensure_only(allowed)?;
            query
        }
        Query::Ignored => QueryOptions::default(),
    };
    if matches!(row.request, Request::NoParams) {
        let action = row.path.rsplit('/').next().unwrap_or_default();
        super::request::no_parameters(&req.body, action)?;
    }
    (row.handler)(Call {
        services,
        ctx,
        tenant,
        query,
        params: found.params,
        body: &req.body,
        raw_query: &req.query,
    })
    .await
}
