//! Graph timestamps: stored as 100-nanosecond ticks since the Unix epoch, rendered as Graph does
//! (UTC, seven fractional digits, `Z`; the unset value is `0001-01-01T00:00:00Z`).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// Ticks of 100 ns per second: the one definition; everything that turns seconds into stored
/// times goes through it and the helpers below.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// Ticks of `0001-01-01T00:00:00Z`, Graph's "unset" DateTimeOffset.
pub const UNSET_TICKS: i64 = -62_135_596_800 * TICKS_PER_SECOND;

/// The current wall-clock time in ticks. Background work (sync, assignment push, leases,
/// backoff) reads time through an injected [`crate::clock::Clock`] instead, so tests can drive it.
pub fn now_ticks() -> i64 {
    to_ticks(Utc::now())
}

/// `secs` seconds in ticks, saturating instead of overflowing.
pub fn secs_to_ticks(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(TICKS_PER_SECOND)
}

/// A duration in ticks (sub-100 ns precision is truncated), saturating.
pub fn duration_to_ticks(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX)
}

/// A span of ticks as a duration; a negative span is zero.
pub fn ticks_to_duration(ticks: i64) -> std::time::Duration {
    let ticks = u64::try_from(ticks).unwrap_or(0);
    std::time::Duration::from_nanos(ticks.saturating_mul(100))
}

/// Converts a UTC time to ticks (sub-100 ns precision is truncated).
pub fn to_ticks(t: DateTime<Utc>) -> i64 {
    t.timestamp() * TICKS_PER_SECOND + i64::from(t.timestamp_subsec_nanos() / 100)
}

/// Converts ticks back to a UTC time.
pub fn from_ticks(ticks: i64) -> DateTime<Utc> {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let nanos = u32::try_from(ticks.rem_euclid(TICKS_PER_SECOND) * 100).unwrap_or(0);
    Utc.timestamp_opt(secs, nanos)
        .single()
        .unwrap_or_else(unset)
}

/// `0001-01-01T00:00:00Z`.
fn unset() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |d| d.and_utc())
}

/// Renders ticks the way Intune does: `2025-09-19T16:50:51.5063355Z`, or `0001-01-01T00:00:00Z`
/// when unset.
// GRAPH-COMPAT: Intune emits UTC with seven fractional digits (graph-dep-api.md §6), and the
// Python SDK fails a whole call on a malformed value.
pub fn format_ticks(ticks: i64) -> String {
    if ticks == UNSET_TICKS {
        return "0001-01-01T00:00:00Z".to_owned();
    }
    let t = from_ticks(ticks);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    format!("{}.{frac:07}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// Whether a timestamp a client sent back repeats the stored `stored`: equal, or equal to it
/// truncated to microseconds or milliseconds.
// GRAPH-COMPAT: clients keep timestamps at a coarser precision than Graph's 100 ns, so a GET body
// PATCHed back carries the stored time truncated: msgraph-beta-sdk 1.66.0 parses into Python's
// `datetime` (microseconds) and re-serialises that; JavaScript's `Date` keeps milliseconds.
pub fn repeats_ticks(sent: i64, stored: i64) -> bool {
    sent == stored
        || [10, 10_000]
            .iter()
            .any(|unit| sent == stored - stored.rem_euclid(*unit))
}

/// Parses an ISO-8601 DateTimeOffset as clients send it (any offset, any precision) into ticks.
pub fn parse_ticks(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| to_ticks(t.with_timezone(&Utc)))
}

/// Serde adapter for tick fields rendered as Graph DateTimeOffset strings.
pub mod graph_datetime {
    use serde::Serializer;

    /// Serialises ticks with [`super::format_ticks`].
    pub fn serialize<S: Serializer>(ticks: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_ticks(*ticks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seven_fraction_digits() {
        let ticks = parse_ticks("2025-09-19T16:50:51.5063355Z").unwrap();
        assert_eq!(format_ticks(ticks), "2025-09-19T16:50:51.5063355Z");
        let whole = parse_ticks("2025-09-19T16:50:51Z").unwrap();
        assert_eq!(format_ticks(whole), "2025-09-19T16:50:51.0000000Z");
    }

    #[test]
    fn a_truncated_timestamp_repeats_the_stored_one() {
        let stored = parse_ticks("2026-11-27T07:06:17.3547551Z").unwrap();
        for same in [
            "2026-11-27T07:06:17.3547551Z",
            "2026-11-27T07:06:17.354755+00:00",
            "2026-11-27T08:06:17.354+01:00",
        ] {
            assert!(repeats_ticks(parse_ticks(same).unwrap(), stored), "{same}");
        }
        for other in [
            "2026-11-27T07:06:17.354756Z",
            "2026-11-27T07:06:17.355Z",
            "2026-11-27T07:06:17Z",
            "2026-11-27T07:06:17.3547552Z",
        ] {
            assert!(
                !repeats_ticks(parse_ticks(other).unwrap(), stored),
                "{other}"
            );
        }
        assert!(repeats_ticks(UNSET_TICKS, UNSET_TICKS));
    }

    #[test]
    fn converts_offsets_to_utc() {
        let ticks = parse_ticks("2017-01-01T00:00:35.1329464-08:00").unwrap();
        assert_eq!(format_ticks(ticks), "2017-01-01T08:00:35.1329464Z");
    }

    #[test]
    fn unset_round_trips() {
        assert_eq!(parse_ticks("0001-01-01T00:00:00Z"), Some(UNSET_TICKS));
        assert_eq!(format_ticks(UNSET_TICKS), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn seconds_and_durations_convert_to_ticks_and_back() {
        assert_eq!(secs_to_ticks(3), 30_000_000);
        assert_eq!(secs_to_ticks(u64::MAX), i64::MAX);
        let d = std::time::Duration::from_millis(1500);
        assert_eq!(duration_to_ticks(d), 15_000_000);
        assert_eq!(ticks_to_duration(15_000_000), d);
        assert_eq!(ticks_to_duration(-5), std::time::Duration::ZERO);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_ticks("yesterday"), None);
        assert_eq!(parse_ticks("2025-13-01T00:00:00Z"), None);
    }
}
