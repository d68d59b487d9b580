//! The request pipeline of [`DepClient`]: headers, the auth session (opened lazily with OAuth,
//! adopted from `X-ADM-Auth-Session` answers, refreshed once on `401` or depsim's
//! `403 FORBIDDEN`), retries with backoff, and error mapping. Logs carry the endpoint, status
//! and attempt, never a secret or a token.

use std::sync::atomic::Ordering;

use chrono::Utc;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::DepClient;
use super::retry;
use crate::apple::error::{self, AppleError};
use crate::apple::oauth::sign_request_now;
use crate::apple::types::SessionBody;

/// Header carrying the auth session token.
const SESSION_HEADER: &str = "X-ADM-Auth-Session";
/// Header carrying the protocol version.
const VERSION_HEADER: &str = "X-Server-Protocol-Version";
/// Apple's spelling of the JSON media type (depsim requires it exactly on `/session`).
const JSON_UTF8: &str = "application/json;charset=UTF8";

/// A complete answer.
struct Answer {
    status: u16,
    retry_after: Option<std::time::Duration>,
    /// `WWW-Authenticate` names the `token_expired` OAuth problem (RFC 5849 problem reporting).
    token_expired: bool,
    /// A new auth session token from `X-ADM-Auth-Session`.
    session: Option<String>,
    body: String,
}

impl Answer {
    async fn read(resp: Response) -> Result<Self, AppleError> {
        let headers = resp.headers();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = text(RETRY_AFTER).and_then(|v| retry::parse_retry_after(v, Utc::now()));
        let token_expired = text(WWW_AUTHENTICATE).is_some_and(|v| v.contains("token_expired"));
        let session = headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(transport)?;
        Ok(Self {
            status,
            retry_after,
            token_expired,
            session,
            body,
        })
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `401`, or depsim's `403 FORBIDDEN` for an unknown session: open a new session.
    fn needs_session(&self) -> bool {
        self.status == 401 || (self.status == 403 && self.body.contains("FORBIDDEN"))
    }
}

fn transport(e: reqwest::Error) -> AppleError {
    // Without the URL: a proxy path could name the token.
    AppleError::Transport(e.without_url().to_string())
}

impl DepClient {
    /// One logical call: JSON body in, JSON answer out.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &'static str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, AppleError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| AppleError::Transport(format!("encoding the {path} request: {e}")))?;
        let answer = self.authenticated(&method, path, body.as_deref()).await?;
        serde_json::from_str(&answer.body)
            .map_err(|e| AppleError::Transport(format!("reading the {path} answer: {e}")))
    }

    /// Sends with the current session; on `401` opens a new session and replays once.
    async fn authenticated(
        &self,
        method: &Method,
        path: &'static str,
        body: Option<&[u8]>,
    ) -> Result<Answer, AppleError> {
        let url = self.url(path)?;
        let mut refreshed = false;
        loop {
            let token = self.session_token().await?;
            let answer = self
                .send_retrying(path, || self.service_request(method, &url, body, &token))
                .await?;
            if let Some(new) = &answer.session {
                *self.session.lock().await = Some(new.clone());
            }
            if answer.is_success() {
                return Ok(answer);
            }
            if answer.needs_session() && !refreshed {
                tracing::info!(
                    endpoint = path,
                    status = answer.status,
                    "DEP session refused; re-authenticating"
                );
                refreshed = true;
                self.forget_session(&token).await;
                continue;
            }
            return Err(self.error_of(&answer));
        }
    }

    /// The current auth session token, opening a session when there is none. Holding the lock
    /// while `/session` runs makes concurrent callers wait for one session instead of racing.
    async fn session_token(&self) -> Result<String, AppleError> {
        let mut slot = self.session.lock().await;
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        let token = self.open_session().await?;
        *slot = Some(token.clone());
        Ok(token)
    }

    /// Drops `token` unless another call already replaced it.
    async fn forget_session(&self, token: &str) {
        let mut slot = self.session.lock().await;
        if slot.as_deref() == Some(token) {
            *slot = None;
        }
    }

    /// `GET /session`, signed anew (fresh nonce and timestamp) for every attempt.
    async fn open_session(&self) -> Result<String, AppleError> {
        let url = self.url("session")?;
        let answer = self
            .send_retrying("session", || {
                let keys = self.credentials.oauth_keys();
                self.request(Method::GET, &url)
                    .header(AUTHORIZATION, sign_request_now("GET", &url, &keys))
                    .header(CONTENT_TYPE, JSON_UTF8)
            })
            .await?;
        if !answer.is_success() {
            return Err(self.error_of(&answer));
        }
        let body: SessionBody = serde_json::from_str(&answer.body)
            .map_err(|e| AppleError::Transport(format!("reading the session answer: {e}")))?;
        if body.auth_session_token.is_empty() {
            return Err(AppleError::Transport(
                "Apple returned an empty auth_session_token".to_owned(),
            ));
        }
        tracing::debug!("DEP session opened");
        Ok(body.auth_session_token)
    }

    /// Sends `build()` until the answer is final or the retries are spent.
    async fn send_retrying(
        &self,
        endpoint: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, AppleError> {
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let answer = Answer::read(build().send().await.map_err(transport)?).await?;
            tracing::debug!(
                endpoint,
                status = answer.status,
                attempt,
                "Apple DEP answer"
            );
            if !retry::is_retryable(answer.status) {
                return Ok(answer);
            }
            if attempt >= self.options.max_retries {
                return Err(exhausted(&answer));
            }
            let wait = retry::delay(answer.retry_after, attempt, self.options.max_backoff);
            tracing::warn!(
                endpoint,
                status = answer.status,
                attempt,
                wait_ms = wait.as_millis(),
                "Apple DEP asked to retry"
            );
            self.clock.sleep(wait).await;
            attempt += 1;
        }
    }

    /// The error of a final, unsuccessful answer. A `401` means an expired token when Apple
    /// says so or the token's own expiry has passed.
    fn error_of(&self, answer: &Answer) -> AppleError {
        let token = if answer.token_expired || self.credentials.access_token_expiry <= Utc::now() {
            error::AccessToken::Expired
        } else {
            error::AccessToken::Current
        };
        error::from_response(answer.status, &answer.body, token)
    }

    fn url(&self, path: &str) -> Result<Url, AppleError> {
        self.base_url
            .join(path)
            .map_err(|e| AppleError::Transport(format!("bad DEP URL for {path}: {e}")))
    }

    /// Headers every request carries, and the W3C trace context of the Graph request being
    /// served, if any (`telemetry::traces` makes it current).
    fn request(&self, method: Method, url: &Url) -> RequestBuilder {
        let req = self
            .http
            .request(method, url.clone())
            .timeout(self.options.request_timeout)
            .header(USER_AGENT, &self.options.user_agent)
            .header(VERSION_HEADER, &self.options.protocol_version);
        trace_context(req)
    }

    fn service_request(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        token: &str,
    ) -> RequestBuilder {
        let req = self
            .request(method.clone(), url)
            .header(SESSION_HEADER, token);
        match body {
            Some(body) => req.header(CONTENT_TYPE, JSON_UTF8).body(body.to_vec()),
            None => req,
        }
    }
}

/// Adds `traceparent` (and a non-empty `tracestate`) for the current OpenTelemetry context.
fn trace_context(req: RequestBuilder) -> RequestBuilder {
    use opentelemetry::trace::TraceContextExt;
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return req;
    }
    let req = req.header(
        "traceparent",
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        ),
    );
    match sc.trace_state().header() {
        state if state.is_empty() => req,
        state => req.header("tracestate", state),
    }
}

/// The error once retries are spent: `429` is throttling, 5xx an upstream failure.
fn exhausted(answer: &Answer) -> AppleError {
    if answer.status == 429 {
        AppleError::RateLimited {
            retry_after: answer.retry_after,
        }
    } else {
        error::upstream(answer.status, &answer.body)
    }
}
