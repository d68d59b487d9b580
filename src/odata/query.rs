//! System query options: parsing the raw query string and rebuilding it for `@odata.nextLink`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::ODataError;
use super::ast::Expr;
use super::filter::{is_identifier, parse_filter};

/// Characters percent-encoded in rebuilt query values: everything but ASCII letters, digits,
/// the unreserved `- . _ ~` and the readable `$ , ' ( ) : /`. Spaces, `{`, `}`, `#`, `%`, `+`,
/// `&` and `=` are always encoded.
// GRAPH-COMPAT: the TS Graph SDK expands nextLinks as RFC 6570 templates (conventions §5), so a
// nextLink must never hold a literal `{` or `}`.
const VALUE_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b',')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b':')
    .remove(b'/');

/// An `OData` system query option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryOption {
    /// `$select`
    Select,
    /// `$filter`
    Filter,
    /// `$orderby`
    OrderBy,
    /// `$top`
    Top,
    /// `$skip`
    Skip,
    /// `$count`
    Count,
    /// `$expand`
    Expand,
    /// `$search`
    Search,
    /// `$skiptoken`
    SkipToken,
    /// `$format`
    Format,
}

impl QueryOption {
    /// Every option, in canonical order.
    pub const ALL: [QueryOption; 10] = [
        Self::Select,
        Self::Filter,
        Self::OrderBy,
        Self::Top,
        Self::Skip,
        Self::Count,
        Self::Expand,
        Self::Search,
        Self::SkipToken,
        Self::Format,
    ];

    /// The canonical name, e.g. `$orderby`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Select => "$select",
            Self::Filter => "$filter",
            Self::OrderBy => "$orderby",
            Self::Top => "$top",
            Self::Skip => "$skip",
            Self::Count => "$count",
            Self::Expand => "$expand",
            Self::Search => "$search",
            Self::SkipToken => "$skiptoken",
            Self::Format => "$format",
        }
    }

    /// Matches a decoded name case-insensitively, with or without the `$`.
    // GRAPH-COMPAT: "On the beta endpoint, the `$` prefix is optional" (conventions §1).
    pub fn from_name(name: &str) -> Option<Self> {
        let bare = name.strip_prefix('$').unwrap_or(name);
        Self::ALL
            .into_iter()
            .find(|o| o.name()[1..].eq_ignore_ascii_case(bare))
    }
}

/// One `$orderby` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// Property name as written by the client.
    pub property: String,
    /// `desc` was given.
    pub descending: bool,
}

/// The parsed system query options of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `$select` property names, as written.
    pub select: Option<Vec<String>>,
    /// The parsed `$filter`.
    pub filter: Option<Expr>,
    /// `$orderby` items.
    pub orderby: Option<Vec<OrderBy>>,
    /// `$top`.
    pub top: Option<u64>,
    /// `$skip`.
    pub skip: Option<u64>,
    /// `$count=true`.
    pub count: bool,
    /// Raw `$expand` (parsed by [`super::parse_expand`] where the resource has navigations).
    pub expand: Option<String>,
    /// Raw `$search`.
    pub search: Option<String>,
    /// Raw `$skiptoken`.
    pub skiptoken: Option<String>,
    /// Raw `$format`.
    pub format: Option<String>,
    pairs: Vec<(QueryOption, String)>,
}

impl QueryOptions {
    /// Parses a raw, still percent-encoded query string (without the `?`). Names are
    /// percent-decoded and matched case-insensitively with an optional `$`; unknown names without
    /// a `$` are ignored, unknown `$` names are an error.
    pub fn parse(raw_query: &str) -> Result<Self, ODataError> {
        let mut options = Self::default();
        for piece in raw_query.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = decode(raw_name)?;
            let Some(option) = QueryOption::from_name(&name) else {
                if name.starts_with('$') {
                    return Err(ODataError::UnknownOption(name));
                }
                continue;
            };
            if options.raw(option).is_some() {
                return Err(ODataError::DuplicateOption(option.name()));
            }
            let value = decode(raw_value)?;
            options.apply(option, &value)?;
            options.pairs.push((option, value));
        }
        Ok(options)
    }

    /// Adds one option from an already decoded value (nested `$expand` options), refusing a
    /// second occurrence.
    pub(crate) fn push_decoded(
        &mut self,
        option: QueryOption,
        value: &str,
    ) -> Result<(), ODataError> {
        if self.raw(option).is_some() {
            return Err(ODataError::DuplicateOption(option.name()));
        }
        self.apply(option, value)?;
        self.pairs.push((option, value.to_owned()));
        Ok(())
    }

    fn apply(&mut self, option: QueryOption, value: &str) -> Result<(), ODataError> {
        match option {
            QueryOption::Select => self.select = Some(parse_select(value)?),
            QueryOption::Filter => self.filter = Some(parse_filter(value)?),
            QueryOption::OrderBy => self.orderby = Some(parse_orderby(value)?),
            QueryOption::Top => self.top = Some(parse_count(option, value)?),
            QueryOption::Skip => self.skip = Some(parse_count(option, value)?),
            QueryOption::Count => self.count = parse_bool(option, value)?,
            QueryOption::Expand => self.expand = Some(value.to_owned()),
            QueryOption::Search => self.search = Some(value.to_owned()),
            QueryOption::SkipToken => self.skiptoken = Some(value.to_owned()),
            QueryOption::Format => self.format = Some(value.to_owned()),
        }
        Ok(())
    }

    /// The decoded value of an option, as the client sent it.
    pub fn raw(&self, option: QueryOption) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(o, _)| *o == option)
            .map(|(_, v)| v.as_str())
    }

    /// The options present, in request order, with their decoded values.
    pub fn pairs(&self) -> &[(QueryOption, String)] {
        &self.pairs
    }

    /// Fails on the first option present that is not in `allowed`.
    pub fn ensure_only(&self, allowed: &[QueryOption]) -> Result<(), ODataError> {
        match self.pairs.iter().find(|(o, _)| !allowed.contains(o)) {
            Some((option, _)) => Err(ODataError::UnsupportedOption(option.name())),
            None => Ok(()),
        }
    }

    /// Rebuilds `$name=value&...` in request order, leaving out the options in `skip`. Values
    /// are encoded with `VALUE_ENCODE` (above), so the result never holds `{`, `}`, spaces or `#`.
    pub fn to_query_string_without(&self, skip: &[QueryOption]) -> String {
        self.pairs
            .iter()
            .filter(|(o, _)| !skip.contains(o))
            .map(|(o, v)| format!("{}={}", o.name(), utf8_percent_encode(v, VALUE_ENCODE)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// What a `$skiptoken` must be bound to so it cannot be replayed against another query: the
    /// resource path, the normalised `$orderby`, and the `$filter` and `$search` values.
    pub fn paging_fingerprint(&self, resource: &str) -> String {
        let orderby: Vec<String> = self
            .orderby
            .iter()
            .flatten()
            .map(|o| {
                format!(
                    "{} {}",
                    o.property.to_ascii_lowercase(),
                    if o.descending { "desc" } else { "asc" }
                )
            })
            .collect();
        let orderby = orderby.join(",");
        let filter = self.raw(QueryOption::Filter).unwrap_or_default().trim();
        let search = self.raw(QueryOption::Search).unwrap_or_default();
        format!("{resource}\n{orderby}\n{filter}\n{search}")
    }
}

/// Percent-decodes a query component; `+` is a space.
fn decode(raw: &str) -> Result<String, ODataError> {
    let spaced = raw.replace('+', " ");
    let decoded = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| ODataError::InvalidEncoding)?;
    Ok(decoded.into_owned())
}

fn parse_select(value: &str) -> Result<Vec<String>, ODataError> {
    let names: Vec<String> = value.split(',').map(|n| n.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(invalid(
            QueryOption::Select,
            value,
            "a comma-separated list of property names",
        ));
    }
    Ok(names)
}

fn parse_orderby(value: &str) -> Result<Vec<OrderBy>, ODataError> {
    const EXPECTED: &str = "a comma-separated list of 'property [asc|desc]'";
    value
        .split(',')
        .map(|item| {
            let words: Vec<&str> = item.split_whitespace().collect();
            let descending = match words.get(1) {
                None => false,
                Some(d) if d.eq_ignore_ascii_case("asc") => false,
                Some(d) if d.eq_ignore_ascii_case("desc") => true,
                Some(_) => return Err(invalid(QueryOption::OrderBy, value, EXPECTED)),
            };
            let property = match words.first() {
                Some(p) if p.contains('/') => {
                    return Err(ODataError::PropertyPath {
                        path: (*p).to_owned(),
                        clause: "$orderby",
                    });
                }
                Some(p) if words.len() <= 2 && is_identifier(p) => (*p).to_owned(),
                _ => return Err(invalid(QueryOption::OrderBy, value, EXPECTED)),
            };
            Ok(OrderBy {
                property,
                descending,
            })
        })
        .collect()
}

fn parse_count(option: QueryOption, value: &str) -> Result<u64, ODataError> {
    // GRAPH-COMPAT: real clients send trailing `%20`s (conventions §6.1).
    value
        .trim()
        .parse()
        .map_err(|_| invalid(option, value, "a non-negative integer"))
}

fn parse_bool(option: QueryOption, value: &str) -> Result<bool, ODataError> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(option, value, "true or false")),
    }
}

fn invalid(option: QueryOption, value: &str, expected: &'static str) -> ODataError {
    ODataError::InvalidValue {
        option: option.name(),
        value: value.to_owned(),
        expected,
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
