//! Chooses the index that drives a filtered query of one token's identities on `SQLite`.
//!
//! `SQLite` keeps no statistics unless `ANALYZE` runs (a full one, which alone records how
//! skewed a column is, reads every index: seconds at a million rows), so it cannot tell
//! `platform eq 'macOS'` (a few rows) from `discoverySource eq 'adminImport'` (every row): given
//! both, it drove the query from the second and walked the whole token for a page. It also
//! preferred walking the primary key in `id` order to sorting the three rows of a
//! `serialNumber in (…)`. Here each index-drivable conjunct (a [`Seek`]) is counted by a bounded
//! probe of its own index, and the query is driven by the smallest: the others are demoted to
//! `+column`. When the driver is a serial index (not in `id` order) and its rows are few, the
//! page is sorted instead of walked (`ORDER BY +id`).
//!
//! `PostgreSQL` keeps statistics itself (autovacuum's `ANALYZE`, with most-common values), so
//! its queries go unchanged.
//!
//! [`Seek`]: crate::odata::Seek

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::Boxed;
use crate::odata::SqlCondition;
use crate::storage::DbConnection;
use crate::storage::dyn_sql::DynCondition;

/// Rows a probe counts at most: a seek with fewer rows is sorted rather than walked.
const PROBE: i64 = 1000;

/// Columns with an index a token's seek can use (see the migrations): `(tenant_id, setting_id,
/// column, id)`, or for serials the unique `(tenant_id, serial_number)`, the token checked on each
/// row; a seek on any other column is left to the planner, since probing it would scan.
const INDEXED: &[&str] = &[
    "serial_number",
    "platform",
    "enrollment_state",
    "discovery_source",
    "requested_enrollment_profile_id",
    "is_deleted",
];

/// Columns whose index is not in `id` order after the column.
const UNORDERED: &[&str] = &["serial_number"];

/// How to run a filtered query.
pub(super) struct Plan {
    /// The filter, with every seek but the driver demoted.
    pub filter: SqlCondition,
    /// Whether to sort the (few) driven rows instead of walking an index in order.
    pub sort: bool,
}

/// The plan for `filter` over the rows `base` makes (one token's identities).
pub(super) fn plan<'a>(
    conn: &mut DbConnection,
    base: impl Fn() -> Boxed<'a>,
    filter: &SqlCondition,
) -> QueryResult<Plan> {
    let unchanged = || Plan {
        filter: filter.clone(),
        sort: false,
    };
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(unchanged());
    }
    let seeks: Vec<usize> = (0..filter.seeks.len())
        .filter(|&i| INDEXED.contains(&filter.seeks[i].column))
        .collect();
    // A serial `eq`/`in` selects at most as many rows as it names.
    if let Some(&i) = seeks.iter().find(|&&i| filter.seeks[i].bounded) {
        return Ok(Plan {
            filter: filter.driven_by(i),
            sort: true,
        });
    }
    let ordered = |i: usize| !UNORDERED.contains(&filter.seeks[i].column);
    match seeks.as_slice() {
        [] => return Ok(unchanged()),
        // The planner takes the only index, which yields `id` order.
        [i] if ordered(*i) => return Ok(unchanged()),
        _ => {}
    }
    let mut best: Option<(usize, usize)> = None;
    for &i in &seeks {
        let n = probe(conn, base(), &filter.seeks[i].probe)?;
        if best.is_none_or(|(_, m)| n < m) {
            best = Some((i, n));
        }
    }
    let Some((driver, n)) = best else {
        return Ok(unchanged());
    };
    Ok(Plan {
        filter: filter.driven_by(driver),
        sort: !ordered(driver) && i64::try_from(n).is_ok_and(|n| n < PROBE),
    })
}

/// How many rows `condition` selects, counted up to [`PROBE`] on its index alone.
fn probe(conn: &mut DbConnection, base: Boxed<'_>, condition: &SqlCondition) -> QueryResult<usize> {
    let rows: Vec<i32> = base
        .filter(DynCondition(condition.clone()))
        .select(sql::<Integer>("1"))
        .limit(PROBE)
        .load(conn)?;
    Ok(rows.len())
}

/// `order_by` with every key written `+key`: the same order, served by a sort rather than an
/// index walk.
pub(super) fn sorted(order_by: &str) -> String {
    order_by
        .split(", ")
        .map(|key| format!("+{key}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{plan, sorted};
    use crate::domain::devices::{DevicePlatform, ImportedAppleDeviceIdentity};
    use crate::odata::{compile_filter, parse_filter};
    use crate::service::test_support::Env;
    use crate::storage::devices::{SPEC, insert_many, list, scoped};
    use crate::storage::{PageQuery, write_clock};

    /// On a token of 3,000 identities (3 on macOS, every one an admin import), the rare
    /// `platform` drives the `and` and the common `discoverySource` is demoted; a serial `in`
    /// drives and is sorted; the rewritten queries return the same rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_rarest_seek_drives_and_few_serials_are_sorted() {
        let env = Env::new().await;
        let (tenant, setting) = (env.tenant, env.setting.clone());
        let filter = |f: &str| compile_filter(&parse_filter(f).unwrap(), &SPEC).unwrap();
        let combo = filter("discoverySource eq 'adminImport' and platform eq 'macOS'");
        let serials =
            filter("serialNumber in ('c02p00000009','C02P00000001') and platform eq 'iOS'");
        let (combo_plan, serial_plan, pages) = env
            .read(move |c| {
                let devices: Vec<_> = (0..3000)
                    .map(|i| {
                        let mut d = ImportedAppleDeviceIdentity::new(
                            format!("id-{:05}", 3000 - i),
                            format!("C02P{i:08}"),
                            0,
                        );
                        d.platform = if i % 1000 == 7 {
                            DevicePlatform::MacOs
                        } else {
                            DevicePlatform::Ios
                        };
                        d
                    })
                    .collect();
                // As in a write transaction: inserts record change notifications dated by it.
                write_clock::during(0, || insert_many(c, tenant, &setting, &devices))?;
                let demoted = |p: &super::Plan| {
                    let seeks = &p.filter.seeks;
                    (
                        seeks
                            .iter()
                            .map(|s| (s.column, s.demoted))
                            .collect::<Vec<_>>(),
                        p.sort,
                    )
                };
                let a = plan(c, || scoped(tenant, &setting), &combo)?;
                let b = plan(c, || scoped(tenant, &setting), &serials)?;
                let mut pages = Vec::new();
                for f in [combo, serials] {
                    let q = PageQuery {
                        filter: Some(f),
                        after: None,
                        order_by: "id ASC".into(),
                        limit: 10,
                        offset: 0,
                    };
                    let page = list(c, tenant, &setting, &q)?;
                    pages.push(
                        page.into_iter()
                            .map(|d| d.serial_number)
                            .collect::<Vec<_>>(),
                    );
                }
                Ok((demoted(&a), demoted(&b), pages))
            })
            .await;
        assert_eq!(
            combo_plan,
            (vec![("discovery_source", true), ("platform", false)], false)
        );
        assert_eq!(
            serial_plan,
            (vec![("serial_number", false), ("platform", true)], true)
        );
        assert_eq!(
            pages,
            [
                vec!["C02P00002007", "C02P00001007", "C02P00000007"],
                vec!["C02P00000009", "C02P00000001"],
            ]
        );
    }

    #[test]
    fn sorted_keys_lose_their_index() {
        assert_eq!(sorted("id ASC"), "+id ASC");
        assert_eq!(
            sorted("serial_number DESC, id ASC"),
            "+serial_number DESC, +id ASC"
        );
    }
}
