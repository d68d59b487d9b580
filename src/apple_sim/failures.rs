//! Injected failures: ordered "answer the next N calls to endpoint E with R" rules, with the
//! depsim response catalogue of reference §11.2 plus 5xx, `EXPIRED_CURSOR` and behaviours that
//! need cooperation from the handler (session expiry, the same-cursor bug, forced per-serial
//! results).

use actix_web::http::StatusCode;
use serde::Serialize;

use super::endpoint::Endpoint;
use super::reply::SimError;

/// What an injected rule does to a matching call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum FailureAction {
    /// Answer with this status, body and optional `Retry-After` instead of running the call.
    Respond {
        status: u16,
        body: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Invalidate the caller's auth session and answer `401 UNAUTHORIZED` (mid-sync expiry).
    ExpireSession,
    /// Fetch/sync: return the request's cursor again with `more_to_follow: true` (nanodep #73).
    SameCursor,
    /// Per-serial endpoints: answer every serial with this status, changing nothing.
    DeviceStatus { status: String },
}

impl FailureAction {
    /// The answer of a `Respond` rule.
    pub(crate) fn as_error(&self) -> Option<SimError> {
        let Self::Respond {
            status,
            body,
            retry_after,
        } = self
        else {
            return None;
        };
        let mut e = SimError::new(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        );
        e.retry_after.clone_from(retry_after);
        Some(e)
    }
}

/// One pending rule.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InjectedFailure {
    pub id: u64,
    /// `None`: any endpoint.
    pub endpoint: Option<Endpoint>,
    /// `None`: any server; else a server id.
    pub server: Option<String>,
    pub remaining: u32,
    pub action: FailureAction,
}

/// Takes one use of the first rule matching `endpoint` and `server`.
pub(crate) fn take(
    rules: &mut Vec<InjectedFailure>,
    endpoint: Endpoint,
    server: &str,
) -> Option<FailureAction> {
    let at = rules.iter().position(|r| {
        r.endpoint.is_none_or(|e| e == endpoint) && r.server.as_deref().is_none_or(|s| s == server)
    })?;
    let rule = &mut rules[at];
    rule.remaining = rule.remaining.saturating_sub(1);
    let action = rule.action.clone();
    if rule.remaining == 0 {
        rules.remove(at);
    }
    Some(action)
}

fn respond(status: u16, body: &str) -> FailureAction {
    FailureAction::Respond {
        status,
        body: body.to_owned(),
        retry_after: None,
    }
}

/// A named response: depsim's catalogue names (`too_many_requests`,
/// `bad_request_invalid_cursor`, `forbidden_t_c_not_signed`, `not_accessible`, …) and
/// `internal_server_error`, `service_unavailable`, `bad_request_expired_cursor`,
/// `session_expired`, `same_cursor`.
pub(crate) fn named(name: &str) -> Option<FailureAction> {
    let action = match name {
        "bad_request" => respond(400, ""),
        "invalid_method" => respond(405, ""),
        "unauthorized" => respond(401, "UNAUTHORIZED"),
        "forbidden" => respond(403, "FORBIDDEN"),
        "forbidden_access_denied" => respond(403, "ACCESS_DENIED"),
        "forbidden_t_c_not_signed" => respond(403, "T_C_NOT_SIGNED"),
        "too_many_requests" => FailureAction::Respond {
            status: 429,
            body: "TOO_MANY_REQUESTS".to_owned(),
            retry_after: Some("1".to_owned()),
        },
        "internal_server_error" => respond(500, "Internal Server Error"),
        "service_unavailable" => respond(503, "Service Unavailable"),
        "session_expired" => FailureAction::ExpireSession,
        "same_cursor" => FailureAction::SameCursor,
        "success" => FailureAction::DeviceStatus {
            status: "SUCCESS".to_owned(),
        },
        other => return named_code(other),
    };
    Some(action)
}

/// `bad_request_<code>` → `400 <CODE>`; `not_found` / `not_accessible` / `failed` /
/// `throttled` → that per-serial status.
fn named_code(name: &str) -> Option<FailureAction> {
    if let Some(code) = name.strip_prefix("bad_request_") {
        return Some(respond(400, &code.to_ascii_uppercase()));
    }
    matches!(
        name,
        "not_found" | "not_accessible" | "failed" | "throttled"
    )
    .then(|| FailureAction::DeviceStatus {
        status: name.to_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: u64, endpoint: Option<Endpoint>, server: Option<&str>, n: u32) -> InjectedFailure {
        InjectedFailure {
            id,
            endpoint,
            server: server.map(str::to_owned),
            remaining: n,
            action: respond(500, &id.to_string()),
        }
    }

    #[test]
    fn rules_apply_in_order_and_run_out() {
        let mut rules = vec![
            rule(1, Some(Endpoint::DevicesSync), Some("A"), 2),
            rule(2, None, None, 1),
        ];
        let body = |a: Option<FailureAction>| a.and_then(|a| a.as_error()).map(|e| e.body);
        assert_eq!(
            body(take(&mut rules, Endpoint::DevicesSync, "B")),
            Some("2".into())
        );
        assert_eq!(body(take(&mut rules, Endpoint::Account, "A")), None);
        assert_eq!(
            body(take(&mut rules, Endpoint::DevicesSync, "A")),
            Some("1".into())
        );
        assert_eq!(
            body(take(&mut rules, Endpoint::DevicesSync, "A")),
            Some("1".into())
        );
        assert!(rules.is_empty());
    }

    #[test]
    fn catalogue_names_map_to_apple_answers() {
        let e = named("bad_request_exhausted_cursor")
            .and_then(|a| a.as_error())
            .unwrap();
        assert_eq!(
            (e.status.as_u16(), e.body.as_str()),
            (400, "EXHAUSTED_CURSOR")
        );
        let e = named("too_many_requests")
            .and_then(|a| a.as_error())
            .unwrap();
        assert_eq!(e.retry_after.as_deref(), Some("1"));
        assert_eq!(
            named("not_accessible"),
            Some(FailureAction::DeviceStatus {
                status: "NOT_ACCESSIBLE".into()
            })
        );
        assert_eq!(named("bogus"), None);
    }
}
