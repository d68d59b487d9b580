//! Database URLs without their passwords, for logs, `Debug` output and error messages.
//!
//! Works on the text rather than through `url::Url`: the URLs worth redacting include those that
//! do not parse (libpq quotes a malformed URI whole in its error, e.g. `end of string reached
//! when looking for matching "]" in IPv6 host address in URI: "postgres://u:secret@[::1/db"`).

use std::ops::Range;

use percent_encoding::percent_decode_str;

const MASK: &str = "***";

/// Hides the passwords of a database URL: the userinfo password
/// (`postgres://user:secret@host` → `postgres://user:***@host`) and `password=` query values.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    // Back to front, so earlier ranges keep their offsets.
    for range in secret_ranges(url).into_iter().rev() {
        out.replace_range(range, MASK);
    }
    out
}

/// `text` with every password of `url` (as written, and percent-decoded) masked: for messages
/// of libraries that may quote the URL or a part of it.
pub fn scrub_url_secrets(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    for range in secret_ranges(url) {
        let raw = &url[range];
        let decoded = percent_decode_str(raw).decode_utf8_lossy();
        // The longer form first, so that a decoded form inside the raw one leaves no remainder.
        let mut forms = [raw, decoded.as_ref()];
        forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in forms {
            out = out.replace(secret, MASK);
        }
    }
    out
}

/// Byte ranges of the non-empty passwords in `url`, in order.
fn secret_ranges(url: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let Some(scheme_end) = url.find("://") else {
        return ranges;
    };
    let start = scheme_end + 3;
    let query = url[start..].find('?').map(|i| start + i);
    let authority_and_path = &url[start..query.unwrap_or(url.len())];
    // The last `@` ends the userinfo: an unencoded `@` in a password must not cut it short.
    if let Some(at) = authority_and_path.rfind('@')
        && let Some(colon) = authority_and_path[..at].find(':')
    {
        ranges.push(start + colon + 1..start + at);
    }
    if let Some(query) = query {
        let mut offset = query + 1;
        let end = url.find('#').filter(|&h| h > query).unwrap_or(url.len());
        for pair in url[offset..end].split('&') {
            if pair.starts_with("password=") {
                ranges.push(offset + "password=".len()..offset + pair.len());
            }
            offset += pair.len() + 1;
        }
    }
    ranges.retain(|r| !r.is_empty());
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_query_passwords() {
        let cases = [
            (
                "postgres://dep:hunter2@db:5432/dep",
                "postgres://dep:***@db:5432/dep",
            ),
            (
                "postgres://dep@db/dep?sslmode=require&password=hunter2",
                "postgres://dep@db/dep?sslmode=require&password=***",
            ),
            (
                "postgresql://dep:p@ss:w0rd@db/dep?password=x#frag",
                "postgresql://dep:***@db/dep?password=***#frag",
            ),
            (
                "postgres://dep:hunter2@[::1/db",
                "postgres://dep:***@[::1/db",
            ),
            ("postgres://dep@db/dep", "postgres://dep@db/dep"),
            ("postgres://dep:@db/dep", "postgres://dep:@db/dep"),
            ("sqlite://data/x.db", "sqlite://data/x.db"),
            ("data/x.db", "data/x.db"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn scrubs_raw_and_decoded_passwords_from_messages() {
        let url = "postgres://dep:hun%40ter2@db/dep?password=s3cret";
        let message = "bad token \"hun%40ter2\" (hun@ter2), query s3cret, user dep";
        assert_eq!(
            scrub_url_secrets(message, url),
            "bad token \"***\" (***), query ***, user dep"
        );
        assert_eq!(scrub_url_secrets("no secret", "sqlite://x"), "no secret");
    }
}
