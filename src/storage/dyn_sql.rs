//! Runs the backend-neutral SQL conditions compiled by [`crate::odata`] inside diesel queries.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};

use super::connection::MultiBackend;
use crate::odata::{SqlCondition, SqlPart, SqlValue};

/// A boolean SQL expression made of trusted fragments (column names from an allow-list) and
/// bound values.
#[derive(Debug, Clone)]
pub struct DynCondition(pub SqlCondition);

impl Expression for DynCondition {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for DynCondition {}

impl<QS> SelectableExpression<QS> for DynCondition {}

impl ValidGrouping<()> for DynCondition {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for DynCondition {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for DynCondition {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        out.push_sql("(");
        for part in &self.0.parts {
            match part {
                SqlPart::Sql(text) => out.push_sql(text),
                SqlPart::Bind(SqlValue::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                SqlPart::Bind(SqlValue::Int(v)) => out.push_bind_param::<BigInt, _>(v)?,
                SqlPart::Bind(SqlValue::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                SqlPart::Bind(SqlValue::Null) => out.push_sql("NULL"),
                SqlPart::Column(i) => {
                    let seek = self.0.seeks.get(*i).ok_or_else(|| {
                        diesel::result::Error::QueryBuilderError("unknown seek".into())
                    })?;
                    if seek.demoted {
                        out.push_sql("+");
                    }
                    out.push_sql(seek.column);
                }
            }
        }
        out.push_sql(")");
        Ok(())
    }
}
