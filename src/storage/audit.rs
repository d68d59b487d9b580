//! Repository of the audit trail (`deviceManagement/auditEvents`): the event as Graph shapes it,
//! its row, the insert that runs inside a write's transaction, pages, and retention pruning.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::Serialize;

use super::dyn_sql::DynCondition;
use super::schema::audit_events::{self as t, dsl};
use super::{DbConnection, PageQuery};
use crate::domain::ids::TenantId;
use crate::domain::time::graph_datetime;
use crate::odata::{EntitySpec, Field, FieldKind, SqlCondition};

/// `$filter` name of the hidden column behind `actor/userPrincipalName`.
pub const ACTOR_UPN: &str = "actorUserPrincipalName";
/// `$filter` name of the hidden column behind `actor/applicationId`.
pub const ACTOR_APP_ID: &str = "actorApplicationId";
/// `$filter` name of the hidden column behind `resources/any(r: r/resourceId eq …)`.
pub const RESOURCE_IDS: &str = "resourceIdList";
/// `$filter` name of the hidden column behind `resources/any(r: r/auditResourceType eq …)`.
pub const RESOURCE_TYPES: &str = "resourceTypeList";

/// The properties `$filter`, `$orderby` and `$select` may name, and their columns. The last four
/// are what the service lowers `actor/…` paths and `resources/any(…)` lambdas to.
pub static SPEC: EntitySpec = EntitySpec {
    entity: "microsoft.graph.auditEvent",
    fields: &[
        Field::required("id", "id", FieldKind::Id),
        Field::required("displayName", "display_name", FieldKind::Text),
        Field::required("componentName", "component_name", FieldKind::Text),
        Field::nullable("activity", "activity", FieldKind::Text),
        Field::required(
            "activityDateTime",
            "activity_date_time",
            FieldKind::DateTime,
        ),
        Field::required("activityType", "activity_type", FieldKind::Text),
        Field::required(
            "activityOperationType",
            "activity_operation_type",
            FieldKind::Text,
        ),
        Field::required("activityResult", "activity_result", FieldKind::Text),
        Field::required("correlationId", "correlation_id", FieldKind::Id),
        Field::required("category", "category", FieldKind::Text),
        select_only("actor"),
        select_only("resources"),
        hidden(ACTOR_UPN, "actor_upn"),
        hidden(ACTOR_APP_ID, "actor_app_id"),
        hidden(RESOURCE_IDS, "resource_ids"),
        hidden(RESOURCE_TYPES, "resource_types"),
    ],
    types: &[],
};

const fn select_only(name: &'static str) -> Field {
    Field {
        name,
        column: "",
        kind: FieldKind::Collection,
        nullable: true,
        filterable: false,
        sortable: false,
    }
}

const fn hidden(name: &'static str, column: &'static str) -> Field {
    Field {
        sortable: false,
        ..Field::nullable(name, column, FieldKind::Text)
    }
}

/// `microsoft.graph.auditActor` (beta shape; v1.0 drops the beta-only members).
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditActor {
    /// `ItPro` (a signed-in user), `Application` (app-only) or `Service` (the gateway itself).
    pub audit_actor_type: String,
    /// Older twin of `auditActorType` (beta only).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's `oid` (delegated) or the service principal's (app-only).
    pub user_id: Option<String>,
    /// The user's UPN.
    pub user_principal_name: Option<String>,
    /// The client application's id (`appid`/`azp`).
    pub application_id: Option<String>,
    /// The client application's name (`app_displayname`).
    pub application_display_name: Option<String>,
    /// The service principal's name (none is known from a token).
    pub service_principal_name: Option<String>,
    /// The caller's address.
    pub ip_address: Option<String>,
    /// The permissions the caller's token granted.
    pub user_permissions: Vec<String>,
    /// GDAP partner tenant (never known here; beta only).
    pub remote_tenant_id: Option<String>,
    /// GDAP partner user (never known here; beta only).
    pub remote_user_id: Option<String>,
    /// Scope tags (none; beta only).
    pub user_role_scope_tags: Vec<serde_json::Value>,
}

/// `microsoft.graph.auditProperty`: one changed property, old → new, as strings.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditProperty {
    /// Property name (`PascalCase`, as Intune writes it).
    pub display_name: String,
    /// Value before (`None` on create).
    pub old_value: Option<String>,
    /// Value after (`None` on delete).
    pub new_value: Option<String>,
}

/// `microsoft.graph.auditResource`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditResource {
    /// The resource's name, when it has one.
    pub display_name: Option<String>,
    /// The changed properties.
    pub modified_properties: Vec<AuditProperty>,
    /// Its type, e.g. `DepOnboardingSetting`.
    pub audit_resource_type: String,
    /// Older twin of `auditResourceType` (beta only).
    #[serde(rename = "type")]
    pub kind: String,
    /// The id Graph serves it under.
    pub resource_id: String,
}

/// `microsoft.graph.auditEvent`, in the beta shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// GUID of the event.
    pub id: String,
    /// Same as `activityType` (Intune's pattern).
    pub display_name: String,
    /// `Enrollment` for everything DEP.
    pub component_name: String,
    /// The operation id of the table row that made the change (none for background work).
    pub activity: Option<String>,
    /// When it happened.
    #[serde(serialize_with = "graph_datetime::serialize")]
    pub activity_date_time: i64,
    /// `<Operation> <ResourceType>`, e.g. `Create DepOnboardingSetting`.
    pub activity_type: String,
    /// `Create`, `Patch`, `Delete` or `Action`.
    pub activity_operation_type: String,
    /// `Success`, or `Failure` for a background outcome that failed.
    pub activity_result: String,
    /// The request id of the change (a fresh GUID for background work).
    pub correlation_id: String,
    /// `Enrollment` for everything DEP.
    pub category: String,
    /// Who did it.
    pub actor: AuditActor,
    /// What it changed (never empty).
    pub resources: Vec<AuditResource>,
}

/// One row of `audit_events`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = t)]
struct AuditRow {
    tenant_id: String,
    id: String,
    activity_date_time: i64,
    display_name: String,
    component_name: String,
    activity: Option<String>,
    activity_type: String,
    activity_operation_type: String,
    activity_result: String,
    correlation_id: String,
    category: String,
    actor_upn: Option<String>,
    actor_app_id: Option<String>,
    actor_json: String,
    resource_ids: String,
    resource_types: String,
    resources_json: String,
}

/// `|a|b|`: every value between delimiters, so `contains(…, '|a|')` matches one whole value.
fn delimited<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("|");
    for v in values {
        out.push_str(v);
        out.push('|');
    }
    out
}

impl AuditRow {
    fn from_event(tenant: TenantId, e: &AuditEvent) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            id: e.id.clone(),
            activity_date_time: e.activity_date_time,
            display_name: e.display_name.clone(),
            component_name: e.component_name.clone(),
            activity: e.activity.clone(),
            activity_type: e.activity_type.clone(),
            activity_operation_type: e.activity_operation_type.clone(),
            activity_result: e.activity_result.clone(),
            correlation_id: e.correlation_id.clone(),
            category: e.category.clone(),
            actor_upn: e.actor.user_principal_name.clone(),
            actor_app_id: e.actor.application_id.clone(),
            actor_json: serde_json::to_string(&e.actor).unwrap_or_else(|_| "{}".into()),
            resource_ids: delimited(e.resources.iter().map(|r| r.resource_id.as_str())),
            resource_types: delimited(e.resources.iter().map(|r| r.audit_resource_type.as_str())),
            resources_json: serde_json::to_string(&e.resources).unwrap_or_else(|_| "[]".into()),
        }
    }

    fn into_event(self) -> AuditEvent {
        AuditEvent {
            id: self.id,
            display_name: self.display_name,
            component_name: self.component_name,
            activity: self.activity,
            activity_date_time: self.activity_date_time,
            activity_type: self.activity_type,
            activity_operation_type: self.activity_operation_type,
            activity_result: self.activity_result,
            correlation_id: self.correlation_id,
            category: self.category,
            actor: serde_json::from_str(&self.actor_json).unwrap_or_default(),
            resources: serde_json::from_str(&self.resources_json).unwrap_or_default(),
        }
    }
}

type Boxed<'a> = t::BoxedQuery<'a, super::connection::MultiBackend>;

fn scoped<'a>(tenant: TenantId) -> Boxed<'a> {
    dsl::audit_events
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

/// Appends an event (inside the transaction of the change it records).
pub fn insert(conn: &mut DbConnection, tenant: TenantId, e: &AuditEvent) -> QueryResult<()> {
    diesel::insert_into(dsl::audit_events)
        .values(AuditRow::from_event(tenant, e))
        .execute(conn)
        .map(drop)
}

/// One page of the tenant's events.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    q: &PageQuery,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = scoped(tenant);
    for condition in [&q.filter, &q.after].into_iter().flatten() {
        query = query.filter(DynCondition(condition.clone()));
    }
    let rows: Vec<AuditRow> = query
        .order(sql::<Text>(&q.order_by))
        .limit(q.limit)
        .offset(q.offset)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AuditRow::into_event).collect())
}

/// How many of the tenant's events match `filter`.
pub fn count(
    conn: &mut DbConnection,
    tenant: TenantId,
    filter: Option<&SqlCondition>,
) -> QueryResult<i64> {
    match filter {
        Some(f) => scoped(tenant)
            .filter(DynCondition(f.clone()))
            .count()
            .get_result(conn),
        None => scoped(tenant).count().get_result(conn),
    }
}

/// One event of the tenant.
pub fn get(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<Option<AuditEvent>> {
    scoped(tenant)
        .filter(dsl::id.eq(id.to_owned()))
        .select(AuditRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(AuditRow::into_event))
}

/// The distinct activity types the tenant's trail holds in `category` (compared exactly).
pub fn activity_types(
    conn: &mut DbConnection,
    tenant: TenantId,
    category: &str,
) -> QueryResult<Vec<String>> {
    scoped(tenant)
        .filter(dsl::category.eq(category.to_owned()))
        .select(dsl::activity_type)
        .distinct()
        .order(dsl::activity_type)
        .load(conn)
}

/// Deletes every tenant's events older than `before` (ticks), at most `batch` of them; returns
/// how many went. Runs across tenants: retention is one setting of the instance.
pub fn prune(conn: &mut DbConnection, before: i64, batch: i64) -> QueryResult<usize> {
    let oldest: Vec<(String, String)> = dsl::audit_events
        .filter(dsl::activity_date_time.lt(before))
        .order(dsl::activity_date_time)
        .limit(batch)
        .select((dsl::tenant_id, dsl::id))
        .load(conn)?;
    let mut n = 0;
    for (tenant, id) in oldest {
        n += diesel::delete(dsl::audit_events)
            .filter(dsl::tenant_id.eq(tenant))
            .filter(dsl::id.eq(id))
            .execute(conn)?;
    }
    Ok(n)
}
