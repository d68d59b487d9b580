//! Lowers the `$filter` forms audit clients send that the general `OData` parser does not take
//! (audit-events.md §5.2) onto the audit spec's own columns, before the query string is parsed:
//! `actor/userPrincipalName` and `actor/applicationId` become hidden properties,
//! `resources/any(r: r/resourceId eq '…')` (or `r/auditResourceType`) becomes a whole-value
//! `contains` on the delimited id (type) column, and a date-only literal (`2022-08-22`) becomes
//! midnight UTC. Quoted strings are copied untouched.

use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::odata::ODataError;
use crate::storage::audit::{ACTOR_APP_ID, ACTOR_UPN, RESOURCE_IDS, RESOURCE_TYPES};

/// The raw (percent-encoded) query string with its `$filter` value lowered.
pub fn lower_query(raw: &str) -> Result<String, ODataError> {
    let mut out = Vec::new();
    for piece in raw.split('&') {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let decoded_name = percent_decode_str(name).decode_utf8_lossy();
        if decoded_name
            .trim_start_matches('$')
            .eq_ignore_ascii_case("filter")
        {
            let text = percent_decode_str(&value.replace('+', " "))
                .decode_utf8()
                .map_err(|_| ODataError::InvalidEncoding)?
                .into_owned();
            let lowered = lower(&text)?;
            out.push(format!(
                "{name}={}",
                utf8_percent_encode(&lowered, NON_ALPHANUMERIC)
            ));
        } else {
            out.push(piece.to_owned());
        }
    }
    Ok(out.join("&"))
}

/// One `$filter` expression, lowered.
pub fn lower(text: &str) -> Result<String, ODataError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = string_end(&chars, i);
            out.extend(&chars[i..end]);
            i = end;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '/' || c == '-' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || matches!(chars[i], '_' | '/' | '-' | '.' | ':'))
            {
                // `:` only inside a datetime (digits before it), never a lambda's variable.
                if chars[i] == ':' && !chars[start].is_ascii_digit() {
                    break;
                }
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.eq_ignore_ascii_case("resources/any") && chars.get(i) == Some(&'(') {
                let close = closing_paren(&chars, i)?;
                let inner: String = chars[i + 1..close].iter().collect();
                out.push_str(&lambda(&inner)?);
                i = close + 1;
            } else {
                out.push_str(&rename(&word));
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

/// The index just past the quoted string starting at `start` (`''` is an escaped quote).
fn string_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

fn closing_paren(chars: &[char], open: usize) -> Result<usize, ODataError> {
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\'' => i = string_end(chars, i),
            ')' => return Ok(i),
            _ => i += 1,
        }
    }
    Err(ODataError::Syntax {
        position: open,
        message: "expected ')' to close 'resources/any(' but found the end".to_owned(),
    })
}

/// `actor/…` paths onto hidden columns; a date-only literal onto midnight UTC.
fn rename(word: &str) -> String {
    if word.eq_ignore_ascii_case("actor/userPrincipalName") {
        return ACTOR_UPN.to_owned();
    }
    if word.eq_ignore_ascii_case("actor/applicationId") {
        return ACTOR_APP_ID.to_owned();
    }
    let b = word.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(k, c)| k == 4 || k == 7 || c.is_ascii_digit())
    {
        // GRAPH-COMPAT: Intune accepts date-only literals (audit-events.md §5.1, ISS-18143).
        return format!("{word}T00:00:00Z");
    }
    word.to_owned()
}

/// `v: v/resourceId eq 'x'` → `contains(resourceIdList,'|x|')`.
fn lambda(inner: &str) -> Result<String, ODataError> {
    let unsupported = || ODataError::Unsupported {
        kind: "lambda expression",
        name: format!("resources/any({inner})"),
    };
    let (var, body) = inner.split_once(':').ok_or_else(unsupported)?;
    let (var, body) = (var.trim(), body.trim());
    let mut parts = body
        .splitn(3, char::is_whitespace)
        .filter(|p| !p.is_empty());
    let (path, op, literal) = (
        parts.next().ok_or_else(unsupported)?,
        parts.next().ok_or_else(unsupported)?,
        parts.next().ok_or_else(unsupported)?.trim(),
    );
    let (prefix, property) = path.split_once('/').ok_or_else(unsupported)?;
    let column = match property.to_ascii_lowercase().as_str() {
        "resourceid" => RESOURCE_IDS,
        "auditresourcetype" | "type" => RESOURCE_TYPES,
        _ => return Err(unsupported()),
    };
    let quoted = literal.len() >= 2
        && literal.starts_with('\'')
        && string_end(&literal.chars().collect::<Vec<_>>(), 0) == literal.chars().count();
    if !prefix.eq_ignore_ascii_case(var) || !op.eq_ignore_ascii_case("eq") || !quoted {
        return Err(unsupported());
    }
    let value = &literal[1..literal.len() - 1];
    Ok(format!("contains({column},'|{value}|')"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_the_forms_audit_clients_send() {
        let cases = [
            (
                "componentName eq 'Enrollment' and activityDateTime gt 2024-02-27T12:34:56.123456Z and activityOperationType ne 'Get'",
                "componentName eq 'Enrollment' and activityDateTime gt 2024-02-27T12:34:56.123456Z and activityOperationType ne 'Get'",
            ),
            (
                "Actor/UserPrincipalName eq 'a@b.c' and actor/applicationId eq 'x'",
                "actorUserPrincipalName eq 'a@b.c' and actorApplicationId eq 'x'",
            ),
            (
                "Resources/any(c: c/ResourceId eq 'p_1')",
                "contains(resourceIdList,'|p_1|')",
            ),
            (
                "resources/any(s:s/auditResourceType eq 'DepOnboardingSetting')",
                "contains(resourceTypeList,'|DepOnboardingSetting|')",
            ),
            (
                "activityDateTime ge 2022-08-22 and category ne 'actor/x 2022-08-22'",
                "activityDateTime ge 2022-08-22T00:00:00Z and category ne 'actor/x 2022-08-22'",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(lower(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn refuses_lambdas_it_cannot_lower() {
        for input in [
            "resources/any(r: r/displayName eq 'x')",
            "resources/any(r: r/resourceId ne 'x')",
            "resources/any(r: q/resourceId eq 'x')",
            "resources/any(r: r/resourceId eq 'x'",
        ] {
            assert!(lower(input).is_err(), "{input}");
        }
    }

    #[test]
    fn rewrites_only_the_filter_of_a_query_string() {
        let q =
            lower_query("$select=actor&%24filter=actor%2FuserPrincipalName%20eq%20%27a%27&$top=2")
                .unwrap();
        assert_eq!(
            q,
            "$select=actor&%24filter=actorUserPrincipalName%20eq%20%27a%27&$top=2"
        );
    }
}
