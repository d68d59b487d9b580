//! Table-driven tests of query-option parsing and nextLink rebuilding.

use super::*;
use crate::odata::{CmpOp, Literal};

#[test]
fn parses_every_option() {
    let q = QueryOptions::parse(
        "$select=id,%20tokenName&$filter=tokenType%20eq%20%27dep%27&$orderby=tokenName+DESC,id&$top=5&$skip=2\
         &$count=True&$expand=x&$search=%22a%22&$skiptoken=abc&$format=json",
    )
    .unwrap();
    assert_eq!(
        q.select,
        Some(vec!["id".to_owned(), "tokenName".to_owned()])
    );
    let want = Expr::Compare {
        property: "tokenType".into(),
        op: CmpOp::Eq,
        value: Literal::String("dep".into()),
    };
    assert_eq!(q.filter, Some(want));
    let orderby = vec![
        OrderBy {
            property: "tokenName".into(),
            descending: true,
        },
        OrderBy {
            property: "id".into(),
            descending: false,
        },
    ];
    assert_eq!(q.orderby, Some(orderby));
    assert_eq!((q.top, q.skip, q.count), (Some(5), Some(2), true));
    assert_eq!(q.expand.as_deref(), Some("x"));
    assert_eq!(q.search.as_deref(), Some("\"a\""));
    assert_eq!(q.skiptoken.as_deref(), Some("abc"));
    assert_eq!(q.format.as_deref(), Some("json"));
}

#[test]
fn normalises_option_names() {
    let cases = [
        ("%24top=3", Some(3)),
        ("top=3", Some(3)),
        ("TOP=3", Some(3)),
        ("$Top=3%20%20", Some(3)),
        ("%24TOP=3&api-version=1&foo=bar", Some(3)),
        ("", None),
        ("&&", None),
    ];
    for (raw, want) in cases {
        assert_eq!(QueryOptions::parse(raw).unwrap().top, want, "{raw}");
    }
}

#[test]
fn rejects_bad_options() {
    let cases = [
        (
            "$top=5&top=6",
            "Query option '$top' was specified more than once, but it must be specified at most once.",
        ),
        (
            "%24filter=a%20eq%201&filter=b%20eq%202",
            "Query option '$filter' was specified more than once, but it must be specified at most once.",
        ),
        ("$foo=1", "The query parameter '$foo' is not supported."),
        (
            "%24apply=x",
            "The query parameter '$apply' is not supported.",
        ),
        (
            "$top=-1",
            "Invalid value '-1' for query option '$top': expected a non-negative integer.",
        ),
        (
            "$skip=abc",
            "Invalid value 'abc' for query option '$skip': expected a non-negative integer.",
        ),
        (
            "$count=yes",
            "Invalid value 'yes' for query option '$count': expected true or false.",
        ),
        (
            "$select=id,,x",
            "Invalid value 'id,,x' for query option '$select': expected a comma-separated list of property names.",
        ),
        (
            "$orderby=a%20up",
            "Invalid value 'a up' for query option '$orderby': expected a comma-separated list of 'property [asc|desc]'.",
        ),
        (
            "$orderby=a,",
            "Invalid value 'a,' for query option '$orderby': expected a comma-separated list of 'property [asc|desc]'.",
        ),
        (
            "$orderby=a/b%20desc",
            "Property path 'a/b' is not supported in $orderby.",
        ),
        (
            "$filter=a%20eq",
            "Syntax error in $filter at position 4: expected a literal but found end of input.",
        ),
        (
            "$filter=%FF",
            "The query string is not valid percent-encoded UTF-8.",
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            QueryOptions::parse(raw).unwrap_err().to_string(),
            want,
            "{raw}"
        );
    }
}

#[test]
fn ensure_only_names_first_offender() {
    let q = QueryOptions::parse("$select=id&expand=x&$search=y").unwrap();
    assert_eq!(
        q.ensure_only(&[
            QueryOption::Select,
            QueryOption::Expand,
            QueryOption::Search
        ]),
        Ok(())
    );
    let err = q.ensure_only(&[QueryOption::Select]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Query option '$expand' is not supported on this resource."
    );
}

#[test]
fn rebuilds_query_string_for_next_link() {
    let q = QueryOptions::parse("filter=tokenName%20eq%20%27%7Bx%7D%20%23%2B%26%27&$top=2&skiptoken=old&SELECT=id,tokenName").unwrap();
    let rebuilt = q.to_query_string_without(&[QueryOption::SkipToken]);
    assert_eq!(
        rebuilt,
        "$filter=tokenName%20eq%20'%7Bx%7D%20%23%2B%26'&$top=2&$select=id,tokenName"
    );
    assert!(!rebuilt.contains(['{', '}', ' ', '#']));
    assert_eq!(QueryOptions::parse(&rebuilt).unwrap().filter, q.filter);
    assert_eq!(
        q.to_query_string_without(&[
            QueryOption::SkipToken,
            QueryOption::Top,
            QueryOption::Filter,
            QueryOption::Select
        ]),
        ""
    );
}

#[test]
fn fingerprint_covers_order_and_filter() {
    let a = QueryOptions::parse("$orderby=TokenName%20desc&$filter=a%20eq%201&$top=1").unwrap();
    let b = QueryOptions::parse("$orderby=tokenname%20DESC&$filter=a%20eq%201&$top=9").unwrap();
    let c = QueryOptions::parse("$orderby=tokenname&$filter=a%20eq%201").unwrap();
    assert_eq!(a.paging_fingerprint("/x"), b.paging_fingerprint("/x"));
    assert_ne!(a.paging_fingerprint("/x"), c.paging_fingerprint("/x"));
    assert_ne!(a.paging_fingerprint("/x"), a.paging_fingerprint("/y"));
}
