//! SQL snapshots of compiled filters.

use super::*;
use crate::domain::time::parse_ticks;
use crate::odata::filter::parse_filter;
use crate::odata::spec::tests::DEP;
use crate::odata::spec::{EntitySpec, Field, FieldKind};

/// Renders a condition with `?` placeholders, plus its binds.
pub(crate) fn render(cond: &SqlCondition) -> (String, Vec<SqlValue>) {
    let mut text = String::new();
    let mut binds = Vec::new();
    for part in &cond.parts {
        match part {
            SqlPart::Sql(s) => {
                assert!(
                    !s.contains('?') && !s.contains('$'),
                    "placeholder in SQL text: {s}"
                );
                text.push_str(s);
            }
            SqlPart::Bind(v) => {
                text.push('?');
                binds.push(v.clone());
            }
            SqlPart::Column(i) => {
                let seek = &cond.seeks[*i];
                if seek.demoted {
                    text.push('+');
                }
                text.push_str(seek.column);
            }
        }
    }
    (text, binds)
}

fn compile(filter: &str) -> Result<(String, Vec<SqlValue>), String> {
    let expr = parse_filter(filter).map_err(|e| e.to_string())?;
    compile_filter(&expr, &DEP)
        .map(|c| render(&c))
        .map_err(|e| e.to_string())
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

#[test]
fn compiles_snapshots() {
    let ticks = parse_ticks("2026-01-01T00:00:00Z").unwrap();
    let cases: Vec<(&str, &str, Vec<SqlValue>)> = vec![
        ("tokenType eq 'dep'", "token_type = ?", vec![text("dep")]),
        (
            "tokentype eq 'AppleSchoolManager'",
            "token_type = ?",
            vec![text("appleSchoolManager")],
        ),
        (
            "tokenType eq microsoft.graph.depTokenType'DEP'",
            "token_type = ?",
            vec![text("dep")],
        ),
        (
            "tokenType in ('dep','NONE')",
            "token_type IN (?, ?)",
            vec![text("dep"), text("none")],
        ),
        (
            "tokenName eq 'My Token'",
            "LOWER(token_name) = ?",
            vec![text("my token")],
        ),
        (
            "tokenName ne 'x'",
            "COALESCE(LOWER(token_name) <> ?, TRUE)",
            vec![text("x")],
        ),
        ("tokenName gt 'M'", "token_name > ?", vec![text("M")]),
        ("tokenName eq null", "token_name IS NULL", vec![]),
        (
            "appleIdentifier ne null",
            "apple_identifier IS NOT NULL",
            vec![],
        ),
        (
            "tokenName in ('A','b')",
            "LOWER(token_name) IN (?, ?)",
            vec![text("a"), text("b")],
        ),
        (
            "contains(tokenName,'50%_\\')",
            "LOWER(token_name) LIKE ? ESCAPE '\\'",
            vec![text("%50\\%\\_\\\\%")],
        ),
        (
            "startswith(appleIdentifier,'Ad')",
            "LOWER(apple_identifier) LIKE ? ESCAPE '\\'",
            vec![text("ad%")],
        ),
        (
            "endswith(id,'C11E')",
            "LOWER(id) LIKE ? ESCAPE '\\'",
            vec![text("%c11e")],
        ),
        (
            "id eq 1ec10a60-0a60-1ec1-600a-c11e600ac11e",
            "id = ?",
            vec![text("1ec10a60-0a60-1ec1-600a-c11e600ac11e")],
        ),
        ("id eq 'ABC'", "id = ?", vec![text("ABC")]),
        (
            "syncedDeviceCount ge 10",
            "synced_device_count >= ?",
            vec![SqlValue::Int(10)],
        ),
        (
            "dataSharingConsentGranted eq true",
            "data_sharing_consent_granted = ?",
            vec![SqlValue::Bool(true)],
        ),
        (
            "tokenExpirationDateTime lt 2026-01-01T00:00:00Z",
            "token_expiration_date_time < ?",
            vec![SqlValue::Int(ticks)],
        ),
        (
            "tokenExpirationDateTime le '2026-01-01T00:00:00Z'",
            "token_expiration_date_time <= ?",
            vec![SqlValue::Int(ticks)],
        ),
        (
            "not (tokenType eq 'dep' or tokenName eq 'a') and lastSyncErrorCode ne 0",
            "(NOT ((token_type = ? OR COALESCE(LOWER(token_name) = ?, FALSE))) AND last_sync_error_code <> ?)",
            vec![text("dep"), text("a"), SqlValue::Int(0)],
        ),
        (
            "not (tokenName ne 'a')",
            "NOT (COALESCE(LOWER(token_name) <> ?, TRUE))",
            vec![text("a")],
        ),
        (
            "not startswith(appleIdentifier,'a')",
            "NOT (COALESCE(LOWER(apple_identifier) LIKE ? ESCAPE '\\', FALSE))",
            vec![text("a%")],
        ),
    ];
    for (filter, sql, binds) in cases {
        assert_eq!(compile(filter), Ok((sql.to_owned(), binds)), "{filter}");
    }
}

/// A spec with a normalised serial column, as `storage::devices` declares it.
pub(crate) static SERIALS: EntitySpec = EntitySpec {
    entity: "test.serials",
    fields: &[
        Field {
            name: "id",
            column: "id",
            kind: FieldKind::Id,
            nullable: false,
            filterable: true,
            sortable: true,
        },
        Field {
            name: "serialNumber",
            column: "serial_number",
            kind: FieldKind::Serial,
            nullable: false,
            filterable: true,
            sortable: true,
        },
    ],
    types: &[],
};

#[test]
fn serial_tests_leave_the_column_bare_for_its_index() {
    let cases: Vec<(&str, &str, Vec<SqlValue>)> = vec![
        (
            "serialNumber eq 'c02x'",
            "serial_number = ?",
            vec![text("C02X")],
        ),
        (
            "serialNumber in ('c02x','C02Y')",
            "serial_number IN (?, ?)",
            vec![text("C02X"), text("C02Y")],
        ),
        (
            "startswith(serialNumber,'c02')",
            "(serial_number >= ? AND serial_number < ?)",
            vec![text("C02"), text("C02~")],
        ),
        (
            "contains(serialNumber,'x_')",
            "serial_number LIKE ? ESCAPE '\\'",
            vec![text("%X\\_%")],
        ),
        (
            "serialNumber gt 'c02'",
            "serial_number > ?",
            vec![text("c02")],
        ),
    ];
    for (filter, sql, binds) in cases {
        let expr = parse_filter(filter).unwrap();
        let compiled = compile_filter(&expr, &SERIALS).map(|c| render(&c));
        assert_eq!(compiled, Ok((sql.to_owned(), binds)), "{filter}");
    }
}

#[test]
fn top_level_conjuncts_are_seeks_and_demote_to_unary_plus() {
    let expr =
        parse_filter("serialNumber in ('a','b') and (id eq 'x' or id eq 'y') and not (id eq 'z')")
            .unwrap();
    let cond = compile_filter(&expr, &SERIALS).unwrap();
    let seeks: Vec<_> = cond.seeks.iter().map(|s| (s.column, s.bounded)).collect();
    assert_eq!(
        seeks,
        [("serial_number", true)],
        "or/not leaves are no seeks"
    );
    assert_eq!(render(&cond.seeks[0].probe).0, "serial_number IN (?, ?)");

    let expr = parse_filter("startswith(serialNumber,'c0') and id eq 'x'").unwrap();
    let cond = compile_filter(&expr, &SERIALS).unwrap();
    assert_eq!(cond.seeks.len(), 2);
    assert!(!cond.seeks[0].bounded);
    assert_eq!(
        render(&cond.driven_by(1)).0,
        "((+serial_number >= ? AND +serial_number < ?) AND id = ?)"
    );
    assert_eq!(
        render(&cond.driven_by(0)).0,
        "((serial_number >= ? AND serial_number < ?) AND +id = ?)"
    );
}

#[test]
fn rejects_bad_property_use() {
    let cases = [
        (
            "nope eq 1",
            "Could not find a property named 'nope' on type 'microsoft.graph.depOnboardingSetting'.",
        ),
        (
            "roleScopeTagIds eq 'x'",
            "The property 'roleScopeTagIds' cannot be used in $filter.",
        ),
        (
            "syncedDeviceCount eq '5'",
            "The property 'syncedDeviceCount' must be compared with an integer in $filter.",
        ),
        (
            "tokenName eq 5",
            "The property 'tokenName' must be compared with a string in $filter.",
        ),
        (
            "dataSharingConsentGranted eq 1",
            "The property 'dataSharingConsentGranted' must be compared with true or false in $filter.",
        ),
        (
            "lastModifiedDateTime gt 'yesterday'",
            "The property 'lastModifiedDateTime' must be compared with a DateTimeOffset in $filter.",
        ),
        (
            "tokenType eq 'vpp'",
            "'vpp' is not a valid value for the property 'tokenType'; valid values are: none, dep, appleSchoolManager.",
        ),
        (
            "tokenType gt 'dep'",
            "The operator 'gt' cannot be applied to the property 'tokenType' in $filter.",
        ),
        (
            "dataSharingConsentGranted le true",
            "The operator 'le' cannot be applied to the property 'dataSharingConsentGranted' in $filter.",
        ),
        (
            "dataSharingConsentGranted in (true)",
            "The operator 'in' cannot be applied to the property 'dataSharingConsentGranted' in $filter.",
        ),
        (
            "contains(syncedDeviceCount,'1')",
            "The operator 'contains' cannot be applied to the property 'syncedDeviceCount' in $filter.",
        ),
        (
            "tokenName gt null",
            "The comparison 'gt null' is not supported in $filter.",
        ),
        (
            "tokenType in ('dep', 1)",
            "The property 'tokenType' must be compared with a string enum member in $filter.",
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(compile(filter), Err(want.to_owned()), "{filter}");
    }
}

#[test]
fn compiles_the_longest_chain_without_overflow() {
    let filter = vec!["id eq ''"; 2000].join("or ");
    let filter = &filter[..crate::odata::MAX_FILTER_LEN - 10];
    let filter = &filter[..filter.rfind("or").unwrap()];
    let (sql, binds) = compile(filter).unwrap();
    assert!(binds.len() > 350, "{}", binds.len());
    assert!(sql.starts_with("((((") && sql.ends_with("id = ?)"));
}

#[test]
fn compiles_case_functions_has_and_isof() {
    let cases = [
        (
            "tolower(tokenName) eq 'My'",
            "LOWER(token_name) = ?",
            vec![text("My")],
        ),
        (
            "toupper(id) in ('A','B')",
            "UPPER(id) IN (?, ?)",
            vec![text("A"), text("B")],
        ),
        (
            "toupper(tokenName) gt 'M'",
            "UPPER(token_name) > ?",
            vec![text("M")],
        ),
        (
            "startswith(toupper(tokenName),'A')",
            "LOWER(token_name) LIKE ? ESCAPE '\\'",
            vec![text("a%")],
        ),
        ("tokenType has 'DEP'", "token_type = ?", vec![text("dep")]),
        (
            "isof('microsoft.graph.depOnboardingSetting')",
            "1 = 1",
            vec![],
        ),
        (
            "microsoft.graph.depOnboardingSetting/id eq 'x'",
            "id = ?",
            vec![text("x")],
        ),
    ];
    for (filter, sql, binds) in cases {
        assert_eq!(compile(filter), Ok((sql.to_owned(), binds)), "{filter}");
    }
}
