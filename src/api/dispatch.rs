//! Runs a Graph request through the operation table: match the path, refuse what the row does
//! not allow (legacy API off, method, permission, query options), then call the row's handler
//! with typed inputs.

use super::context::RequestCtx;
use super::error::ApiError;
use super::matcher::Table;
use super::request::GraphRequest;
use super::response::GraphResponse;
use super::table::{Call, Operation, Request};
use crate::domain::ids::TenantId;
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
    let (row, tenant, query) = admit(found.rows, ctx, req)?;
    let caller = audit_caller(ctx);
    let call = (row.handler)(Call {
        services,
        ctx,
        tenant,
        query,
        params: found.params,
        body: &req.body,
        raw_query: &req.query,
    });
    crate::service::audit::scope(caller, call).await
}

/// What every row's request passes before its handler runs, here or in upstream mode: the row
/// of the request's method (`ctx.operation` names it from then on, refused or not), the
/// caller's tenant once the row's permission is checked, the query options the row accepts,
/// and no parameters where the row takes none.
pub fn admit(
    rows: &'static [&'static Operation],
    ctx: &mut RequestCtx,
    req: &GraphRequest,
) -> Result<(&'static Operation, TenantId, QueryOptions), ApiError> {
    let row = *rows
        .iter()
        .find(|r| r.verb.is(&req.method))
        .ok_or(ApiError::MethodNotAllowed)?;
    ctx.operation = Some(row.id.as_str());
    let tenant = ctx.require(row.permission)?;
    let query = row.query.parse(&req.query)?;
    if matches!(row.request, Request::NoParams) {
        let action = row.path.rsplit('/').next().unwrap_or_default();
        super::request::no_parameters(&req.body, action)?;
    }
    Ok((row, tenant, query))
}

/// The actor, request id and operation every write of this request is audited with.
fn audit_caller(ctx: &RequestCtx) -> crate::service::audit::Caller {
    use crate::auth::CallerKind;
    use crate::service::audit::{ACTOR_APPLICATION, ACTOR_USER, Caller};
    let p = ctx.principal.as_ref();
    let kind = match p.map(|p| p.caller) {
        Some(CallerKind::Delegated) => ACTOR_USER,
        _ => ACTOR_APPLICATION,
    };
    Caller {
        actor: crate::storage::audit::AuditActor {
            audit_actor_type: kind.to_owned(),
            kind: kind.to_owned(),
            user_id: p.and_then(|p| p.object_id.clone()),
            user_principal_name: p.and_then(|p| p.upn.clone()),
            application_id: p.and_then(|p| p.app_id.clone()),
            application_display_name: p.and_then(|p| p.app_display_name.clone()),
            ip_address: ctx.client_ip.clone(),
            user_permissions: p.map(|p| p.permissions().to_vec()).unwrap_or_default(),
            ..Default::default()
        },
        correlation_id: ctx.request_id.clone(),
        operation: ctx.operation.map(str::to_owned),
    }
}
