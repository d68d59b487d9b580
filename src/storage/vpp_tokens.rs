//! Repository of VPP token rows.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::dyn_sql::DynCondition;
use super::schema::vpp_tokens::{self as t, dsl};
use super::{DbConnection, PageQuery};
use crate::domain::edm::EnumType;
use crate::domain::ids::TenantId;
use crate::domain::vpp::{
    ACCOUNT_TYPE, DELIVERY_PROTOCOL, STATE, SYNC_STATUS, VppSecret, VppToken, state_at,
};
use crate::odata::{EntitySpec, Field, FieldKind, SqlCondition};

/// The properties `$filter`, `$orderby` and `$select` may name, and their columns.
pub static SPEC: EntitySpec = EntitySpec {
    entity: "microsoft.graph.vppToken",
    fields: &[
        Field::required("id", "id", FieldKind::Id),
        Field::required("organizationName", "organization_name", FieldKind::Text),
        Field::required(
            "vppTokenAccountType",
            "vpp_token_account_type",
            FieldKind::Enum(ACCOUNT_TYPE.members),
        ),
        Field::nullable("appleId", "apple_id", FieldKind::Text),
        Field::required(
            "expirationDateTime",
            "expiration_date_time",
            FieldKind::DateTime,
        ),
        Field::required(
            "lastSyncDateTime",
            "last_sync_date_time",
            FieldKind::DateTime,
        ),
        // The secret: selectable (always null), never filtered or sorted (no oracle on it).
        select_only("token", FieldKind::Text),
        Field::required(
            "lastModifiedDateTime",
            "last_modified_date_time",
            FieldKind::DateTime,
        ),
        // Derived from the expiry at read time (see `state_at`), so there is no column.
        select_only("state", FieldKind::Enum(STATE.members)),
        select_only("tokenActionResults", FieldKind::Collection),
        Field::required(
            "lastSyncStatus",
            "last_sync_status",
            FieldKind::Enum(SYNC_STATUS.members),
        ),
        Field::required(
            "automaticallyUpdateApps",
            "automatically_update_apps",
            FieldKind::Bool,
        ),
        Field::nullable("countryOrRegion", "country_or_region", FieldKind::Text),
        Field::required(
            "dataSharingConsentGranted",
            "data_sharing_consent_granted",
            FieldKind::Bool,
        ),
        Field::nullable("displayName", "display_name", FieldKind::Text),
        Field::nullable("locationName", "location_name", FieldKind::Text),
        Field::required(
            "claimTokenManagementFromExternalMdm",
            "claim_token_management_from_external_mdm",
            FieldKind::Bool,
        ),
        select_only("roleScopeTagIds", FieldKind::Collection),
        Field::required("lastAppCount", "last_app_count", FieldKind::Int),
        Field::required(
            "appleDeviceAppDeliveryProtocolType",
            "apple_device_app_delivery_protocol_type",
            FieldKind::Enum(DELIVERY_PROTOCOL.members),
        ),
    ],
    types: &[],
};

/// A property without a column of its own: `$select` only.
const fn select_only(name: &'static str, kind: FieldKind) -> Field {
    Field {
        name,
        column: "",
        kind,
        nullable: true,
        filterable: false,
        sortable: false,
    }
}

/// One row of `vpp_tokens`.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = t)]
#[diesel(treat_none_as_null = true)]
struct VppTokenRow {
    #[diesel(skip_update)]
    tenant_id: String,
    id: String,
    organization_name: String,
    vpp_token_account_type: String,
    apple_id: Option<String>,
    expiration_date_time: i64,
    last_sync_date_time: i64,
    // SECRET: stored as uploaded for now (encryption at rest comes later); no Debug on the row.
    token: String,
    token_sha256: String,
    last_modified_date_time: i64,
    last_sync_status: String,
    automatically_update_apps: bool,
    country_or_region: Option<String>,
    data_sharing_consent_granted: bool,
    display_name: Option<String>,
    location_name: Option<String>,
    claim_token_management_from_external_mdm: bool,
    role_scope_tag_ids: String,
    last_app_count: i32,
    apple_device_app_delivery_protocol_type: String,
    #[diesel(skip_update)]
    created_ticks: i64,
}

/// The canonical member for a stored name (the first member if the column holds anything else).
fn canonical(ty: &EnumType, stored: &str) -> &'static str {
    ty.parse(stored).unwrap_or(ty.members[0])
}

impl VppTokenRow {
    fn from_domain(tenant: TenantId, v: &VppToken, created_ticks: i64) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            id: v.id.clone(),
            organization_name: v.organization_name.clone(),
            vpp_token_account_type: v.vpp_token_account_type.to_owned(),
            apple_id: v.apple_id.clone(),
            expiration_date_time: v.expiration_date_time,
            last_sync_date_time: v.last_sync_date_time,
            token: v.token.expose().to_owned(),
            token_sha256: v.token_fingerprint.clone(),
            last_modified_date_time: v.last_modified_date_time,
            last_sync_status: v.last_sync_status.to_owned(),
            automatically_update_apps: v.automatically_update_apps,
            country_or_region: v.country_or_region.clone(),
            data_sharing_consent_granted: v.data_sharing_consent_granted,
            display_name: v.display_name.clone(),
            location_name: v.location_name.clone(),
            claim_token_management_from_external_mdm: v.claim_token_management_from_external_mdm,
            role_scope_tag_ids: serde_json::to_string(&v.role_scope_tag_ids)
                .unwrap_or_else(|_| "[]".into()),
            last_app_count: v.last_app_count,
            apple_device_app_delivery_protocol_type: v
                .apple_device_app_delivery_protocol_type
                .to_owned(),
            created_ticks,
        }
    }

    /// The domain token, with its `state` observed at `now` (ticks).
    fn into_domain(self, now: i64) -> VppToken {
        VppToken {
            id: self.id,
            organization_name: self.organization_name,
            vpp_token_account_type: canonical(&ACCOUNT_TYPE, &self.vpp_token_account_type),
            apple_id: self.apple_id,
            expiration_date_time: self.expiration_date_time,
            last_sync_date_time: self.last_sync_date_time,
            token: VppSecret::new(self.token),
            last_modified_date_time: self.last_modified_date_time,
            state: state_at(self.expiration_date_time, now),
            token_action_results: Vec::new(),
            last_sync_status: canonical(&SYNC_STATUS, &self.last_sync_status),
            automatically_update_apps: self.automatically_update_apps,
            country_or_region: self.country_or_region,
            data_sharing_consent_granted: self.data_sharing_consent_granted,
            display_name: self.display_name,
            location_name: self.location_name,
            claim_token_management_from_external_mdm: self.claim_token_management_from_external_mdm,
            role_scope_tag_ids: serde_json::from_str(&self.role_scope_tag_ids).unwrap_or_default(),
            last_app_count: self.last_app_count,
            apple_device_app_delivery_protocol_type: canonical(
                &DELIVERY_PROTOCOL,
                &self.apple_device_app_delivery_protocol_type,
            ),
            token_fingerprint: self.token_sha256,
        }
    }
}

type Boxed<'a> = t::BoxedQuery<'a, super::connection::MultiBackend>;

fn scoped<'a>(tenant: TenantId) -> Boxed<'a> {
    dsl::vpp_tokens
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .into_boxed()
}

/// One page of the tenant's VPP tokens, their `state` as of `now`.
pub fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    q: &PageQuery,
    now: i64,
) -> QueryResult<Vec<VppToken>> {
    let mut query = scoped(tenant);
    for condition in [&q.filter, &q.after].into_iter().flatten() {
        query = query.filter(DynCondition(condition.clone()));
    }
    let rows: Vec<VppTokenRow> = query
        .order(sql::<Text>(&q.order_by))
        .limit(q.limit)
        .offset(q.offset)
        .select(VppTokenRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|row| row.into_domain(now)).collect())
}

/// How many of the tenant's VPP tokens match `filter`.
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

/// How many of the tenant's VPP tokens expire strictly before `before` (ticks).
pub fn count_expiring_before(
    conn: &mut DbConnection,
    tenant: TenantId,
    before: i64,
) -> QueryResult<i64> {
    scoped(tenant)
        .filter(dsl::expiration_date_time.lt(before))
        .count()
        .get_result(conn)
}

/// One VPP token of the tenant, its `state` as of `now`.
pub fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: &str,
    now: i64,
) -> QueryResult<Option<VppToken>> {
    scoped(tenant)
        .filter(dsl::id.eq(id.to_owned()))
        .select(VppTokenRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(|row| row.into_domain(now)))
}

/// The id of the tenant's token whose inner Apple token has this fingerprint, if any.
pub fn find_by_fingerprint(
    conn: &mut DbConnection,
    tenant: TenantId,
    fingerprint: &str,
) -> QueryResult<Option<String>> {
    scoped(tenant)
        .filter(dsl::token_sha256.eq(fingerprint.to_owned()))
        .select(dsl::id)
        .first(conn)
        .optional()
}

/// Inserts a new token.
pub fn insert(
    conn: &mut DbConnection,
    tenant: TenantId,
    v: &VppToken,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(dsl::vpp_tokens)
        .values(VppTokenRow::from_domain(tenant, v, now))
        .execute(conn)
        .map(drop)
}

/// Overwrites the stored token with `v` (same tenant and id); returns whether it existed.
pub fn update(conn: &mut DbConnection, tenant: TenantId, v: &VppToken) -> QueryResult<bool> {
    let n = diesel::update(dsl::vpp_tokens)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(&v.id))
        .set(VppTokenRow::from_domain(tenant, v, 0))
        .execute(conn)?;
    Ok(n == 1)
}

/// Deletes a token; returns whether it existed.
pub fn delete(conn: &mut DbConnection, tenant: TenantId, id: &str) -> QueryResult<bool> {
    let n = diesel::delete(dsl::vpp_tokens)
        .filter(dsl::tenant_id.eq(tenant.to_string()))
        .filter(dsl::id.eq(id))
        .execute(conn)?;
    Ok(n == 1)
}
