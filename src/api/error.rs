//! The one error type of the HTTP layer and its rendering as Graph's error envelope.

use actix_web::http::StatusCode;
use serde_json::json;

use super::context::RequestCtx;
use super::response::GraphResponse;
use crate::auth::{AuthError, Forbidden};
use crate::domain::ValidationError;
use crate::odata::ODataError;
use crate::service::{Entity, ServiceError, UploadRefused};

/// Everything a Graph request can fail with. [`ApiError::render`] is the only place that picks
/// a status and writes the body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `BadRequest` with a message for the client.
    #[error("{0}")]
    BadRequest(String),
    /// 400 for a path segment that names nothing.
    #[error("Resource not found for the segment '{0}'.")]
    SegmentNotFound(String),
    /// 401: missing or invalid access token.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: the token lacks every accepted permission.
    #[error("missing permission")]
    Forbidden(&'static [&'static str]),
    /// 404: no such entity for this tenant.
    #[error("{0}")]
    NotFound(String),
    /// 404 of a service: no such entity of this kind for this tenant (kept typed so that
    /// callers answering for another entity can tell which one was missing).
    #[error("The {entity} with id '{id}' was not found.")]
    EntityNotFound {
        /// What was looked for.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// 405: the resource exists but not with this method.
    #[error("Specified HTTP method is not allowed for the request target.")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the configured limit.
    #[error("The request body is larger than the limit of {0} bytes.")]
    PayloadTooLarge(usize),
    /// 429: a throttling limit is exhausted; retry after the given seconds.
    #[error(
        "Too many requests from Identifier:{identifier} under category:throttle.deviceManagement.enrollment. Retry after {retry_after_secs} seconds."
    )]
    TooManyRequests {
        /// `tenant` or `tenant+app`, whichever limit was hit.
        identifier: String,
        /// Seconds until a slot frees (`Retry-After`).
        retry_after_secs: u64,
    },
    /// 424: a `$batch` request whose `dependsOn` request failed.
    #[error("The request depends on request '{0}', which failed.")]
    FailedDependency(String),
    /// 501: a Graph resource this gateway does not serve yet.
    #[error("'{0}' is not implemented by this gateway yet.")]
    NotImplemented(String),
    /// 502: Apple's service failed.
    #[error("{0}")]
    BadGateway(String),
    /// 408: the request body did not arrive in time.
    #[error("The request body did not arrive in time.")]
    RequestTimeout,
    /// 408 of the HTTP layer: the request line and headers did not arrive in time.
    #[error("The request headers did not arrive in time.")]
    HeadTimeout,
    /// 400 of the HTTP layer: the request line or a header is not valid HTTP.
    #[error(
        "The request line or a header is malformed (a control character, or a character that \
         must be percent-encoded)."
    )]
    MalformedRequest,
    /// 414 of the HTTP layer: the request target is longer than the limit.
    #[error("The request URI is longer than the limit of {0} bytes.")]
    UriTooLong(usize),
    /// 431 of the HTTP layer: the request line and headers are larger than the limit.
    #[error("The request headers are larger than the limit of {0} bytes.")]
    HeadersTooLarge(usize),
    /// 503: the database is unreachable or frozen, or the connection table is nearly full;
    /// retry after the given seconds.
    #[error("The service is temporarily unavailable. Retry after {0} seconds.")]
    ServiceUnavailable(u64),
    /// 400 `InvalidRequest`: Graph's code when a subscription's receiver fails the handshake.
    #[error("{0}")]
    InvalidRequest(String),
    /// 403 with a message: a quota, such as the most subscriptions a tenant may hold.
    #[error("{0}")]
    QuotaExceeded(String),
    /// 404 for a version segment other than `beta`.
    #[error("Invalid version: {0}")]
    InvalidVersion(String),
    /// 504: the upstream Graph service (upstream mode) did not answer in time.
    #[error("{0}")]
    GatewayTimeout(String),
    /// An upstream Graph service's error (upstream mode), passed back unchanged.
    #[error("the upstream service answered {}", .0.status)]
    Upstream(Box<UpstreamError>),
    /// 500: logged in full, hidden from the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An upstream Graph service's error answer: its status, the headers that matter to clients
/// and its body (Graph's envelope, as the upstream wrote it).
#[derive(Debug)]
pub struct UpstreamError {
    /// The upstream's status.
    pub status: StatusCode,
    /// `Retry-After`, `request-id`, … as the upstream sent them.
    pub headers: Vec<(&'static str, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

/// `Retry-After` of a 503 for an unavailable database: about one checkout timeout, so a retry
/// finds either a recovered database or a fast 503 again.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::Unauthenticated(e.message())
    }
}

impl From<Forbidden> for ApiError {
    fn from(f: Forbidden) -> Self {
        Self::Forbidden(f.accepted)
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::BadRequest(e.message)
    }
}

impl From<ODataError> for ApiError {
    fn from(e: ODataError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound { entity, id } => Self::EntityNotFound { entity, id },
            ServiceError::Validation(v) => Self::BadRequest(v.message),
            ServiceError::UploadRefused(r) => r.into(),
            ServiceError::OData(o) => o.into(),
            ServiceError::Conflict(m) => Self::Conflict(m),
            ServiceError::Storage(s) if s.is_unavailable() => {
                tracing::warn!(error = %s, "database unavailable");
                Self::ServiceUnavailable(DATABASE_RETRY_AFTER_SECS)
            }
            ServiceError::Storage(s) => Self::Internal(s.into()),
            ServiceError::Upstream(m) => Self::BadGateway(m),
            ServiceError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<UploadRefused> for ApiError {
    fn from(r: UploadRefused) -> Self {
        match r {
            UploadRefused::NoKeyYet => Self::BadRequest(
                "This setting has no encryption key yet: call generateEncryptionPublicKey first."
                    .to_owned(),
            ),
            UploadRefused::WrongKey => Self::BadRequest(
                "The server token was not encrypted to this setting's public key: download the \
                 certificate from getEncryptionPublicKey, upload it to Apple Business Manager, and \
                 download a new token."
                    .to_owned(),
            ),
            UploadRefused::OtherServer {
                held_name,
                held_uuid,
                uploaded_uuid,
            } => Self::BadRequest(format!(
                "This setting holds the token of Apple MDM server '{held_name}' ({held_uuid}); a \
                 renewal must come from the same server, not '{uploaded_uuid}'. Create a new \
                 depOnboardingSetting for another server."
            )),
            UploadRefused::HeldBySetting { setting } => Self::Conflict(format!(
                "This Apple MDM server's token is already held by depOnboardingSetting \
                 '{setting}' of this tenant; renew it there."
            )),
            UploadRefused::HeldByOtherTenant => Self::BadRequest(
                "This Apple MDM server is already connected to another tenant; a server token can \
                 serve one tenant only."
                    .to_owned(),
            ),
        }
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) | Self::SegmentNotFound(_) => {
                (StatusCode::BAD_REQUEST, "BadRequest")
            }
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"),
            Self::Forbidden(_) | Self::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "InvalidRequest"),
            Self::NotFound(_) | Self::EntityNotFound { .. } | Self::InvalidVersion(_) => {
                (StatusCode::NOT_FOUND, "ResourceNotFound")
            }
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Request_BadRequest"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            // GRAPH-COMPAT: Graph answers throttling with `TooManyRequests` (the gateway-level
            // code; Intune's documents name no other), clients act on the status and
            // Retry-After only (graph-http-conventions.md §10).
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
            Self::FailedDependency(_) => (StatusCode::FAILED_DEPENDENCY, "FailedDependency"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge"),
            Self::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
            Self::BadGateway(_) => (StatusCode::BAD_GATEWAY, "BadGateway"),
            Self::GatewayTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, "GatewayTimeout"),
            Self::Upstream(e) => (e.status, "UpstreamError"),
            // GRAPH-COMPAT: `serviceNotAvailable` is Graph's documented code for a 503, sent with
            // Retry-After, which SDK retry handlers honour (graph-http-conventions.md §2–3).
            Self::RequestTimeout | Self::HeadTimeout => {
                (StatusCode::REQUEST_TIMEOUT, "RequestTimeout")
            }
            Self::MalformedRequest => (StatusCode::BAD_REQUEST, "BadRequest"),
            // GRAPH-COMPAT: Graph's front end answers these two itself, without a documented
            // code; the gateway names them after their status.
            Self::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "RequestUriTooLong"),
            Self::HeadersTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "RequestHeaderFieldsTooLarge",
            ),
            Self::ServiceUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable"),
        }
    }

    fn client_message(&self, ctx: &RequestCtx) -> String {
        match self {
            Self::Forbidden(accepted) => intune_message(&format!(
                "Application is not authorized to perform this operation. Application must have \
                     one of the following scopes: {} - Operation ID (for customer support): \
                     00000000-0000-0000-0000-000000000000 - Activity ID: {} - Url: {}",
                accepted.join(", "),
                ctx.request_id,
                ctx.url
            )),
            Self::Internal(_) => "An internal server error has occurred.".to_owned(),
            other => other.to_string(),
        }
    }

    /// Renders the Graph envelope `{"error":{"code","message","innerError"}}` with the
    /// request's ids, logging server-side failures.
    pub fn render(&self, ctx: &RequestCtx) -> GraphResponse {
        if let Self::Upstream(e) = self {
            let mut response = GraphResponse::error_bytes(e.status, e.body.clone());
            response.headers.clone_from(&e.headers);
            return response;
        }
        let (status, code) = self.status_and_code();
        if let Self::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let body = json!({
            "error": {
                "code": code,
                "message": self.client_message(ctx),
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": ctx.request_id,
                    "client-request-id": ctx.client_request_id,
                }
            }
        });
        let mut response = GraphResponse::error_json(status, &body);
        if let Self::TooManyRequests {
            retry_after_secs, ..
        }
        | Self::ServiceUnavailable(retry_after_secs) = self
        {
            response
                .headers
                .push(("Retry-After", retry_after_secs.to_string()));
        }
        if let Self::Unauthenticated(_) = self {
            // GRAPH-COMPAT: Graph's challenge, verbatim (graph-http-conventions.md §2).
            response.headers.push((
                "WWW-Authenticate",
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
                 client_id=\"00000003-0000-0000-c000-000000000000\""
                    .to_owned(),
            ));
        }
        response
    }
}

/// GRAPH-COMPAT: Intune puts a JSON document serialised as a string, with `\r\n` newlines, into
/// `error.message`; tools parse its `Message` to tell users which permission is missing
/// (graph-http-conventions.md §3.2).
fn intune_message(message: &str) -> String {
    format!(
        "{{\r\n  \"_version\": 3,\r\n  \"Message\": {},\r\n  \"CustomApiErrorPhrase\": \"\",\r\n  \
         \"RetryAfter\": null,\r\n  \"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": \"{{}}\"\r\n}}",
        serde_json::Value::String(message.to_owned())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: impl Into<ServiceError>) -> (StatusCode, String) {
        let api = ApiError::from(e.into());
        (api.status_and_code().0, api.to_string())
    }

    /// Clients and scripts read these sentences: they are pinned word for word.
    #[test]
    fn upload_refusals_render_as_before() {
        let cases = [
            (
                UploadRefused::NoKeyYet,
                StatusCode::BAD_REQUEST,
                "This setting has no encryption key yet: call generateEncryptionPublicKey first.",
            ),
            (
                UploadRefused::WrongKey,
                StatusCode::BAD_REQUEST,
                "The server token was not encrypted to this setting's public key: download the certificate from \
                 getEncryptionPublicKey, upload it to Apple Business Manager, and download a new token.",
            ),
            (
                UploadRefused::OtherServer {
                    held_name: "Contoso MDM".into(),
                    held_uuid: "u-1".into(),
                    uploaded_uuid: "u-2".into(),
                },
                StatusCode::BAD_REQUEST,
                "This setting holds the token of Apple MDM server 'Contoso MDM' (u-1); a renewal must come from \
                 the same server, not 'u-2'. Create a new depOnboardingSetting for another server.",
            ),
            (
                UploadRefused::HeldBySetting {
                    setting: "s-1".into(),
                },
                StatusCode::CONFLICT,
                "This Apple MDM server's token is already held by depOnboardingSetting 's-1' of this tenant; \
                 renew it there.",
            ),
            (
                UploadRefused::HeldByOtherTenant,
                StatusCode::BAD_REQUEST,
                "This Apple MDM server is already connected to another tenant; a server token can serve one \
                 tenant only.",
            ),
        ];
        for (refusal, status, text) in cases {
            assert_eq!(message(refusal), (status, text.to_owned()));
        }
    }

    #[test]
    fn not_found_names_the_entity_and_stays_typed() {
        let e = ServiceError::not_found(Entity::OnboardingSetting, "x");
        assert_eq!(
            message(e),
            (
                StatusCode::NOT_FOUND,
                "The depOnboardingSetting with id 'x' was not found.".to_owned()
            )
        );
        assert!(matches!(
            ApiError::from(ServiceError::not_found(Entity::EnrollmentProfile, "p")),
            ApiError::EntityNotFound {
                entity: Entity::EnrollmentProfile,
                ..
            }
        ));
    }
}
