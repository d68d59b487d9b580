//! Per-request context: Graph's request ids, the caller, and where the gateway is reachable.

use uuid::Uuid;

use super::error::ApiError;
use crate::auth::{Permission, Principal};
use crate::domain::ids::TenantId;

/// Longest `client-request-id` echoed back; longer or non-printable values are replaced.
const MAX_CLIENT_REQUEST_ID: usize = 128;

/// What every handler knows about the request it serves.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// Server-issued GUID, sent back as `request-id`.
    pub request_id: String,
    /// The caller's `client-request-id`, or `request_id` when it sent none.
    pub client_request_id: String,
    /// Public base URL without a trailing slash (`https://dep.example.com`).
    pub public_url: String,
    /// The request URL as the caller sent it (path and query), for messages.
    pub url: String,
    /// The authenticated caller, once known.
    pub principal: Option<Principal>,
    /// The Graph operation id of the matched row, once dispatched (the label of metrics and
    /// audit events).
    pub operation: Option<&'static str>,
    /// The caller's address as the listener saw it (the audit trail's `actor.ipAddress`).
    pub client_ip: Option<String>,
}

impl RequestCtx {
    /// A context for a new request.
    pub fn new(public_url: &str, path_and_query: &str, client_request_id: Option<&str>) -> Self {
        let request_id = Uuid::new_v4().to_string();
        // GRAPH-COMPAT: Graph echoes client-request-id, or repeats request-id when none was
        // sent (graph-http-conventions.md §2).
        let client_request_id = client_request_id
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= MAX_CLIENT_REQUEST_ID
                    && v.bytes().all(|b| b.is_ascii_graphic())
            })
            .map_or_else(|| request_id.clone(), str::to_owned);
        Self {
            request_id,
            client_request_id,
            public_url: public_url.to_owned(),
            url: format!("{public_url}{path_and_query}"),
            principal: None,
            operation: None,
            client_ip: None,
        }
    }

    /// The caller's tenant. Only called after authentication.
    pub fn tenant(&self) -> Result<TenantId, ApiError> {
        self.principal
            .as_ref()
            .map(|p| p.tenant)
            .ok_or_else(|| ApiError::Unauthenticated("Access token is empty.".to_owned()))
    }

    /// Fails with 403 unless the caller holds `permission`; returns the tenant.
    pub fn require(&self, permission: Permission) -> Result<TenantId, ApiError> {
        let principal = self
            .principal
            .as_ref()
            .ok_or_else(|| ApiError::Unauthenticated("Access token is empty.".to_owned()))?;
        principal.require(permission)?;
        Ok(principal.tenant)
    }
}
