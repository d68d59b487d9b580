//! `/healthz` (the process is alive: no I/O) and `/readyz` (it can serve: the database answers,
//! its migrations are applied and, when `readyz_apple` is on, Apple's DEP web service answers),
//! the latter as a small JSON body with one entry per check.

use std::time::Duration;

use actix_web::HttpResponse;
use serde::Serialize;

use super::SharedState;

/// How long the Apple check waits for any answer.
const APPLE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the Apple reachability check goes.
#[derive(Debug, Clone)]
pub struct AppleProbe {
    /// The client (shared with nothing else: its timeout is the probe's).
    pub client: reqwest::Client,
    /// Apple's (or the simulator's) base URL.
    pub url: url::Url,
}

impl AppleProbe {
    /// A probe of `url`.
    pub fn new(url: url::Url) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(APPLE_PROBE_TIMEOUT)
            .build()?;
        Ok(Self { client, url })
    }

    /// Any HTTP answer means reachable (Apple answers its root with an error status).
    async fn check(&self) -> Check {
        match self.client.get(self.url.clone()).send().await {
            Ok(_) => Check::ok(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: Apple is unreachable");
                Check::failed("unavailable", "Apple's DEP web service did not answer.")
            }
        }
    }
}

/// The `/readyz` body.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `ready` or `unavailable`.
    status: &'static str,
    checks: Checks,
}

#[derive(Debug, Serialize)]
struct Checks {
    database: Check,
    migrations: Check,
    #[serde(skip_serializing_if = "Option::is_none")]
    apple: Option<Check>,
}

/// One check: `ok`, or what is wrong (`unavailable`, `pending`, `unknown`) with a short message
/// that names no host, path or credential.
#[derive(Debug, Serialize)]
struct Check {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

impl Check {
    fn ok() -> Self {
        Self {
            status: "ok",
            message: None,
        }
    }

    fn failed(status: &'static str, message: &'static str) -> Self {
        Self {
            status,
            message: Some(message),
        }
    }

    fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /readyz`: 200 when every check passes, else 503; the body says which failed.
pub async fn readyz(st: SharedState) -> HttpResponse {
    let (database, migrations) = match st.services.ready().await {
        Ok(true) => (Check::ok(), Check::ok()),
        Ok(false) => (
            Check::ok(),
            Check::failed("pending", "Database migrations are pending."),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                Check::failed("unavailable", "The database did not answer."),
                Check::failed("unknown", "Not checked: the database did not answer."),
            )
        }
    };
    let apple = match &st.apple_probe {
        Some(probe) => Some(probe.check().await),
        None => None,
    };
    let ready = database.is_ok() && migrations.is_ok() && apple.as_ref().is_none_or(Check::is_ok);
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        checks: Checks {
            database,
            migrations,
            apple,
        },
    };
    let mut resp = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    resp.insert_header(("Cache-Control", "no-cache"));
    resp.json(body)
}
