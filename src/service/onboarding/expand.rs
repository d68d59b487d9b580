//! `$expand` on depOnboardingSettings, for one setting or a page of them: the navigations Graph
//! declares (`enrollmentProfiles`, `importedAppleDeviceIdentities` and the four
//! `default…EnrollmentProfile`s), `*`, and nested `$select`/`$filter`/`$orderby`/`$top`/`$skip`.
//!
//! Everything is validated by [`plan`] before anything is read, so a bad nested option is a 400
//! even on an empty page. [`expand_page`] then reads each kind of navigation once for the whole
//! page (no query per setting): the profiles and default designations in two queries, the
//! identities in one windowed query that cuts each token's own page.
//!
//! GRAPH-COMPAT: expanded identities hold at most one page (`$top`, capped at the gateway's page
//! size) and carry no nextLink of its own; clients follow the navigation itself to page further,
//! as Graph's docs advise for large expansions. Expanded profiles (a token has few) come whole.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::domain::ValidationError;
use crate::domain::devices::ODATA_TYPE as DEVICE_TYPE;
use crate::domain::ids::TenantId;
use crate::domain::profiles::Platform;
use crate::odata::{self, EntitySpec, ExpandItem, QueryOption, QueryOptions, SortKey};
use crate::service::paging::{self, InMemoryPage};
use crate::service::{ServiceError, Services, profiles};
use crate::storage::devices::{self as devices_repo, PerSettingPage};

/// A navigation of depOnboardingSetting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `enrollmentProfiles`.
    Profiles,
    /// `importedAppleDeviceIdentities`.
    Devices,
    /// `default{Platform}EnrollmentProfile`.
    Default(Platform),
}

impl Nav {
    /// Every navigation, in CSDL order (what `*` expands).
    pub const ALL: [Nav; 6] = [
        Nav::Default(Platform::Ios),
        Nav::Default(Platform::MacOs),
        Nav::Default(Platform::TvOs),
        Nav::Default(Platform::VisionOs),
        Nav::Profiles,
        Nav::Devices,
    ];

    /// The navigation property's name.
    pub fn name(self) -> &'static str {
        match self {
            Nav::Profiles => "enrollmentProfiles",
            Nav::Devices => "importedAppleDeviceIdentities",
            Nav::Default(p) => p.default_navigation(),
        }
    }
}

/// How one navigation is read and cut.
#[derive(Debug, Clone)]
enum Cut {
    /// Profiles, filtered, sorted and paged in memory.
    InMemory(InMemoryPage),
    /// Identities, filtered, sorted and paged by the database.
    Sql(PerSettingPage),
    /// A single-valued navigation (only `$select` applies).
    Single,
}

/// One validated `$expand` item.
#[derive(Debug, Clone)]
pub struct Expansion {
    nav: Nav,
    select: Option<Vec<&'static str>>,
    cut: Cut,
}

impl Expansion {
    /// The item in an `@odata.context` projection: `name(selected,…)`, `name()` without
    /// `$select`.
    pub fn context(&self) -> String {
        format!(
            "{}({})",
            self.nav.name(),
            self.select.as_deref().unwrap_or_default().join(",")
        )
    }
}

/// Resolves and validates a `$expand` value (absent: nothing to expand).
pub fn plan(raw: Option<&str>, max_page_size: u32) -> Result<Vec<Expansion>, ServiceError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Expansion> = Vec::new();
    for item in odata::parse_expand(raw)? {
        let navs: Vec<Nav> = if item.is_all() {
            Nav::ALL.to_vec()
        } else {
            vec![find(&item)?]
        };
        for nav in navs {
            if !out.iter().any(|e| e.nav == nav) {
                out.push(expansion(nav, &item.options, max_page_size)?);
            }
        }
    }
    Ok(out)
}

fn find(item: &ExpandItem) -> Result<Nav, ServiceError> {
    Nav::ALL
        .into_iter()
        .find(|n| n.name().eq_ignore_ascii_case(&item.name))
        .ok_or_else(|| {
            ValidationError::new(format!(
                "Could not find a navigation property named '{}' on type 'microsoft.graph.depOnboardingSetting'.",
                item.name
            ))
            .into()
        })
}

fn expansion(nav: Nav, q: &QueryOptions, max_page_size: u32) -> Result<Expansion, ServiceError> {
    let spec: &'static EntitySpec = match nav {
        Nav::Devices => &devices_repo::SPEC,
        Nav::Profiles | Nav::Default(_) => profiles::spec(),
    };
    let select = match &q.select {
        Some(names) => Some(
            odata::resolve_select(names, spec)?
                .iter()
                .map(|f| f.name)
                .collect(),
        ),
        None => None,
    };
    let cut = match nav {
        Nav::Default(_) => {
            q.ensure_only(&[QueryOption::Select])?;
            Cut::Single
        }
        // A token's profiles are few and read whole: the expansion carries all of them (the
        // Python SDK's expand test relies on it), cut only by the client's own `$top`.
        Nav::Profiles => Cut::InMemory(paging::in_memory_page(spec, q, u32::MAX)?),
        Nav::Devices => {
            let filter = q
                .filter
                .as_ref()
                .map(|f| odata::compile_filter(f, spec))
                .transpose()?;
            let keys: Vec<SortKey> =
                odata::compile_orderby(q.orderby.as_deref().unwrap_or_default(), spec)?;
            let top = q.top.unwrap_or(u64::MAX).min(u64::from(max_page_size));
            Cut::Sql(PerSettingPage {
                filter,
                order_by: odata::order_by_sql(&keys),
                skip: i64::try_from(q.skip.unwrap_or(0)).unwrap_or(i64::MAX),
                top: i64::try_from(top).unwrap_or(i64::MAX),
            })
        }
    };
    Ok(Expansion { nav, select, cut })
}

/// Keeps the selected properties (and annotations) of an expanded item.
fn project(item: Value, select: Option<&[&'static str]>) -> Value {
    match (item, select) {
        (Value::Object(props), Some(select)) => Value::Object(
            props
                .into_iter()
                .filter(|(k, _)| k.starts_with('@') || select.contains(&k.as_str()))
                .collect::<Map<String, Value>>(),
        ),
        (item, _) => item,
    }
}

/// The expanded navigations of each setting in `ids`, in the order of `ids` and of `plan`.
pub async fn expand_page(
    svc: &Services,
    tenant: TenantId,
    ids: &[String],
    plan: &[Expansion],
) -> Result<Vec<Vec<(&'static str, Value)>>, ServiceError> {
    let mut out: Vec<Vec<(&'static str, Value)>> = vec![Vec::new(); ids.len()];
    if plan.is_empty() || ids.is_empty() {
        return Ok(out);
    }
    let wants_profiles = plan.iter().any(|e| !matches!(e.cut, Cut::Sql(_)));
    let profiles = if wants_profiles {
        profiles::by_setting(svc, tenant, ids.to_vec()).await?
    } else {
        HashMap::new()
    };
    for expansion in plan {
        let select = expansion.select.as_deref();
        let values: Vec<Value> = match (&expansion.cut, expansion.nav) {
            (Cut::Sql(page), _) => devices_by_setting(svc, tenant, ids, page.clone()).await?,
            (Cut::InMemory(page), _) => ids
                .iter()
                .map(|id| {
                    let all = profiles.get(id).map(|t| t.profiles.clone());
                    Value::Array(page.apply(all.unwrap_or_default()))
                })
                .collect(),
            (Cut::Single, Nav::Default(platform)) => ids
                .iter()
                .map(|id| {
                    profiles
                        .get(id)
                        .and_then(|t| t.default_for(platform.as_str()))
                        .cloned()
                        .unwrap_or(Value::Null)
                })
                .collect(),
            (Cut::Single, _) => vec![Value::Null; ids.len()],
        };
        for (slot, value) in out.iter_mut().zip(values) {
            let value = match value {
                Value::Array(items) => {
                    Value::Array(items.into_iter().map(|i| project(i, select)).collect())
                }
                Value::Null => Value::Null,
                item => project(item, select),
            };
            slot.push((expansion.nav.name(), value));
        }
    }
    Ok(out)
}

/// Each setting's page of identities, from one query for all of them.
async fn devices_by_setting(
    svc: &Services,
    tenant: TenantId,
    ids: &[String],
    page: PerSettingPage,
) -> Result<Vec<Value>, ServiceError> {
    let settings = ids.to_vec();
    let rows = svc
        .db
        .run(move |c| {
            Ok::<_, ServiceError>(devices_repo::list_by_setting(c, tenant, &settings, &page)?)
        })
        .await?;
    let mut by_setting: HashMap<String, Vec<Value>> = HashMap::new();
    for (setting, device) in rows {
        // As the identities' own collection renders them: `@odata.type` first.
        let mut json = Map::new();
        json.insert("@odata.type".to_owned(), Value::from(DEVICE_TYPE));
        if let Ok(Value::Object(props)) = serde_json::to_value(device) {
            json.extend(props);
        }
        by_setting
            .entry(setting)
            .or_default()
            .push(Value::Object(json));
    }
    Ok(ids
        .iter()
        .map(|id| Value::Array(by_setting.remove(id).unwrap_or_default()))
        .collect())
}
