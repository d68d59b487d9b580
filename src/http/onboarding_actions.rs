//! Handlers of a depOnboardingSetting's bound operations: encryption keys, server-token upload,
//! sync with Apple, School Data Sync sharing.

use actix_web::http::Method;
use serde_json::json;

use super::context::RequestCtx;
use super::error::ApiError;
use super::response::GraphResponse;
use super::response::primitive;
use super::routes::{GraphRequest, SettingOp};
use super::{AppState, json_object, optional_json_object};
use crate::auth::Permission;
use crate::service::apple;

/// Runs `op` on the setting.
pub async fn setting_operation(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    op: SettingOp,
    method: &Method,
) -> Result<GraphResponse, ApiError> {
    let svc = &st.services;
    match (op, method) {
        // GRAPH-COMPAT: Graph publishes the read permissions for generateEncryptionPublicKey
        // although it is a POST (graph-dep-api.md §1).
        (SettingOp::GenerateEncryptionPublicKey, &Method::POST) => {
            let tenant = ctx.require(Permission::Read)?;
            optional_json_object(&req.body)?;
            Ok(primitive(
                ctx,
                &json!(apple::generate_key(svc, tenant, setting).await?),
            ))
        }
        (SettingOp::GetEncryptionPublicKey, &Method::GET) => {
            let tenant = ctx.require(Permission::Read)?;
            Ok(primitive(
                ctx,
                &json!(apple::get_key(svc, tenant, setting).await?),
            ))
        }
        (SettingOp::UploadDepToken, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            let upload = apple::parse_upload(&json_object(&req.body)?)?;
            apple::upload(svc, tenant, setting, upload).await?;
            Ok(GraphResponse::no_content())
        }
        (
            op @ (SettingOp::ShareForSchoolDataSyncService
            | SettingOp::UnshareForSchoolDataSyncService),
            &Method::POST,
        ) => {
            let tenant = ctx.require(Permission::Write)?;
            optional_json_object(&req.body)?;
            let share = op == SettingOp::ShareForSchoolDataSyncService;
            apple::share_with_school_data_sync(svc, tenant, setting, share).await?;
            Ok(GraphResponse::no_content())
        }
        (SettingOp::SyncWithAppleDeviceEnrollmentProgram, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            optional_json_object(&req.body)?;
            crate::service::sync::trigger(svc, tenant, setting).await?;
            Ok(GraphResponse::no_content())
        }
        // Graph's page lists read permissions for this destructive action (a doc error, by the
        // look of it); the gateway is stricter and requires ReadWrite.
        (SettingOp::ReleaseAppleDevices, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            let release = apple::parse_release(&json_object(&req.body)?)?;
            apple::release(svc, tenant, setting, release).await?;
            Ok(GraphResponse::no_content())
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}
