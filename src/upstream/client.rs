//! The HTTP client of the upstream Graph service: one pooled `reqwest` client (keep-alive,
//! HTTP/2 where the upstream offers it through ALPN), the caller's token forwarded as is, the
//! upstream's errors kept whole for the caller.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::api::context::RequestCtx;
use crate::api::error::{ApiError, UpstreamError};
use crate::api::response::{Body, GraphResponse, ODATA_JSON, StreamBody};

/// Request headers a pass-through forwards besides `Authorization` and `client-request-id`.
const FORWARDED: [&str; 5] = [
    "Prefer",
    "ConsistencyLevel",
    "Content-Type",
    "Accept",
    "If-Match",
];

/// Response headers sent back to the caller as the upstream sent them.
const RETURNED: [&str; 6] = [
    "request-id",
    "client-request-id",
    "Retry-After",
    "Location",
    "Preference-Applied",
    "ETag",
];

/// A buffered upstream answer.
pub struct Reply {
    /// Its status.
    pub status: StatusCode,
    /// The headers of [`RETURNED`] it carried.
    pub headers: Vec<(&'static str, String)>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The answer as the caller's response, unchanged (status, headers and body).
    pub fn into_response(self) -> GraphResponse {
        let text = self
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/plain"));
        let body = if self.body.is_empty() {
            Body::Empty
        } else if text {
            Body::Text(String::from_utf8_lossy(&self.body).into_owned())
        } else if self.status.is_success() {
            Body::Json(self.body.to_vec(), ODATA_JSON)
        } else {
            Body::Json(self.body.to_vec(), "application/json")
        };
        GraphResponse {
            status: self.status,
            headers: self.headers,
            body,
        }
    }
}

/// The pooled client and where the upstream is.
pub struct Http {
    client: reqwest::Client,
    /// Base URL without a trailing slash (`https://graph.microsoft.com`).
    pub base: String,
    timeout: Duration,
}

impl Http {
    /// A client for `base` whose calls time out after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    /// A request to an absolute `url` with the caller's token and request id.
    fn request(
        &self,
        ctx: &RequestCtx,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .request(method, url)
            .header("client-request-id", &ctx.client_request_id);
        if let Some(auth) = ctx
            .upstream
            .as_ref()
            .and_then(|u| u.authorization.as_deref())
        {
            rb = rb.header("Authorization", auth);
        }
        rb
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        rb.send().await.map_err(|e| self.failure(e))
    }

    /// What a failed exchange is to the caller: 504 on a timeout, 502 otherwise (the error text
    /// names no URL, so nothing of the request leaks into it).
    fn failure(&self, e: reqwest::Error) -> ApiError {
        if e.is_timeout() {
            ApiError::GatewayTimeout(format!(
                "The upstream Graph service did not answer within {} seconds.",
                self.timeout.as_secs()
            ))
        } else {
            tracing::warn!(error = %e.without_url(), "upstream call failed");
            ApiError::BadGateway("The upstream Graph service could not be reached.".to_owned())
        }
    }

    /// Calls `url` (absolute, on the upstream) and buffers the answer; an error status is
    /// `ApiError::Upstream`, carried back unchanged.
    pub async fn call(
        &self,
        ctx: &RequestCtx,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Reply, ApiError> {
        let mut rb = self.request(ctx, method, url);
        if let Some(body) = body {
            rb = rb.json(body);
        }
        let reply = self.buffer(self.send(rb).await?).await?;
        if reply.status.is_client_error() || reply.status.is_server_error() {
            return Err(ApiError::Upstream(Box::new(UpstreamError {
                status: reply.status,
                headers: reply.headers,
                body: reply.body.to_vec(),
            })));
        }
        Ok(reply)
    }

    /// `GET` of `path_and_query` below the upstream's `/beta`, as JSON.
    pub async fn get_json(&self, ctx: &RequestCtx, url: &str) -> Result<Value, ApiError> {
        Ok(self
            .call(ctx, reqwest::Method::GET, url, None)
            .await?
            .json())
    }

    /// `{base}/beta{path}`.
    pub fn beta(&self, path: &str) -> String {
        format!("{}/beta{path}", self.base)
    }

    async fn buffer(&self, resp: reqwest::Response) -> Result<Reply, ApiError> {
        let status =
            StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let headers = returned(resp.headers());
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(|e| self.failure(e))?;
        Ok(Reply {
            status,
            headers,
            content_type,
            body,
        })
    }

    /// A buffered request forwarded as is (a `$batch` item that is not translated).
    pub async fn forward(
        &self,
        ctx: &RequestCtx,
        method: &actix_web::http::Method,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<GraphResponse, ApiError> {
        let mut rb = self.request(
            ctx,
            method_of(method),
            &format!("{}{path_and_query}", self.base),
        );
        if !body.is_empty() {
            rb = rb
                .header("Content-Type", "application/json")
                .body(body.to_vec());
        }
        let mut reply = self.buffer(self.send(rb).await?).await?;
        let (from, to) = (format!("{}/", self.base), format!("{}/", ctx.public_url));
        reply.body = Bytes::from(super::links::rewrite_all(&reply.body, &from, &to));
        Ok(reply.into_response())
    }

    /// Passes `req` through: the path, query and the headers that matter go up, the body is
    /// streamed up as it arrives, and the answer (any status) is streamed back.
    pub async fn pass_through(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        ctx: &RequestCtx,
    ) -> Result<GraphResponse, ApiError> {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut rb = self.request(
            ctx,
            method_of(req.method()),
            &format!("{}{path}", self.base),
        );
        for name in FORWARDED {
            if let Some(value) = req.headers().get(name).and_then(|v| v.to_str().ok()) {
                rb = rb.header(name, value);
            }
        }
        let has_body = req.headers().contains_key("content-length")
            && req
                .headers()
                .get("content-length")
                .is_some_and(|v| v != "0")
            || req.headers().contains_key("transfer-encoding");
        if has_body {
            rb = rb.body(reqwest::Body::wrap_stream(sendable(payload)));
        }
        let resp = self.send(rb).await?;
        let status =
            StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let headers = returned(resp.headers());
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            let mut out = GraphResponse::no_content();
            out.status = status;
            out.headers = headers;
            return Ok(out);
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let stream = resp
            .bytes_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        let json = content_type.as_deref().is_some_and(|c| c.contains("json"));
        let stream: crate::api::response::ByteStream = if json {
            let (from, to) = (format!("{}/", self.base), format!("{}/", ctx.public_url));
            Box::pin(super::links::rewrite(Box::pin(stream), from, to))
        } else {
            Box::pin(stream)
        };
        let mut out = GraphResponse::stream(
            status,
            StreamBody {
                content_type,
                stream,
            },
        );
        out.headers = headers;
        Ok(out)
    }
}

/// The request body as a `Send` stream: actix's payload lives on its worker thread, so a local
/// task pumps it into a channel that the client reads.
fn sendable(
    mut payload: web::Payload,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

fn method_of(method: &actix_web::http::Method) -> reqwest::Method {
    reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET)
}

fn returned(headers: &reqwest::header::HeaderMap) -> Vec<(&'static str, String)> {
    RETURNED
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (*name, v.to_owned()))
        })
        .collect()
}
