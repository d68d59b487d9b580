//! Table-driven tests of in-memory `$filter` evaluation, mirroring the SQL snapshots.

use serde_json::{Value, json};

use super::*;
use crate::odata::compile_filter;
use crate::odata::filter::parse_filter;
use crate::odata::spec::tests::DEP;

const GUID: &str = "1ec10a60-0a60-1ec1-600a-c11e600ac11e";

/// Graph JSON items of the test spec: nulls, missing properties (`c3`, `e5`) and a mistyped
/// value (`e5.syncedDeviceCount`) included.
pub(crate) fn items() -> Vec<Value> {
    vec![
        json!({"id": "a1", "appleIdentifier": "Admin@Contoso.com", "tokenName": "My Token",
            "tokenType": "dep", "syncedDeviceCount": 10, "dataSharingConsentGranted": true,
            "tokenExpirationDateTime": "2025-09-19T16:50:51.5063355Z", "lastSyncErrorCode": 0,
            "roleScopeTagIds": ["0"]}),
        json!({"id": "B2", "appleIdentifier": null, "tokenName": null,
            "tokenType": "appleSchoolManager", "syncedDeviceCount": 3,
            "dataSharingConsentGranted": false,
            "tokenExpirationDateTime": "2026-01-01T00:00:00.0000000Z", "lastSyncErrorCode": 5}),
        json!({"id": "c3", "tokenType": "none", "tokenName": "50%_\\ off",
            "tokenExpirationDateTime": "0001-01-01T00:00:00Z"}),
        json!({"id": GUID, "appleIdentifier": "ops@contoso.com", "tokenName": "mY tOKEN",
            "tokenType": "dep", "syncedDeviceCount": 11, "dataSharingConsentGranted": false,
            "tokenExpirationDateTime": "2027-03-01T08:00:00.0000000Z", "lastSyncErrorCode": 0}),
        json!({"id": "e5", "tokenName": "Ébène", "tokenType": "none", "syncedDeviceCount": "7",
            "dataSharingConsentGranted": null}),
    ]
}

/// The ids of the items a filter keeps.
fn kept(filter: &str) -> Vec<String> {
    let expr = parse_filter(filter).unwrap();
    let predicate = compile_predicate(&expr, &DEP).unwrap();
    items()
        .iter()
        .filter(|item| predicate.matches(item))
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `(filter, ids kept from [`items`])`; `d4` stands for the item whose id is [`GUID`].
type Cases = &'static [(&'static str, &'static [&'static str])];

fn check_cases(cases: Cases) {
    for (filter, want) in cases {
        let want: Vec<&str> = want
            .iter()
            .map(|id| if *id == "d4" { GUID } else { id })
            .collect();
        assert_eq!(kept(filter), want, "{filter}");
    }
}

pub(crate) const TEXT_CASES: Cases = &[
    ("tokenType eq 'dep'", &["a1", "d4"]),
    ("tokentype eq 'AppleSchoolManager'", &["B2"]),
    (
        "tokenType eq microsoft.graph.depTokenType'DEP'",
        &["a1", "d4"],
    ),
    ("tokenType in ('dep','NONE')", &["a1", "c3", "d4", "e5"]),
    ("tokenType ne 'dep'", &["B2", "c3", "e5"]),
    ("tokenName eq 'My Token'", &["a1", "d4"]),
    ("tokenName ne 'my token'", &["B2", "c3", "e5"]),
    ("tokenName gt 'M'", &["a1", "d4", "e5"]),
    ("tokenName lt 'm'", &["a1", "c3"]),
    ("tokenName eq 'Ébène'", &["e5"]),
    ("tokenName eq 'ÉBÈNE'", &[]),
    ("tokenName in ('A','my TOKEN')", &["a1", "d4"]),
    ("not (tokenName in ('my token'))", &["B2", "c3", "e5"]),
    ("contains(tokenName,'50%_\\')", &["c3"]),
    ("contains(tokenName,'%')", &["c3"]),
    ("contains(tokenName,'BÈNE')", &[]),
    ("contains(tokenName,'Bène') eq true", &["e5"]),
    ("startswith(tokenName,'')", &["a1", "c3", "d4", "e5"]),
    ("startswith(appleIdentifier,'AD')", &["a1"]),
    (
        "not startswith(appleIdentifier,'ad')",
        &["B2", "c3", "d4", "e5"],
    ),
    ("endswith(id,'C11E')", &["d4"]),
    ("endswith(id,'b2')", &["B2"]),
    ("id eq 1ec10a60-0a60-1ec1-600a-c11e600ac11e", &["d4"]),
    ("id eq 'b2'", &[]),
    ("id eq 'B2'", &["B2"]),
    ("id in ('a1','b2')", &["a1"]),
    ("id gt 'B'", &["a1", "B2", "c3", "e5"]),
];

#[test]
fn evaluates_enums_ids_and_text() {
    check_cases(TEXT_CASES);
}

pub(crate) const NULL_CASES: Cases = &[
    ("tokenName eq null", &["B2"]),
    ("tokenName ne null", &["a1", "c3", "d4", "e5"]),
    ("appleIdentifier eq null", &["B2", "c3", "e5"]),
    ("appleIdentifier ne null", &["a1", "d4"]),
    ("not (appleIdentifier eq null)", &["a1", "d4"]),
    (
        "appleIdentifier ne 'ops@contoso.com'",
        &["a1", "B2", "c3", "e5"],
    ),
    (
        "not (appleIdentifier eq 'ops@contoso.com')",
        &["a1", "B2", "c3", "e5"],
    ),
    ("appleIdentifier in ('ops@contoso.com')", &["d4"]),
    (
        "not (appleIdentifier in ('ops@contoso.com'))",
        &["a1", "B2", "c3", "e5"],
    ),
    ("syncedDeviceCount ge 10", &["a1", "d4"]),
    ("syncedDeviceCount lt 100", &["a1", "B2", "d4"]),
    ("not (syncedDeviceCount lt 100)", &["c3", "e5"]),
    ("syncedDeviceCount ne 10", &["B2", "c3", "d4", "e5"]),
    ("syncedDeviceCount in (3, 11)", &["B2", "d4"]),
    ("syncedDeviceCount eq null", &["c3", "e5"]),
    ("dataSharingConsentGranted eq true", &["a1"]),
    ("dataSharingConsentGranted eq false", &["B2", "d4"]),
    (
        "dataSharingConsentGranted ne true",
        &["B2", "c3", "d4", "e5"],
    ),
    (
        "not dataSharingConsentGranted eq true",
        &["B2", "c3", "d4", "e5"],
    ),
    (
        "lastSyncErrorCode eq 0 or contains(tokenName,'bène')",
        &["a1", "d4", "e5"],
    ),
    (
        "not (tokenType eq 'dep' or tokenName eq 'a') and lastSyncErrorCode ne 0",
        &["B2", "c3", "e5"],
    ),
];

#[test]
fn evaluates_nulls_and_missing_properties() {
    check_cases(NULL_CASES);
}

pub(crate) const DATE_CASES: Cases = &[
    (
        "tokenExpirationDateTime lt 2026-01-01T00:00:00Z",
        &["a1", "c3"],
    ),
    (
        "tokenExpirationDateTime le '2026-01-01T00:00:00Z'",
        &["a1", "B2", "c3"],
    ),
    (
        "tokenExpirationDateTime eq 2026-01-01T01:00:00+01:00",
        &["B2"],
    ),
    (
        "tokenExpirationDateTime gt 0001-01-01T00:00:00Z",
        &["a1", "B2", "d4"],
    ),
    ("tokenExpirationDateTime eq 0001-01-01T00:00:00Z", &["c3"]),
    (
        "tokenExpirationDateTime eq 2025-09-19T16:50:51.5063355Z",
        &["a1"],
    ),
    (
        "tokenExpirationDateTime gt 2025-09-19T16:50:51.5063354Z",
        &["a1", "B2", "d4"],
    ),
    (
        "tokenExpirationDateTime ne 2025-09-19T16:50:51.5063355Z",
        &["B2", "c3", "d4", "e5"],
    ),
    (
        "tokenExpirationDateTime in (2027-03-01T09:00:00+01:00)",
        &["d4"],
    ),
    (
        "lastModifiedDateTime eq null",
        &["a1", "B2", "c3", "d4", "e5"],
    ),
];

#[test]
fn evaluates_dates_as_ticks() {
    check_cases(DATE_CASES);
}

/// `tolower`/`toupper` (ASCII only, then compared exactly), `has` on enums, `isof` and casts
/// to the set's own type.
pub(crate) const FUNCTION_CASES: Cases = &[
    ("tolower(tokenName) eq 'my token'", &["a1", "d4"]),
    ("tolower(tokenName) eq 'My Token'", &[]),
    ("toupper(tokenName) eq 'MY TOKEN'", &["a1", "d4"]),
    ("toupper(tokenName) eq 'ÉBèNE'", &["e5"]),
    ("toupper(tokenName) eq 'ÉBÈNE'", &[]),
    ("tolower(tokenName) ne 'my token'", &["B2", "c3", "e5"]),
    ("tolower(tokenName) gt 'm'", &["a1", "d4", "e5"]),
    ("toupper(appleIdentifier) eq 'ADMIN@CONTOSO.COM'", &["a1"]),
    ("tolower(appleIdentifier) eq null", &["B2", "c3", "e5"]),
    ("tolower(id) eq 'b2'", &["B2"]),
    ("toupper(id) in ('A1','C3')", &["a1", "c3"]),
    ("startswith(toupper(tokenName),'my')", &["a1", "d4"]),
    ("tokenType has 'dep'", &["a1", "d4"]),
    (
        "tokenType has microsoft.graph.depTokenType'appleSchoolManager'",
        &["B2"],
    ),
    ("not (tokenType has 'NONE')", &["a1", "B2", "d4"]),
    (
        "isof('microsoft.graph.depOnboardingSetting')",
        &["a1", "B2", "c3", "d4", "e5"],
    ),
    ("isof(microsoft.graph.depOnboardingSetting) eq false", &[]),
    (
        "microsoft.graph.depOnboardingSetting/tokenName eq 'my token'",
        &["a1", "d4"],
    ),
    (
        "isof('depOnboardingSetting') and tolower(tokenName) eq 'my token'",
        &["a1", "d4"],
    ),
];

#[test]
fn evaluates_case_functions_has_isof_and_own_casts() {
    check_cases(FUNCTION_CASES);
}

/// Filters `compile_filter` accepts or rejects; the evaluator must agree, error for error.
pub(crate) const VALIDATION_CASES: &[&str] = &[
    "tokenType eq 'dep'",
    "tokenName gt null",
    "nope eq 1",
    "roleScopeTagIds eq 'x'",
    "syncedDeviceCount eq '5'",
    "tokenName eq 5",
    "tokenName eq 1ec10a60-0a60-1ec1-600a-c11e600ac11e",
    "dataSharingConsentGranted eq 1",
    "lastModifiedDateTime gt 'yesterday'",
    "lastModifiedDateTime gt 5",
    "tokenType eq 'vpp'",
    "tokenType gt 'dep'",
    "tokenType gt 5",
    "tokenType eq null",
    "dataSharingConsentGranted le true",
    "dataSharingConsentGranted in (true)",
    "dataSharingConsentGranted gt null",
    "contains(syncedDeviceCount,'1')",
    "startswith(tokenType,'d')",
    "tokenType in ('dep', 1)",
    "syncedDeviceCount in (1, null)",
    "id eq 5",
    "tokenName eq 'a' or nope eq 1",
    "nope eq 1 or tokenType eq 'vpp'",
    "tokenType eq 'vpp' and nope eq 1",
    "not (tokenName eq 'a' and syncedDeviceCount eq 'x')",
    "tolower(syncedDeviceCount) eq 'x'",
    "toupper(tokenType) eq 'DEP'",
    "tolower(tokenName) eq 5",
    "tokenName has 'x'",
    "tokenType has 'vpp'",
    "tokenType has 5",
    "isof('microsoft.graph.enrollmentProfile')",
    "microsoft.graph.enrollmentProfile/tokenName eq 'x'",
    "microsoft.graph.depOnboardingSetting/nope eq 'x'",
];

#[test]
fn validates_exactly_like_compile_filter() {
    for filter in VALIDATION_CASES {
        let expr = parse_filter(filter).unwrap();
        let want = compile_filter(&expr, &DEP).err();
        assert_eq!(compile_predicate(&expr, &DEP).err(), want, "{filter}");
        assert_eq!(check_filter(&expr, &DEP).err(), want, "{filter}");
        assert_eq!(matches(&expr, &DEP, &json!({})).err(), want, "{filter}");
    }
    let expr = parse_filter("tokenType eq 'vpp'").unwrap();
    assert_eq!(
        check_filter(&expr, &DEP).unwrap_err().to_string(),
        "'vpp' is not a valid value for the property 'tokenType'; valid values are: none, dep, appleSchoolManager."
    );
}

#[test]
fn one_shot_matches_agrees_with_predicate() {
    let expr = parse_filter("tokenName ne 'my token' and tokenType eq 'NONE'").unwrap();
    let got: Vec<bool> = items()
        .iter()
        .map(|item| matches(&expr, &DEP, item).unwrap())
        .collect();
    assert_eq!(got, [false, false, true, false, true]);
    assert_eq!(matches(&expr, &DEP, &json!({})), Ok(false));
    assert_eq!(matches(&expr, &DEP, &Value::Null), Ok(false));
}

#[test]
fn evaluates_the_longest_chain() {
    let filter = vec!["id eq ''"; 2000].join("or ");
    let filter = &filter[..crate::odata::MAX_FILTER_LEN - 30];
    let filter = format!("{} or id eq 'c3'", &filter[..filter.rfind("or").unwrap()]);
    assert_eq!(kept(&filter), ["c3"]);
}

#[path = "eval_poly_tests.rs"]
mod poly;
