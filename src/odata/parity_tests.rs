//! Cross-checks the in-memory evaluator and ordering against the SQL they mirror: the same items
//! are stored in an in-memory `SQLite` table and every filter and order of the in-memory tests
//! must select the same ids in the same order from both.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use serde_json::{Map, Value};

use super::eval::tests::{
    DATE_CASES, FUNCTION_CASES, NULL_CASES, TEXT_CASES, VALIDATION_CASES, items,
};
use super::paging::json_value;
use super::sort::tests::{ORDERS, fixture};
use super::spec::tests::DEP;
use super::sql::tests::render;
use super::*;

type Query = BoxedSqlQuery<'static, Sqlite, SqlQuery>;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The test spec with every property but `id` nullable, so absent properties can be stored.
fn nullable_dep() -> &'static EntitySpec {
    let fields = DEP
        .fields
        .iter()
        .map(|f| Field {
            nullable: f.kind != FieldKind::Id,
            ..*f
        })
        .collect::<Vec<_>>();
    Box::leak(Box::new(EntitySpec {
        entity: DEP.entity,
        fields: Box::leak(fields.into_boxed_slice()),
        types: &[],
    }))
}

/// Items as a NOT NULL schema would hold them: absent or mistyped required properties filled.
fn completed(spec: &EntitySpec, items: &[Value]) -> Vec<Value> {
    let filler = |kind| match kind {
        FieldKind::Int => Value::from(7),
        FieldKind::DateTime => Value::from("0001-01-01T00:00:00Z"),
        FieldKind::Bool => Value::Bool(false),
        FieldKind::Enum(members) => Value::from(members[0]),
        _ => Value::from(""),
    };
    items
        .iter()
        .map(|item| {
            let mut out: Map<String, Value> = item.as_object().unwrap().clone();
            for f in columns(spec).filter(|f| !f.nullable) {
                if json_value(f, item).is_none() {
                    out.insert(f.name.to_owned(), filler(f.kind));
                }
            }
            Value::Object(out)
        })
        .collect()
}

fn columns(spec: &EntitySpec) -> impl Iterator<Item = &'static Field> {
    spec.fields
        .iter()
        .filter(|f| f.kind != FieldKind::Collection)
}

fn bind(query: Query, kind: FieldKind, value: Option<SqlValue>) -> Query {
    match (kind, value) {
        (FieldKind::Int | FieldKind::DateTime, v) => query.bind::<Nullable<BigInt>, _>(match v {
            Some(SqlValue::Int(n)) => Some(n),
            _ => None,
        }),
        (FieldKind::Bool, v) => query.bind::<Nullable<Bool>, _>(match v {
            Some(SqlValue::Bool(b)) => Some(b),
            _ => None,
        }),
        (_, v) => query.bind::<Nullable<Text>, _>(match v {
            Some(SqlValue::Text(s)) => Some(s),
            _ => None,
        }),
    }
}

fn database(spec: &EntitySpec, items: &[Value]) -> SqliteConnection {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    let fields: Vec<&Field> = columns(spec).collect();
    let defs: Vec<String> = fields
        .iter()
        .map(|f| {
            let ty = match f.kind {
                FieldKind::Int | FieldKind::DateTime => "BIGINT",
                FieldKind::Bool => "BOOLEAN",
                _ => "TEXT",
            };
            format!(
                "{} {ty}{}",
                f.column,
                if f.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    conn.batch_execute(&format!("CREATE TABLE t ({})", defs.join(", ")))
        .unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.column).collect();
    let marks = vec!["?"; fields.len()].join(", ");
    for item in items {
        let sql = format!("INSERT INTO t ({}) VALUES ({marks})", names.join(", "));
        let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
        for f in &fields {
            query = bind(query, f.kind, json_value(f, item));
        }
        query.execute(&mut conn).unwrap();
    }
    conn
}

/// `SELECT id FROM t [WHERE condition] ORDER BY order`.
fn select(
    conn: &mut SqliteConnection,
    condition: Option<&SqlCondition>,
    order: &str,
) -> Vec<String> {
    let (condition_sql, binds) = condition.map(render).unwrap_or_default();
    let filter = if condition.is_some() { " WHERE " } else { "" };
    let sql = format!("SELECT id FROM t{filter}{condition_sql} ORDER BY {order}");
    let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
    for value in binds {
        query = match value {
            SqlValue::Int(n) => query.bind::<BigInt, _>(n),
            SqlValue::Bool(b) => query.bind::<Bool, _>(b),
            SqlValue::Text(s) => query.bind::<Text, _>(s),
            SqlValue::Null => panic!("NULL bind"),
        };
    }
    let rows: Vec<IdRow> = query.load(conn).unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

fn ids<'a>(items: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    items
        .into_iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn keys(spec: &EntitySpec, orderby: &[(&str, bool)]) -> Vec<SortKey> {
    let items: Vec<OrderBy> = orderby
        .iter()
        .map(|(p, d)| OrderBy {
            property: (*p).to_owned(),
            descending: *d,
        })
        .collect();
    compile_orderby(&items, spec).unwrap()
}

/// Both specs: nullable (absent properties stored as NULL) and the real one (items completed).
fn setups() -> Vec<(&'static EntitySpec, Vec<Value>)> {
    let all: Vec<Value> = items().into_iter().chain(fixture()).collect();
    vec![(nullable_dep(), all.clone()), (&DEP, completed(&DEP, &all))]
}

#[test]
fn filters_select_what_sql_selects() {
    let filters = [TEXT_CASES, NULL_CASES, DATE_CASES, FUNCTION_CASES]
        .into_iter()
        .flatten()
        .map(|(f, _)| *f)
        .chain(VALIDATION_CASES.iter().copied());
    let filters: Vec<&str> = filters.collect();
    for (spec, items) in setups() {
        let mut conn = database(spec, &items);
        let mut checked = 0;
        for filter in &filters {
            let expr = parse_filter(filter).unwrap();
            let Ok(condition) = compile_filter(&expr, spec) else {
                continue;
            };
            let predicate = compile_predicate(&expr, spec).unwrap();
            let mut kept: Vec<&Value> = items.iter().filter(|i| predicate.matches(i)).collect();
            kept.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            assert_eq!(
                ids(kept),
                select(&mut conn, Some(&condition), "id"),
                "{filter}"
            );
            checked += 1;
        }
        assert!(checked > 75, "{checked}");
    }
}

#[test]
fn orders_and_keysets_match_sql() {
    for (spec, items) in setups() {
        let mut conn = database(spec, &items);
        for orderby in ORDERS {
            let keys = keys(spec, orderby);
            let order = order_by_sql(&keys);
            let mut sorted = items.clone();
            sorted.sort_by(|a, b| compare(&keys, a, b));
            assert_eq!(ids(&sorted), select(&mut conn, None, &order), "{order}");
            for last in &sorted {
                let cursor = cursor_for(&keys, last);
                let condition = keyset_condition(&keys, &cursor).unwrap();
                let after = sorted.iter().filter(|i| is_after(&keys, &cursor, i));
                assert_eq!(
                    ids(after),
                    select(&mut conn, Some(&condition), &order),
                    "{order}"
                );
            }
        }
    }
}
