//! Errors of the Apple DEP client, how Apple's answers map to them (reference §1.2, §3, §4), and
//! the stable code the gateway stores in `depOnboardingSetting.lastSyncErrorCode`.

use std::time::Duration;

/// What went wrong talking to Apple's DEP web service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppleError {
    /// Apple refused the server token even after a fresh `/session` (revoked or replaced token,
    /// bad signature, unknown consumer key).
    #[error("Apple refused the server token's credentials")]
    Unauthorized,
    /// The server token is past its `access_token_expiry`; a new token must be uploaded.
    #[error("the server token has expired")]
    TokenExpired,
    /// `403 T_C_NOT_SIGNED`: an administrator must accept the latest terms in Apple Business
    /// Manager; the token stays valid.
    #[error("the organisation has not accepted Apple's latest terms and conditions")]
    TermsNotSigned,
    /// `429` (still) after every retry.
    #[error("throttled by Apple")]
    RateLimited {
        /// The last `Retry-After` Apple sent, if any.
        retry_after: Option<Duration>,
    },
    /// `400 EXPIRED_CURSOR`: the cursor is older than 7 days; start a full fetch.
    #[error("the DEP cursor has expired")]
    CursorExpired,
    /// `400 INVALID_CURSOR`: start a full fetch.
    #[error("the DEP cursor is invalid")]
    CursorInvalid,
    /// `400 EXHAUSTED_CURSOR`: the fetch is complete; continue with sync and the same cursor.
    #[error("the DEP fetch cursor is exhausted")]
    CursorExhausted,
    /// `400 CURSOR_REQUIRED`: sync was called without a cursor.
    #[error("the DEP sync needs a cursor")]
    CursorRequired,
    /// Any other error answer (after retries for 5xx).
    #[error("Apple answered {status}{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Upstream {
        /// HTTP status.
        status: u16,
        /// Apple's error code (`ACCESS_DENIED`, `PROFILE_NOT_FOUND`, …) when the body holds one.
        code: Option<String>,
        /// The body, shortened.
        message: String,
    },
    /// The request did not complete (connection, TLS, timeout) or the answer was unreadable.
    #[error("talking to Apple failed: {0}")]
    Transport(String),
}

/// The `lastSyncErrorCode` of a successful sync.
pub const SYNC_OK: i32 = 0;

impl AppleError {
    /// The stable code stored in `depOnboardingSetting.lastSyncErrorCode`:
    ///
    /// | code | meaning |
    /// |---|---|
    /// | 0 | success |
    /// | 1 | transport: network, TLS, timeout or an unreadable answer |
    /// | 401 | [`AppleError::Unauthorized`] |
    /// | 403 | [`AppleError::TermsNotSigned`] |
    /// | 410 | [`AppleError::TokenExpired`] |
    /// | 429 | [`AppleError::RateLimited`] |
    /// | 4001 | [`AppleError::CursorExpired`] |
    /// | 4002 | [`AppleError::CursorInvalid`] |
    /// | 4003 | [`AppleError::CursorExhausted`] |
    /// | 4004 | [`AppleError::CursorRequired`] |
    /// | *status* | [`AppleError::Upstream`]: the HTTP status (400, 404, 405, 500, 503, …) |
    /// | *status* × 10 | [`AppleError::Upstream`] with 401, 403, 410 or 429, which the rows above own (e.g. 4030 = `403 ACCESS_DENIED`) |
    pub fn lsync_error_code(&self) -> i32 {
        match self {
            Self::Transport(_) => 1,
            Self::Unauthorized => 401,
            Self::TermsNotSigned => 403,
            Self::TokenExpired => 410,
            Self::RateLimited { .. } => 429,
            Self::CursorExpired => 4001,
            Self::CursorInvalid => 4002,
            Self::CursorExhausted => 4003,
            Self::CursorRequired => 4004,
            Self::Upstream { status, .. } => match i32::from(*status) {
                s @ (401 | 403 | 410 | 429) => s * 10,
                s => s,
            },
        }
    }

    /// Whether this is one of the four cursor errors the sync loop recovers from.
    pub fn is_cursor_error(&self) -> bool {
        matches!(
            self,
            Self::CursorExpired
                | Self::CursorInvalid
                | Self::CursorExhausted
                | Self::CursorRequired
        )
    }
}

/// Apple's error code in a body: a bare code (`T_C_NOT_SIGNED`), a JSON string
/// (`"INVALID_CURSOR"`, depsim) or a JSON object with `code` (`{"code": "T_C_NOT_SIGNED"}`).
pub(crate) fn error_code(body: &str) -> Option<String> {
    let text = body.trim();
    let code = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o.get("code")?.as_str()?.to_owned(),
        _ => text.to_owned(),
    };
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    plain.then_some(code)
}

/// Whether the session's access token had expired when Apple refused a call: decides whether a
/// `401` is [`AppleError::TokenExpired`] (renew the server token) or a plain refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessToken {
    /// Apple said so, or the token's own expiry has passed.
    Expired,
    /// Still within its lifetime.
    Current,
}

/// The error of a non-success answer that is neither retried nor re-authenticated. Bodies are
/// matched by substring per status, as Apple's are not uniform (reference §1.2).
pub(crate) fn from_response(status: u16, body: &str, token: AccessToken) -> AppleError {
    let has = |needle: &str| body.contains(needle);
    match status {
        400 if has("EXPIRED_CURSOR") => AppleError::CursorExpired,
        400 if has("INVALID_CURSOR") => AppleError::CursorInvalid,
        400 if has("EXHAUSTED_CURSOR") => AppleError::CursorExhausted,
        400 if has("CURSOR_REQUIRED") => AppleError::CursorRequired,
        401 if token == AccessToken::Expired => AppleError::TokenExpired,
        401 => AppleError::Unauthorized,
        403 if has("T_C_NOT_SIGNED") => AppleError::TermsNotSigned,
        _ => upstream(status, body),
    }
}

/// [`AppleError::Upstream`] with the code and a shortened body.
pub(crate) fn upstream(status: u16, body: &str) -> AppleError {
    AppleError::Upstream {
        status,
        code: error_code(body),
        message: body.trim().chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_every_shape_map_to_variants() {
        assert_eq!(
            from_response(400, "\"INVALID_CURSOR\"", AccessToken::Current),
            AppleError::CursorInvalid
        );
        assert_eq!(
            from_response(400, "EXPIRED_CURSOR", AccessToken::Current),
            AppleError::CursorExpired
        );
        assert_eq!(
            from_response(400, "EXHAUSTED_CURSOR", AccessToken::Current),
            AppleError::CursorExhausted
        );
        assert_eq!(
            from_response(400, "CURSOR_REQUIRED", AccessToken::Current),
            AppleError::CursorRequired
        );
        let tc = r#"{"code": "T_C_NOT_SIGNED"}"#;
        assert_eq!(
            from_response(403, tc, AccessToken::Current),
            AppleError::TermsNotSigned
        );
        assert_eq!(
            from_response(401, "UNAUTHORIZED", AccessToken::Expired),
            AppleError::TokenExpired
        );
        assert_eq!(
            from_response(401, "", AccessToken::Current),
            AppleError::Unauthorized
        );
        let denied = from_response(403, "ACCESS_DENIED", AccessToken::Current);
        assert_eq!(denied.lsync_error_code(), 4030);
        assert!(
            matches!(denied, AppleError::Upstream { code: Some(c), .. } if c == "ACCESS_DENIED")
        );
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            AppleError::Transport("x".into()),
            AppleError::Unauthorized,
            AppleError::TermsNotSigned,
            AppleError::TokenExpired,
            AppleError::RateLimited { retry_after: None },
            AppleError::CursorExpired,
            AppleError::CursorInvalid,
            AppleError::CursorExhausted,
            AppleError::CursorRequired,
            upstream(404, "PROFILE_NOT_FOUND"),
            upstream(503, "Service Unavailable"),
        ];
        let codes: Vec<i32> = all.iter().map(AppleError::lsync_error_code).collect();
        assert_eq!(
            codes,
            [1, 401, 403, 410, 429, 4001, 4002, 4003, 4004, 404, 503]
        );
        assert!(!codes.contains(&SYNC_OK));
        assert_eq!(all.iter().filter(|e| e.is_cursor_error()).count(), 4);
    }

    #[test]
    fn free_text_bodies_have_no_code() {
        assert_eq!(error_code("Internal Server Error"), None);
        assert_eq!(error_code(""), None);
        assert_eq!(
            error_code(" PROFILE_NOT_FOUND\n").as_deref(),
            Some("PROFILE_NOT_FOUND")
        );
    }
}
