//! `$orderby` compilation and keyset paging: NULL-free sort expressions, the cursor taken from
//! the last item of a page, and the "rows after the cursor" condition.

use serde_json::Value;

use super::ODataError;
use super::query::OrderBy;
use super::spec::{EntitySpec, Field, FieldKind};
use super::sql::{SqlCondition, SqlValue};
use crate::domain::time::parse_ticks;

/// The value NULL integer and `DateTime` columns sort as (they sort first ascending).
pub const NULL_INT_SENTINEL: i64 = i64::MIN;

/// One resolved sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The sorted property.
    pub field: &'static Field,
    /// Sort descending.
    pub descending: bool,
}

/// The position after the last item of a page: one coalesced value per sort key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageCursor {
    /// Values in sort-key order, already mapped through the NULL sentinels.
    pub values: Vec<SqlValue>,
}

/// Resolves `$orderby` (or none) to sort keys, appending `id` ascending as the final tiebreaker
/// unless it is already present.
pub fn compile_orderby(orderby: &[OrderBy], spec: &EntitySpec) -> Result<Vec<SortKey>, ODataError> {
    let mut keys: Vec<SortKey> = Vec::with_capacity(orderby.len() + 1);
    for item in orderby {
        let field = spec.resolve(&item.property)?;
        if !field.sortable || field.kind == FieldKind::Collection {
            return Err(ODataError::NotAllowed {
                property: field.name,
                clause: "$orderby",
            });
        }
        if keys.iter().any(|k| k.field.name == field.name) {
            return Err(ODataError::DuplicateOrderBy(field.name));
        }
        keys.push(SortKey {
            field,
            descending: item.descending,
        });
    }
    if let Some(id) = spec.id_field()
        && !keys.iter().any(|k| k.field.name == id.name)
    {
        keys.push(SortKey {
            field: id,
            descending: false,
        });
    }
    Ok(keys)
}

/// The NULL-free expression a field sorts by: the column, or `COALESCE(column, sentinel)` when
/// nullable (`''` for text, `i64::MIN` for integers and `DateTimes`, `FALSE` for booleans).
pub fn sort_expression(field: &Field) -> String {
    if !field.nullable {
        return field.column.to_owned();
    }
    let sentinel = match field.kind {
        FieldKind::Id
        | FieldKind::Text
        | FieldKind::Serial
        | FieldKind::Enum(_)
        | FieldKind::Collection => "''",
        // `-9223372036854775808` would be NUMERIC on PostgreSQL; this stays BIGINT on both backends.
        FieldKind::Int | FieldKind::DateTime => "(-9223372036854775807 - 1)",
        FieldKind::Bool => "FALSE",
    };
    format!("COALESCE({}, {sentinel})", field.column)
}

/// The `ORDER BY` list, e.g. `COALESCE(token_name, '') DESC, id ASC`.
pub fn order_by_sql(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "{} {}",
                sort_expression(k.field),
                if k.descending { "DESC" } else { "ASC" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sentinel a NULL of this field sorts as.
pub(crate) fn sentinel(field: &Field) -> SqlValue {
    match field.kind {
        FieldKind::Int | FieldKind::DateTime => SqlValue::Int(NULL_INT_SENTINEL),
        FieldKind::Bool => SqlValue::Bool(false),
        FieldKind::Id
        | FieldKind::Text
        | FieldKind::Serial
        | FieldKind::Enum(_)
        | FieldKind::Collection => SqlValue::Text(String::new()),
    }
}

/// Builds the cursor from the Graph JSON rendering of a page's last item. The item must be
/// rendered before `$select` projection, or unselected sort properties read as NULL.
pub fn cursor_for(keys: &[SortKey], item: &Value) -> PageCursor {
    let values = keys.iter().map(|key| sort_value(key.field, item)).collect();
    PageCursor { values }
}

/// The value of a property in a Graph JSON item, typed like its column: integers, `DateTime`
/// strings parsed to ticks, booleans, text (ids, text and enum members). A property that is
/// NULL, absent, or of another JSON type reads as `None`.
pub(crate) fn json_value(field: &Field, item: &Value) -> Option<SqlValue> {
    let json = item.get(field.name)?;
    match field.kind {
        FieldKind::Int => json.as_i64().map(SqlValue::Int),
        FieldKind::DateTime => json.as_str().and_then(parse_ticks).map(SqlValue::Int),
        FieldKind::Bool => json.as_bool().map(SqlValue::Bool),
        FieldKind::Id
        | FieldKind::Text
        | FieldKind::Serial
        | FieldKind::Enum(_)
        | FieldKind::Collection => json.as_str().map(|s| SqlValue::Text(s.to_owned())),
    }
}

/// What a JSON item sorts by for a field: [`sort_expression`]'s value, NULL mapped to the sentinel.
pub(crate) fn sort_value(field: &Field, item: &Value) -> SqlValue {
    json_value(field, item).unwrap_or_else(|| sentinel(field))
}

/// Checks that a decoded cursor fits the sort keys: one value per key, of the key's type.
pub fn check_cursor(keys: &[SortKey], cursor: &PageCursor) -> Result<(), ODataError> {
    let fits = !keys.is_empty()
        && keys.len() == cursor.values.len()
        && keys
            .iter()
            .zip(&cursor.values)
            .all(|(k, v)| std::mem::discriminant(&sentinel(k.field)) == std::mem::discriminant(v));
    if fits {
        Ok(())
    } else {
        Err(ODataError::InvalidSkipToken)
    }
}

/// Rows strictly after the cursor in the key order:
/// `((k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...)`, with `<` for descending keys.
/// A cursor that does not fit the keys (count or types, see [`check_cursor`]) is an invalid
/// `$skiptoken`.
pub fn keyset_condition(keys: &[SortKey], cursor: &PageCursor) -> Result<SqlCondition, ODataError> {
    check_cursor(keys, cursor)?;
    let mut out = SqlCondition::default();
    out.sql("(");
    for (i, (key, value)) in keys.iter().zip(&cursor.values).enumerate() {
        out.sql(if i == 0 { "(" } else { " OR (" });
        for (prefix, prefix_value) in keys.iter().zip(&cursor.values).take(i) {
            out.sql(&format!("{} = ", sort_expression(prefix.field)));
            out.bind(prefix_value.clone());
            out.sql(" AND ");
        }
        out.sql(&format!(
            "{} {} ",
            sort_expression(key.field),
            if key.descending { "<" } else { ">" }
        ));
        out.bind(value.clone());
        out.sql(")");
    }
    out.sql(")");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::spec::tests::DEP;
    use crate::odata::sql::tests::render;
    use serde_json::json;

    fn keys(orderby: &[(&str, bool)]) -> Result<Vec<SortKey>, ODataError> {
        let items: Vec<OrderBy> = orderby
            .iter()
            .map(|(p, d)| OrderBy {
                property: (*p).to_owned(),
                descending: *d,
            })
            .collect();
        compile_orderby(&items, &DEP)
    }

    #[test]
    fn orders_with_id_tiebreaker() {
        assert_eq!(order_by_sql(&keys(&[]).unwrap()), "id ASC");
        assert_eq!(
            order_by_sql(&keys(&[("tokenname", true)]).unwrap()),
            "COALESCE(token_name, '') DESC, id ASC"
        );
        assert_eq!(order_by_sql(&keys(&[("ID", true)]).unwrap()), "id DESC");
        let err = |o| keys(o).unwrap_err().to_string();
        assert_eq!(
            err(&[("roleScopeTagIds", false)]),
            "The property 'roleScopeTagIds' cannot be used in $orderby."
        );
        assert_eq!(
            err(&[("tokenName", false), ("TOKENNAME", true)]),
            "The property 'tokenName' appears more than once in $orderby."
        );
        assert!(err(&[("nope", false)]).starts_with("Could not find a property named 'nope'"));
    }

    #[test]
    fn builds_cursor_from_graph_json() {
        let keys = keys(&[
            ("tokenName", true),
            ("tokenExpirationDateTime", false),
            ("dataSharingConsentGranted", false),
        ])
        .unwrap();
        let item = json!({"id": "a1", "tokenName": null, "tokenExpirationDateTime": "2026-01-01T00:00:00.0000000Z", "dataSharingConsentGranted": true});
        let ticks = parse_ticks("2026-01-01T00:00:00Z").unwrap();
        let want = vec![
            SqlValue::Text(String::new()),
            SqlValue::Int(ticks),
            SqlValue::Bool(true),
            SqlValue::Text("a1".into()),
        ];
        assert_eq!(cursor_for(&keys, &item), PageCursor { values: want });
    }

    #[test]
    fn keyset_condition_shape() {
        let keys = keys(&[("tokenName", true), ("syncedDeviceCount", false)]).unwrap();
        let cursor = PageCursor {
            values: vec![
                SqlValue::Text("b".into()),
                SqlValue::Int(3),
                SqlValue::Text("id1".into()),
            ],
        };
        let (sql, binds) = render(&keyset_condition(&keys, &cursor).unwrap());
        assert_eq!(
            sql,
            "((COALESCE(token_name, '') < ?) OR (COALESCE(token_name, '') = ? AND synced_device_count > ?) \
             OR (COALESCE(token_name, '') = ? AND synced_device_count = ? AND id > ?))"
        );
        let (b, n, id) = (
            SqlValue::Text("b".into()),
            SqlValue::Int(3),
            SqlValue::Text("id1".into()),
        );
        assert_eq!(binds, vec![b.clone(), b.clone(), n.clone(), b, n, id]);
    }

    #[test]
    fn keyset_rejects_mismatched_cursor() {
        let keys = keys(&[("syncedDeviceCount", false)]).unwrap();
        let short = PageCursor {
            values: vec![SqlValue::Int(1)],
        };
        let wrong = PageCursor {
            values: vec![SqlValue::Text("1".into()), SqlValue::Text("a".into())],
        };
        assert_eq!(
            keyset_condition(&keys, &short),
            Err(ODataError::InvalidSkipToken)
        );
        assert_eq!(
            keyset_condition(&keys, &wrong),
            Err(ODataError::InvalidSkipToken)
        );
        let nullable = keyset_condition(
            &keys,
            &PageCursor {
                values: vec![SqlValue::Int(1), SqlValue::Text("a".into())],
            },
        );
        assert!(nullable.is_ok());
    }

    #[test]
    fn nullable_sentinels_are_bigint_safe() {
        let f = Field {
            name: "n",
            column: "n",
            kind: FieldKind::Int,
            nullable: true,
            filterable: true,
            sortable: true,
        };
        assert_eq!(
            sort_expression(&f),
            "COALESCE(n, (-9223372036854775807 - 1))"
        );
        let b = Field {
            kind: FieldKind::Bool,
            ..f
        };
        assert_eq!(sort_expression(&b), "COALESCE(n, FALSE)");
    }
}
