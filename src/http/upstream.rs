//! The seam of upstream mode (`crate::upstream`): chosen once at start, it decides who the
//! caller is when the gateway does not validate tokens itself, which requests it translates,
//! and serves the rest by passing them through.

use actix_web::{HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use crate::api::GraphRequest;
use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::path::Segment;
use crate::api::response::GraphResponse;
use crate::auth::Principal;

/// What answers Graph requests in upstream mode.
pub trait Upstream: Send + Sync {
    /// The caller as the gateway sees it when its own token checks are off in this mode (the
    /// upstream validates the token); `None` when the gateway validates tokens as usual.
    ///
    /// # Errors
    /// 401 when there is no bearer token to forward.
    fn principal(&self, authorization: Option<&str>) -> Option<Result<Principal, ApiError>>;

    /// Whether the gateway translates a request to this path (the single-token API's) rather
    /// than passing it through.
    fn translates(&self, segments: &[Segment]) -> bool;

    /// Runs one buffered request (a translated one, or a `$batch` item): translated onto the
    /// upstream's multi-token calls, or forwarded as is.
    fn run<'a>(
        &'a self,
        st: &'a AppState,
        ctx: &'a mut RequestCtx,
        req: &'a GraphRequest,
    ) -> LocalBoxFuture<'a, Result<GraphResponse, ApiError>>;

    /// Passes a request through to the upstream, streaming both bodies.
    fn pass_through<'a>(
        &'a self,
        req: &'a HttpRequest,
        payload: web::Payload,
        ctx: &'a RequestCtx,
    ) -> LocalBoxFuture<'a, Result<GraphResponse, ApiError>>;
}
