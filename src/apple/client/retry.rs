//! When to retry an Apple answer and how long to wait: `Retry-After` in seconds or as an
//! HTTP date (reference §4), otherwise exponential backoff from 1 s, capped.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// `429` and the transient 5xx answers are retried; everything else is final.
pub(super) fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// A `Retry-After` value: delta seconds or an HTTP date (a past date means "now").
pub(super) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The wait before retry number `attempt + 1`: `Retry-After` when given, else 1 s, 2 s, 4 s…;
/// never more than `max`.
pub(super) fn delay(retry_after: Option<Duration>, attempt: u32, max: Duration) -> Duration {
    retry_after
        .unwrap_or_else(|| Duration::from_secs(1_u64 << attempt.min(20)))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let date = "Wed, 21 Oct 2015 07:28:30 GMT";
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(30)));
        let past = "Wed, 21 Oct 2015 07:00:00 GMT";
        assert_eq!(parse_retry_after(past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_from_one_second_and_is_capped() {
        let max = Duration::from_secs(30);
        let waits: Vec<u64> = (0..6).map(|a| delay(None, a, max).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30]);
        assert_eq!(delay(Some(Duration::from_secs(90)), 0, max), max);
        assert_eq!(delay(Some(Duration::from_secs(2)), 5, max).as_secs(), 2);
        assert_eq!(delay(None, u32::MAX, max), max);
    }

    #[test]
    fn only_throttling_and_transient_errors_are_retried() {
        let retried: Vec<u16> = [400, 401, 403, 404, 429, 500, 501, 502, 503, 504]
            .into_iter()
            .filter(|s| is_retryable(*s))
            .collect();
        assert_eq!(retried, [429, 500, 502, 503, 504]);
    }
}
