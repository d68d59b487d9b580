//! `$expand`: navigation property names (or `*`), one level deep, each with optional nested
//! query options (`enrollmentProfiles($select=id;$top=5)`). Matching the names to an entity's
//! navigations, and which nested options a navigation takes, is the caller's job.

use super::ODataError;
use super::filter::is_identifier;
use super::query::{QueryOption, QueryOptions};

/// Options that may appear inside `$expand=nav(…)`.
pub const NESTED_OPTIONS: &[QueryOption] = &[
    QueryOption::Select,
    QueryOption::Filter,
    QueryOption::OrderBy,
    QueryOption::Top,
    QueryOption::Skip,
];

/// One `$expand` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    /// The navigation property name as written (trimmed), or [`ExpandItem::ALL`].
    pub name: String,
    /// The nested query options (default when none were given).
    pub options: QueryOptions,
}

impl ExpandItem {
    /// The name that expands every navigation property of the entity.
    pub const ALL: &'static str = "*";

    /// Whether this item is `*`, i.e. expands every navigation property.
    pub fn is_all(&self) -> bool {
        self.name == Self::ALL
    }
}

/// Splits `raw` at `separator` where it is outside parentheses and single-quoted strings.
fn split_top_level(raw: &str, separator: char) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0usize, false, 0);
    for (i, c) in raw.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            c if c == separator && !quoted && depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

fn invalid(raw: &str) -> ODataError {
    ODataError::InvalidValue {
        option: QueryOption::Expand.name(),
        value: raw.to_owned(),
        expected: "a comma-separated list of navigation property names, each optionally followed by (options)",
    }
}

/// Parses a decoded `$expand` value: comma-separated items, trimmed, in request order. `*` may
/// appear (alone or with names it already covers) but takes no options. Paths (`nav/child`,
/// `nav/$ref`), empty or malformed names, case-insensitive duplicates, and nested options other
/// than [`NESTED_OPTIONS`] (`$expand` inside `$expand` is one level too deep) are rejected.
pub fn parse_expand(raw: &str) -> Result<Vec<ExpandItem>, ODataError> {
    let mut items: Vec<ExpandItem> = Vec::new();
    for item in split_top_level(raw, ',') {
        let item = item.trim();
        let (name, nested) = match item.split_once('(') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| invalid(raw))?;
                (name.trim_end(), Some(inner))
            }
            None => (item, None),
        };
        if name.contains('/') {
            return Err(ODataError::PropertyPath {
                path: name.to_owned(),
                clause: QueryOption::Expand.name(),
            });
        }
        let is_all = name == ExpandItem::ALL;
        if !(is_all || is_identifier(name)) || (is_all && nested.is_some()) {
            return Err(invalid(raw));
        }
        if items.iter().any(|i| i.name.eq_ignore_ascii_case(name)) {
            return Err(ODataError::DuplicateExpand(name.to_owned()));
        }
        let options = match nested {
            Some(inner) => nested_options(inner, raw)?,
            None => QueryOptions::default(),
        };
        items.push(ExpandItem {
            name: name.to_owned(),
            options,
        });
    }
    Ok(items)
}

/// `$select=id;$top=5`: `;`-separated options (the `$` optional, names case-insensitive).
fn nested_options(inner: &str, raw: &str) -> Result<QueryOptions, ODataError> {
    if inner.trim().is_empty() {
        return Err(invalid(raw));
    }
    let mut options = QueryOptions::default();
    for piece in split_top_level(inner, ';') {
        let (name, value) = piece.split_once('=').ok_or_else(|| invalid(raw))?;
        let name = name.trim();
        let option = QueryOption::from_name(name)
            .ok_or_else(|| ODataError::UnknownOption(name.to_owned()))?;
        if !NESTED_OPTIONS.contains(&option) {
            return Err(ODataError::UnsupportedConstruct {
                construct: match option {
                    QueryOption::Expand => "Nested $expand options (more than one level)",
                    QueryOption::Search => "Nested $search options",
                    QueryOption::Count => "Nested $count options",
                    _ => "Nested paging and format options",
                },
                option: QueryOption::Expand.name(),
            });
        }
        options.push_decoded(option, value)?;
    }
    Ok(options)
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
        assert_eq!(
            parse_expand("a").unwrap()[0].options,
            QueryOptions::default()
        );
    }

    #[test]
    fn parses_nested_options() {
        let items = parse_expand(
            "enrollmentProfiles($select=id,displayName;$filter=startswith(displayName,'a;b)');top=2;$ORDERBY=displayName desc;$skip=1),importedAppleDeviceIdentities",
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        let q = &items[0].options;
        assert_eq!(q.select, Some(vec!["id".into(), "displayName".into()]));
        assert_eq!(
            q.raw(QueryOption::Filter),
            Some("startswith(displayName,'a;b)')")
        );
        assert_eq!((q.top, q.skip), (Some(2), Some(1)));
        assert!(q.orderby.as_ref().unwrap()[0].descending);
        assert_eq!(items[1].options, QueryOptions::default());
        let one = parse_expand("enrollmentProfiles ( $select=id )").unwrap();
        assert_eq!(one[0].name, "enrollmentProfiles");
        assert_eq!(one[0].options.select, Some(vec!["id".into()]));
    }

    #[test]
    fn rejects_nesting_paths_duplicates_and_junk() {
        let msg = |raw: &str| parse_expand(raw).unwrap_err().to_string();
        assert_eq!(
            msg("a($expand=b)"),
            "Nested $expand options (more than one level) in $expand are not supported."
        );
        assert_eq!(
            msg("a($search=x)"),
            "Nested $search options in $expand are not supported."
        );
        assert_eq!(
            msg("a($count=true)"),
            "Nested $count options in $expand are not supported."
        );
        assert_eq!(
            msg("a($skiptoken=x)"),
            "Nested paging and format options in $expand are not supported."
        );
        assert_eq!(
            msg("a($frob=1)"),
            "The query parameter '$frob' is not supported."
        );
        assert_eq!(
            msg("a($top=1;top=2)"),
            "Query option '$top' was specified more than once, but it must be specified at most once."
        );
        assert_eq!(
            msg("a($top=x)"),
            "Invalid value 'x' for query option '$top': expected a non-negative integer."
        );
        assert!(msg("a($filter=b eq)").starts_with("Syntax error in $filter"));
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
        for raw in [
            "",
            "a,,b",
            "a,",
            "a b",
            "microsoft.graph.x",
            "$ref",
            "a)",
            "a(",
            "a()",
            "a($top)",
            "*($levels=2)",
            "a(b)c",
        ] {
            assert_eq!(
                msg(raw),
                format!(
                    "Invalid value '{raw}' for query option '$expand': expected a comma-separated list of navigation property names, each optionally followed by (options)."
                ),
                "{raw}"
            );
        }
    }
}
