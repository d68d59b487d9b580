//! Table-driven tests of the `$filter` parser.

use super::*;

fn cmp(property: &str, op: CmpOp, value: Literal) -> Expr {
    Expr::Compare {
        property: property.into(),
        op,
        value,
    }
}

fn s(v: &str) -> Literal {
    Literal::String(v.to_owned())
}

fn i(n: i64) -> Literal {
    Literal::Int(n)
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}

fn func(func: StringFunction, property: &str, value: &str) -> Expr {
    Expr::Function {
        func,
        property: property.into(),
        value: value.to_owned(),
    }
}

fn check_valid(cases: Vec<(&str, Expr)>) {
    for (input, want) in cases {
        assert_eq!(parse_filter(input), Ok(want), "{input}");
    }
}

fn check_invalid(cases: &[(&str, &str)]) {
    for (input, want) in cases {
        let err = parse_filter(input).expect_err(input);
        assert_eq!(err.to_string(), *want, "{input}");
    }
}

const GUID: &str = "1ec10a60-0a60-1ec1-600a-c11e600ac11e";

#[test]
fn parses_comparisons_and_literals() {
    let ticks = parse_ticks("2026-01-01T00:00:00Z").unwrap();
    let guid_filter = format!("id eq {GUID}");
    check_valid(vec![
        ("tokenType eq 'dep'", cmp("tokenType", CmpOp::Eq, s("dep"))),
        ("a ne 'x'", cmp("a", CmpOp::Ne, s("x"))),
        ("a gt 1", cmp("a", CmpOp::Gt, i(1))),
        ("a GE -5", cmp("a", CmpOp::Ge, i(-5))),
        ("a lt +7", cmp("a", CmpOp::Lt, i(7))),
        ("a Le 0", cmp("a", CmpOp::Le, i(0))),
        ("a eq null", cmp("a", CmpOp::Eq, Literal::Null)),
        ("a eq TRUE", cmp("a", CmpOp::Eq, Literal::Bool(true))),
        ("a ne false", cmp("a", CmpOp::Ne, Literal::Bool(false))),
        ("a eq 'it''s'", cmp("a", CmpOp::Eq, s("it's"))),
        ("a eq ''''", cmp("a", CmpOp::Eq, s("'"))),
        (
            &guid_filter,
            cmp("id", CmpOp::Eq, Literal::Guid(GUID.into())),
        ),
        (
            "d ge 2026-01-01T00:00:00Z",
            cmp("d", CmpOp::Ge, Literal::DateTime(ticks)),
        ),
        (
            "d lt 2026-01-01T02:00:00.0000000+02:00",
            cmp("d", CmpOp::Lt, Literal::DateTime(ticks)),
        ),
        (
            "t eq microsoft.graph.depTokenType'dep'",
            cmp("t", CmpOp::Eq, s("dep")),
        ),
        (
            "t in ('dep', 'none')",
            Expr::In {
                property: "t".into(),
                values: vec![s("dep"), s("none")],
            },
        ),
        (
            "t IN (1)",
            Expr::In {
                property: "t".into(),
                values: vec![i(1)],
            },
        ),
        ("  a eq 'x'   ", cmp("a", CmpOp::Eq, s("x"))),
    ]);
}

#[test]
fn parses_logic_functions_and_client_filters() {
    let (a1, b2, c3) = (
        cmp("a", CmpOp::Eq, i(1)),
        cmp("b", CmpOp::Eq, i(2)),
        cmp("c", CmpOp::Eq, i(3)),
    );
    let dep = "discoverySource eq 'deviceEnrollmentProgram' and contains(serialNumber,'C02')";
    let import =
        format!("discoverySource eq 'AdminImport' and requestedEnrollmentProfileId eq '{GUID}'");
    let source = |v| cmp("discoverySource", CmpOp::Eq, s(v));
    check_valid(vec![
        (
            "startswith(n,'a')",
            func(StringFunction::StartsWith, "n", "a"),
        ),
        ("EndsWith(n, 'a')", func(StringFunction::EndsWith, "n", "a")),
        (
            "contains(n,'a') eq true",
            func(StringFunction::Contains, "n", "a"),
        ),
        (
            "contains(n,'a') eq false",
            not(func(StringFunction::Contains, "n", "a")),
        ),
        ("not a eq 1", not(a1.clone())),
        ("not (a eq 1)", not(a1.clone())),
        ("NOT not a eq 1", not(not(a1.clone()))),
        (
            "a eq 1 or b eq 2 and c eq 3",
            or(a1.clone(), and(b2.clone(), c3.clone())),
        ),
        (
            "(a eq 1 or b eq 2) and c eq 3",
            and(or(a1.clone(), b2.clone()), c3.clone()),
        ),
        ("not a eq 1 and b eq 2", and(not(a1.clone()), b2.clone())),
        ("a eq 1 AND b eq 2 OR c eq 3", or(and(a1, b2), c3)),
        (
            dep,
            and(
                source("deviceEnrollmentProgram"),
                func(StringFunction::Contains, "serialNumber", "C02"),
            ),
        ),
        (
            &import,
            and(
                source("AdminImport"),
                cmp("requestedEnrollmentProfileId", CmpOp::Eq, s(GUID)),
            ),
        ),
    ]);
}

#[test]
fn rejects_syntax_errors() {
    let at = |pos: usize, msg: &str| format!("Syntax error in $filter at position {pos}: {msg}.");
    let cases = [
        ("", at(0, "expected an expression but found end of input")),
        ("a eq", at(4, "expected a literal but found end of input")),
        (
            "a 'x'",
            at(2, "expected an operator after 'a' but found string 'x'"),
        ),
        (
            "a foo 1",
            at(2, "expected a comparison operator but found 'foo'"),
        ),
        (
            "a eq 1 b eq 2",
            at(7, "expected 'and', 'or' or the end but found 'b'"),
        ),
        ("(a eq 1", at(7, "expected ')' but found end of input")),
        ("a eq b", at(5, "expected a literal but found 'b'")),
        ("a in ()", at(6, "expected a literal but found ')'")),
        (
            "'x' eq a",
            at(0, "expected an expression but found string 'x'"),
        ),
        (
            "contains('x', a)",
            at(9, "expected a property name but found string 'x'"),
        ),
        ("contains(a, 1)", at(12, "expected a string but found '1'")),
        ("a eq 'x", at(5, "unterminated string literal")),
        ("a eq 1 & b eq 2", at(7, "unexpected character '&'")),
        ("1a eq 1", at(0, "expected a property name but found '1a'")),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(f, m)| (*f, m.as_str())).collect();
    check_invalid(&cases);
}

#[test]
fn rejects_unsupported_constructs() {
    check_invalid(&[
        ("a eq 1.5", "The literal '1.5' is not supported in $filter."),
        (
            "a eq 2026-01-01",
            "The literal '2026-01-01' is not supported in $filter.",
        ),
        (
            "trim(a) eq 'x'",
            "The function 'trim' is not supported in $filter.",
        ),
        (
            "isof(a, 'Edm.String')",
            "The function 'isof(property, type)' is not supported in $filter.",
        ),
        (
            "geo.distance(a, b) eq 1",
            "The function 'geo.distance' is not supported in $filter.",
        ),
        (
            "a add 1 eq 2",
            "The operator 'add' is not supported in $filter.",
        ),
        (
            "tags/any(t: t eq 'x')",
            "The lambda operator 'any' is not supported in $filter.",
        ),
        (
            "tags/ALL(t: t eq 'x')",
            "The lambda operator 'ALL' is not supported in $filter.",
        ),
        (
            "T/templateId eq 'x'",
            "Property path 'T/templateId' is not supported in $filter.",
        ),
        (
            "a/b eq 1",
            "Property path 'a/b' is not supported in $filter.",
        ),
        (
            "startswith(a/b, 'x')",
            "Property path 'a/b' is not supported in $filter.",
        ),
    ]);
}

fn op(name: &str, type_cast: Option<&str>, case_fn: Option<CaseFunction>) -> Operand {
    Operand {
        name: name.to_owned(),
        cast: type_cast.map(str::to_owned),
        case: case_fn,
    }
}

#[test]
fn parses_case_functions_has_isof_and_casts() {
    const IOS: &str = "microsoft.graph.depIOSEnrollmentProfile";
    let lower = Some(CaseFunction::ToLower);
    let upper = Some(CaseFunction::ToUpper);
    let compare = |property: Operand, op: CmpOp, value: Literal| Expr::Compare {
        property,
        op,
        value,
    };
    check_valid(vec![
        (
            "tolower(serialNumber) eq 'c02x'",
            compare(op("serialNumber", None, lower), CmpOp::Eq, s("c02x")),
        ),
        (
            "TOUPPER( displayName ) ge 'M'",
            compare(op("displayName", None, upper), CmpOp::Ge, s("M")),
        ),
        (
            "startswith(tolower(displayName),'ip')",
            Expr::Function {
                func: StringFunction::StartsWith,
                property: op("displayName", None, lower),
                value: "ip".into(),
            },
        ),
        (
            "toupper(id) in ('A','B')",
            Expr::In {
                property: op("id", None, upper),
                values: vec![s("A"), s("B")],
            },
        ),
        (
            "platform has 'iOS'",
            Expr::Has {
                property: "platform".into(),
                value: s("iOS"),
            },
        ),
        (
            "discoverySource has microsoft.graph.discoverySource'adminImport'",
            Expr::Has {
                property: "discoverySource".into(),
                value: s("adminImport"),
            },
        ),
        (
            &format!("isof('{IOS}')"),
            Expr::IsOf {
                type_name: IOS.into(),
            },
        ),
        (
            &format!("isof({IOS}) eq false"),
            not(Expr::IsOf {
                type_name: IOS.into(),
            }),
        ),
        (
            &format!("{IOS}/iTunesPairingMode eq 'allow'"),
            compare(
                op("iTunesPairingMode", Some(IOS), None),
                CmpOp::Eq,
                s("allow"),
            ),
        ),
        (
            &format!("tolower({IOS}/displayName) eq 'x'"),
            compare(op("displayName", Some(IOS), lower), CmpOp::Eq, s("x")),
        ),
    ]);
    check_invalid(&[
        (
            "tolower(a,b) eq 'x'",
            "Syntax error in $filter at position 9: expected ')' but found ','.",
        ),
        (
            "tolower(tolower(a)) eq 'x'",
            "Syntax error in $filter at position 15: expected ')' but found '('.",
        ),
        (
            "microsoft.graph.x/a/b eq 1",
            "Property path 'microsoft.graph.x/a/b' is not supported in $filter.",
        ),
        (
            "isof(1) eq true",
            "Syntax error in $filter at position 5: expected a type name but found '1'.",
        ),
        (
            "a has",
            "Syntax error in $filter at position 5: expected a literal but found end of input.",
        ),
    ]);
}

#[test]
fn bounds_nesting_depth() {
    let nest = |n: usize| format!("{}a eq 1{}", "(".repeat(n), ")".repeat(n));
    let too_deep = Err(ODataError::FilterTooDeep(MAX_FILTER_DEPTH));
    assert!(parse_filter(&nest(MAX_FILTER_DEPTH)).is_ok());
    assert_eq!(parse_filter(&nest(MAX_FILTER_DEPTH + 1)), too_deep);
    assert_eq!(
        parse_filter(&format!("{}a eq 1", "not ".repeat(1000))),
        too_deep
    );
    assert_eq!(parse_filter(&"(".repeat(MAX_FILTER_LEN)), too_deep);
}

#[test]
fn bounds_length() {
    let long = format!("a eq '{}'", "x".repeat(MAX_FILTER_LEN));
    assert_eq!(
        parse_filter(&long),
        Err(ODataError::FilterTooLong(MAX_FILTER_LEN))
    );
    let chain = vec!["a eq 1"; 400].join(" or ");
    assert!(chain.len() < MAX_FILTER_LEN);
    assert!(parse_filter(&chain).is_ok());
}
