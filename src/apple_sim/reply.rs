//! Apple-style responses: JSON bodies on success, short upper-case codes on errors
//! (`text/plain`, or JSON-quoted strings in depsim mode — clients match on a body substring).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;

/// Apple's spelling of the JSON media type.
pub(crate) const JSON_UTF8: &str = "application/json;charset=UTF8";

/// An error answer: status, body code, optional `Retry-After` and extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimError {
    pub status: StatusCode,
    pub body: String,
    pub retry_after: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl SimError {
    /// `status` with `body`.
    pub(crate) fn new(status: StatusCode, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// `400 <code>`.
    pub(crate) fn bad_request(code: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }

    /// `401 UNAUTHORIZED`, with the OAuth problem (RFC 5849 problem reporting) in
    /// `WWW-Authenticate` when there is one.
    pub(crate) fn unauthorized(problem: Option<&str>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        if let Some(p) = problem {
            e.headers.push((
                "WWW-Authenticate".to_owned(),
                format!("OAuth realm=\"ADM\", oauth_problem=\"{p}\""),
            ));
        }
        e
    }

    /// `403 <code>`.
    pub(crate) fn forbidden(code: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code)
    }

    /// `500`, for bugs.
    pub(crate) fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// Renders the answer; `quoted` writes the body as a JSON string (depsim).
    pub(crate) fn render(&self, quoted: bool) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            resp.insert_header((name.as_str(), value.as_str()));
        }
        if let Some(after) = &self.retry_after {
            resp.insert_header(("Retry-After", after.as_str()));
        }
        if self.body.is_empty() {
            return resp.finish();
        }
        if quoted {
            let body = serde_json::Value::String(self.body.clone()).to_string();
            return resp.content_type(JSON_UTF8).body(body);
        }
        resp.content_type("text/plain;charset=UTF8")
            .body(self.body.clone())
    }
}

/// A successful JSON answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub body: Vec<u8>,
}

impl Reply {
    /// `200` with `value` as JSON.
    pub(crate) fn json<T: Serialize>(value: &T) -> Result<Reply, SimError> {
        serde_json::to_vec(value)
            .map(|body| Reply { body })
            .map_err(|_| SimError::internal())
    }
}

/// What a simulated endpoint produces.
pub(crate) type Outcome = Result<Reply, SimError>;
