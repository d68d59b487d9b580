//! One query for the identities of many tokens at once, each token's list filtered, ordered and
//! cut to its own page: what `$expand=importedAppleDeviceIdentities($filter=…;$top=…)` on a page
//! of settings needs without a query per setting (no N+1).
//!
//! `ROW_NUMBER() OVER (PARTITION BY setting_id ORDER BY …)` ranks each token's rows in the
//! requested order (window functions: `SQLite` ≥ 3.25, `PostgreSQL`); the outer query keeps the
//! ranks of the page. The subquery is aliased `imported_devices`, so the column list diesel
//! writes for [`DeviceRow`] (qualified with the table name) reads from it unchanged.

use diesel::dsl::AsSelect;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};

use super::DeviceRow;
use crate::domain::devices::ImportedAppleDeviceIdentity;
use crate::domain::ids::TenantId;
use crate::odata::SqlCondition;
use crate::storage::DbConnection;
use crate::storage::connection::MultiBackend;
use crate::storage::dyn_sql::DynCondition;

/// What each token's list holds: the `$filter`, the order and the page.
#[derive(Debug, Clone)]
pub struct PerSettingPage {
    /// `$filter`, compiled.
    pub filter: Option<SqlCondition>,
    /// `ORDER BY` text built from allow-listed columns (ends with the key, so ranks are total).
    pub order_by: String,
    /// Rows of each token to skip.
    pub skip: i64,
    /// Most rows of each token to return.
    pub top: i64,
}

struct ByToken {
    select: AsSelect<DeviceRow, MultiBackend>,
    tenant: String,
    settings: Vec<String>,
    filter: Option<DynCondition>,
    order_by: String,
    first_rank: i64,
    last_rank: i64,
}

impl QueryId for ByToken {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for ByToken {
    type SqlType = <AsSelect<DeviceRow, MultiBackend> as Expression>::SqlType;
}

impl RunQueryDsl<DbConnection> for ByToken {}

impl QueryFragment<MultiBackend> for ByToken {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.select.walk_ast(out.reborrow())?;
        out.push_sql(" FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY setting_id ORDER BY ");
        out.push_sql(&self.order_by);
        out.push_sql(") AS expand_rank FROM imported_devices WHERE tenant_id = ");
        out.push_bind_param::<Text, _>(&self.tenant)?;
        out.push_sql(" AND setting_id IN (");
        for (i, setting) in self.settings.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(setting)?;
        }
        out.push_sql(")");
        if let Some(filter) = &self.filter {
            out.push_sql(" AND ");
            filter.walk_ast(out.reborrow())?;
        }
        out.push_sql(") AS imported_devices WHERE expand_rank >= ");
        out.push_bind_param::<BigInt, _>(&self.first_rank)?;
        out.push_sql(" AND expand_rank <= ");
        out.push_bind_param::<BigInt, _>(&self.last_rank)?;
        out.push_sql(" ORDER BY setting_id, expand_rank");
        Ok(())
    }
}

/// Each listed token's page of identities, as `(setting id, identity)` grouped by token and in
/// the page's order; one statement whatever the number of tokens.
pub fn list_by_setting(
    conn: &mut DbConnection,
    tenant: TenantId,
    settings: &[String],
    page: &PerSettingPage,
) -> QueryResult<Vec<(String, ImportedAppleDeviceIdentity)>> {
    if settings.is_empty() || page.top <= 0 {
        return Ok(Vec::new());
    }
    let query = ByToken {
        select: DeviceRow::as_select(),
        tenant: tenant.to_string(),
        settings: settings.to_vec(),
        filter: page.filter.clone().map(DynCondition),
        order_by: page.order_by.clone(),
        first_rank: page.skip.saturating_add(1),
        last_rank: page.skip.saturating_add(page.top),
    };
    let rows: Vec<DeviceRow> = query.load(conn)?;
    Ok(rows.into_iter().map(DeviceRow::into_domain).collect())
}
