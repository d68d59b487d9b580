//! The Graph URL normaliser: splits a path into segments, decoding `name('key')`, `name(key)`,
//! `name()` and `/key` forms, trailing and doubled slashes, and namespace-qualified operations.

use percent_encoding::percent_decode_str;

use super::error::ApiError;

/// One path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The name (or a bare key), percent-decoded.
    pub name: String,
    /// The text inside trailing parentheses, if any (`''` for `name()`).
    pub args: Option<String>,
}

impl Segment {
    /// Whether the segment names `expected`, case-insensitively.
    // GRAPH-COMPAT: "Path URL resource names … are case insensitive" (graph-http-conventions.md §1).
    pub fn is(&self, expected: &str) -> bool {
        self.name.eq_ignore_ascii_case(expected)
    }

    /// Whether the segment names the bound operation `op`, bare or qualified with
    /// `microsoft.graph.` / `graph.`, case-insensitively.
    pub fn is_operation(&self, op: &str) -> bool {
        let name = self.name.as_str();
        let lower = name.to_ascii_lowercase();
        let bare = lower
            .strip_prefix("microsoft.graph.")
            .or_else(|| lower.strip_prefix("graph."))
            .unwrap_or(&lower);
        bare.eq_ignore_ascii_case(op)
    }

    /// The key in `name('key')` / `name(key)` / `name(id='key')` form, if any.
    pub fn key(&self) -> Option<String> {
        let args = self.args.as_deref()?.trim();
        if args.is_empty() {
            return None;
        }
        let args = args.strip_prefix("id=").unwrap_or(args);
        Some(unquote(args))
    }
}

/// Removes OData single quotes (`'a''b'` → `a'b`); unquoted text is returned as is.
pub fn unquote(s: &str) -> String {
    match s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => s.to_owned(),
    }
}

/// Splits a raw (percent-encoded) path below the version segment.
pub fn split(raw: &str) -> Result<Vec<Segment>, ApiError> {
    raw.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let decoded = percent_decode_str(s).decode_utf8().map_err(|_| {
                ApiError::BadRequest("The request path is not valid UTF-8.".to_owned())
            })?;
            Ok(parse_segment(&decoded))
        })
        .collect()
}

fn parse_segment(s: &str) -> Segment {
    if let (Some(open @ 1..), true) = (s.find('('), s.ends_with(')')) {
        return Segment {
            name: s[..open].to_owned(),
            args: Some(s[open + 1..s.len() - 1].to_owned()),
        };
    }
    Segment {
        name: s.to_owned(),
        args: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(name: &str, args: Option<&str>) -> Segment {
        Segment {
            name: name.into(),
            args: args.map(Into::into),
        }
    }

    #[test]
    fn splits_keys_functions_and_slashes() {
        assert_eq!(
            split("/deviceManagement//depOnboardingSettings('a''b')/getEncryptionPublicKey()/")
                .unwrap(),
            vec![
                seg("deviceManagement", None),
                seg("depOnboardingSettings", Some("'a''b'")),
                seg("getEncryptionPublicKey", Some("")),
            ]
        );
        assert_eq!(split("/a%20b").unwrap(), vec![seg("a b", None)]);
    }

    #[test]
    fn keys_unquote() {
        assert_eq!(seg("x", Some("'a''b'")).key().as_deref(), Some("a'b"));
        assert_eq!(seg("x", Some("id='k'")).key().as_deref(), Some("k"));
        assert_eq!(seg("x", Some("7f3c")).key().as_deref(), Some("7f3c"));
        assert_eq!(seg("x", Some("")).key(), None);
    }

    #[test]
    fn operations_match_qualified_and_case_insensitive() {
        assert!(seg("microsoft.graph.uploadDepToken", None).is_operation("uploadDepToken"));
        assert!(seg("Microsoft.Graph.UPLOADDEPTOKEN", None).is_operation("uploadDepToken"));
        assert!(seg("graph.uploadDepToken", None).is_operation("uploadDepToken"));
        assert!(!seg("other.uploadDepToken", None).is_operation("uploadDepToken"));
    }
}
