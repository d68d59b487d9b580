//! `$search`: one free-text term, as Graph writes it (`$search="term"`) or bare (`$search=term`).
//! Callers apply it as an ASCII-case-insensitive "contains" on their searchable properties
//! (display name, serial number), with [`search_matches`] for in-memory items.

use super::ODataError;
use super::filter::is_identifier;
use super::query::QueryOption;

/// Extracts the term from a decoded `$search` value: surrounding whitespace and one pair of
/// double quotes are removed. Empty terms, unbalanced or inner quotes (several terms, `AND`/`OR`)
/// and the property-restricted `"property:term"` form are rejected.
pub fn parse_search(raw: &str) -> Result<String, ODataError> {
    let value = raw.trim();
    let inner = match value.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .ok_or_else(|| invalid(raw, "a search term in double quotes, e.g. \"term\""))?,
        None => value,
    };
    let term = inner.trim();
    // GRAPH-COMPAT: directory objects accept `"displayName:term"`; the profile sets search a
    // fixed pair of properties, so the form is refused rather than silently mis-applied.
    if let Some((property, _)) = term.split_once(':')
        && is_identifier(property.trim_end())
    {
        return Err(ODataError::UnsupportedConstruct {
            construct: "Property-restricted terms (\"property:term\")",
            option: QueryOption::Search.name(),
        });
    }
    if term.contains('"') {
        return Err(invalid(raw, "a single search term, e.g. \"term\""));
    }
    if term.is_empty() {
        return Err(invalid(raw, "a non-empty search term, e.g. \"term\""));
    }
    Ok(term.to_owned())
}

/// Whether a property value contains the search term, ignoring ASCII case (the same folding as
/// `contains()` in `$filter`).
pub fn search_matches(term: &str, value: &str) -> bool {
    value
        .to_ascii_lowercase()
        .contains(&term.to_ascii_lowercase())
}

fn invalid(raw: &str, expected: &'static str) -> ODataError {
    ODataError::InvalidValue {
        option: QueryOption::Search.name(),
        value: raw.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_terms() {
        let cases = [
            ("\"C02XK\"", "C02XK"),
            ("C02XK", "C02XK"),
            ("  \"iPad profile\"  ", "iPad profile"),
            ("\" padded \"", "padded"),
            ("iPad profile", "iPad profile"),
            ("\"Profile A: iPad\"", "Profile A: iPad"),
            ("é", "é"),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_search(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn rejects_empty_quoted_wrongly_and_property_forms() {
        let msg = |raw: &str| parse_search(raw).unwrap_err().to_string();
        let property =
            "Property-restricted terms (\"property:term\") in $search are not supported.";
        assert_eq!(msg("\"displayName:iPad\""), property);
        assert_eq!(msg("serialNumber:C02"), property);
        assert_eq!(msg("\"displayName:a\" OR \"serialNumber:b\""), property);
        for raw in ["", "  ", "\"\"", "\" \""] {
            assert_eq!(
                msg(raw),
                format!(
                    "Invalid value '{raw}' for query option '$search': expected a non-empty search term, e.g. \"term\"."
                )
            );
        }
        assert_eq!(
            msg("\"abc"),
            "Invalid value '\"abc' for query option '$search': expected a search term in double quotes, e.g. \"term\"."
        );
        assert_eq!(
            msg("\"a\" OR \"b\""),
            "Invalid value '\"a\" OR \"b\"' for query option '$search': expected a single search term, e.g. \"term\"."
        );
        assert!(parse_search("\"").is_err());
    }

    #[test]
    fn matches_ignoring_ascii_case_only() {
        assert!(search_matches("ipad", "My iPad Profile"));
        assert!(search_matches("C02", "c02xk1"));
        assert!(!search_matches("É", "é"));
        assert!(search_matches("", "x"));
    }
}
