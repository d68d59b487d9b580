//! The retired single-token DEP API (Graph beta, 2016 – mid-2018), served by translating each
//! old call onto the multi-token model: [`routes`] resolves the old paths, [`resolve`] picks the
//! token a call goes to, [`convert`] holds the pure shape conversions, and the handlers call the
//! same services as the current routes. Switched off with `legacy_api = false`.

pub mod cli;
pub mod convert;
pub mod default_token;
pub mod devices;
pub mod profiles;
pub mod resolve;
pub mod routes;
pub mod settings;

use actix_web::http::Method;

use crate::http::AppState;
use crate::http::context::RequestCtx;
use crate::http::error::ApiError;
use crate::http::response::GraphResponse;
use crate::http::routes::GraphRequest;
use routes::LegacyRoute;

/// Runs the handler of an old path.
pub async fn dispatch(
    st: &AppState,
    ctx: &RequestCtx,
    route: LegacyRoute,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    use Method as M;
    if !st.legacy_api {
        // GRAPH-COMPAT: what Graph itself answers for these paths since the switch to
        // multi-token DEP.
        return Err(ApiError::SegmentNotFound(route.segment().to_owned()));
    }
    match (route, &req.method) {
        (LegacyRoute::OrgSettings { org }, &M::GET) => settings::list(st, ctx, req, &org).await,
        (LegacyRoute::OrgSettings { org }, &M::POST) => settings::create(st, ctx, req, &org).await,
        (LegacyRoute::OrgSetting { org, id }, &M::GET) => {
            settings::get(st, ctx, req, &org, &id).await
        }
        (LegacyRoute::OrgSetting { org, id }, &M::PATCH) => {
            settings::update(st, ctx, req, &org, &id).await
        }
        (LegacyRoute::OrgSetting { org, id }, &M::DELETE) => {
            settings::delete(st, ctx, &org, &id).await
        }
        (LegacyRoute::OrgOperation { org, op }, method) => {
            settings::check_organization(ctx, &org)?;
            settings::collection_operation(st, ctx, req, op, method).await
        }
        (LegacyRoute::CollectionOperation(op), method) => {
            settings::collection_operation(st, ctx, req, op, method).await
        }
        (LegacyRoute::Profiles, &M::GET) => profiles::list(st, ctx, req).await,
        (LegacyRoute::Profiles, &M::POST) => profiles::create(st, ctx, req).await,
        (LegacyRoute::ProfilesCount, &M::GET) => profiles::count(st, ctx, req).await,
        (LegacyRoute::Profile(id), &M::GET) => profiles::get(st, ctx, req, &id).await,
        (LegacyRoute::Profile(id), &M::PATCH) => profiles::update(st, ctx, req, &id).await,
        (LegacyRoute::Profile(id), &M::DELETE) => profiles::delete(st, ctx, &id).await,
        (LegacyRoute::ProfileOperation { id, op }, method) => {
            profiles::operation(st, ctx, req, &id, op, method).await
        }
        (LegacyRoute::Devices, &M::GET) => devices::list(st, ctx, req).await,
        (LegacyRoute::Devices, &M::POST) => devices::create(st, ctx, req).await,
        (LegacyRoute::DevicesCount, &M::GET) => devices::count(st, ctx, req).await,
        (LegacyRoute::Device(id), &M::GET) => devices::get(st, ctx, req, &id).await,
        (LegacyRoute::Device(id), &M::PATCH) => devices::update(st, ctx, req, &id).await,
        (LegacyRoute::Device(id), &M::DELETE) => devices::delete(st, ctx, &id).await,
        (LegacyRoute::ImportDevices, &M::POST) => devices::import(st, ctx, req).await,
        (LegacyRoute::DefaultToken, &M::GET) => default_token::get(st, ctx).await,
        (LegacyRoute::DefaultToken, &(M::PUT | M::PATCH)) => default_token::set(st, ctx, req).await,
        (LegacyRoute::DefaultToken, &M::DELETE) => default_token::clear(st, ctx).await,
        _ => Err(ApiError::MethodNotAllowed),
    }
}
