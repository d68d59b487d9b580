//! `$expand`: a flat list of navigation property names (or `*`), one level deep, without nested
//! query options. Matching the names to an entity's navigations is the caller's job.

use super::ODataError;
use super::filter::is_identifier;
use super::query::QueryOption;

/// One `$expand` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    /// The navigation property name as written (trimmed), or [`ExpandItem::ALL`].
    pub name: String,
}

impl ExpandItem {
    /// The name that expands every navigation property of the entity.
    pub const ALL: &'static str = "*";

    /// Whether this item is `*`, i.e. expands every navigation property.
    pub fn is_all(&self) -> bool {
        self.name == Self::ALL
    }
}

/// Parses a decoded `$expand` value: comma-separated names, trimmed, in request order. `*` may
/// appear (alone or with names it already covers). Nested options (`nav($select=id)`), paths
/// (`nav/child`, `nav/$ref`), empty or malformed names and case-insensitive duplicates are
/// rejected.
pub fn parse_expand(raw: &str) -> Result<Vec<ExpandItem>, ODataError> {
    if raw.contains('(') {
        return Err(ODataError::UnsupportedConstruct {
            construct: "Nested query options",
            option: QueryOption::Expand.name(),
        });
    }
    let mut items: Vec<ExpandItem> = Vec::new();
    for name in raw.split(',').map(str::trim) {
        if name.contains('/') {
            return Err(ODataError::PropertyPath {
                path: name.to_owned(),
                clause: QueryOption::Expand.name(),
            });
        }
        if name != ExpandItem::ALL && !is_identifier(name) {
            return Err(ODataError::InvalidValue {
                option: QueryOption::Expand.name(),
                value: raw.to_owned(),
                expected: "a comma-separated list of navigation property names",
            });
        }
        if items.iter().any(|i| i.name.eq_ignore_ascii_case(name)) {
            return Err(ODataError::DuplicateExpand(name.to_owned()));
        }
        items.push(ExpandItem {
            name: name.to_owned(),
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &str) -> Vec<String> {
        parse_expand(raw)
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect()
    }

    #[test]
    fn parses_name_lists() {
        assert_eq!(
            names("defaultIosEnrollmentProfile"),
            ["defaultIosEnrollmentProfile"]
        );
        assert_eq!(
            names(" enrollmentProfiles ,importedAppleDeviceIdentities  "),
            ["enrollmentProfiles", "importedAppleDeviceIdentities"]
        );
        let all = parse_expand("*").unwrap();
        assert!(all.len() == 1 && all[0].is_all());
        assert_eq!(names("*, a"), ["*", "a"]);
        assert!(!parse_expand("a").unwrap()[0].is_all());
    }

    #[test]
    fn rejects_nesting_paths_duplicates_and_junk() {
        let msg = |raw: &str| parse_expand(raw).unwrap_err().to_string();
        let nested = "Nested query options in $expand are not supported.";
        assert_eq!(msg("defaultIosEnrollmentProfile($select=id)"), nested);
        assert_eq!(msg("a,b($select=id,displayName),c"), nested);
        assert_eq!(msg("*($levels=2)"), nested);
        assert_eq!(
            msg("a/b"),
            "Property path 'a/b' is not supported in $expand."
        );
        assert_eq!(
            msg("x, members/$ref"),
            "Property path 'members/$ref' is not supported in $expand."
        );
        assert_eq!(
            msg("a,A"),
            "The navigation property 'A' appears more than once in $expand."
        );
        assert_eq!(
            msg("*,*"),
            "The navigation property '*' appears more than once in $expand."
        );
        for raw in ["", "a,,b", "a,", "a b", "microsoft.graph.x", "$ref", "a)"] {
            assert_eq!(
                msg(raw),
                format!(
                    "Invalid value '{raw}' for query option '$expand': expected a comma-separated list of navigation property names."
                ),
                "{raw}"
            );
        }
    }
}
