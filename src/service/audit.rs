//! The audit trail: who changed what. Every accepted write runs through [`Services::audited`],
//! which appends one `auditEvent` in the write's own transaction (so a rolled-back write leaves
//! no event and a committed one always has its event). The caller comes from the request
//! ([`scope`], set by the dispatcher from the validated token); work outside a request
//! (sync, assignment pushes, token warnings) is recorded with the gateway itself as actor.
//! Reads record nothing; a refused write records nothing either (its transaction rolls back).

mod diff;
pub mod filter;
mod queries;
#[cfg(test)]
mod tests;

use std::future::Future;

use uuid::Uuid;

pub use diff::{changes, modified};
pub use queries::{CATEGORIES, activity_types, count, get, list, prune, start_pruner};

use super::{ServiceError, Services};
use crate::domain::ids::TenantId;
use crate::storage::audit::{self as repo, AuditActor, AuditEvent, AuditProperty, AuditResource};
use crate::storage::{DbConnection, StorageError};

/// `componentName` and `category` of every DEP event.
// GRAPH-COMPAT: IntuneCD attributes Apple enrollment profile changes with
// `componentName eq 'Enrollment'` (audit-events.md §7.5); the category is the same.
pub const ENROLLMENT: &str = "Enrollment";
/// `auditActorType` of a signed-in user (Intune's value for admins).
pub const ACTOR_USER: &str = "ItPro";
/// `auditActorType` of an app-only caller.
pub const ACTOR_APPLICATION: &str = "Application";
/// `auditActorType` of the gateway's own background work.
pub const ACTOR_SERVICE: &str = "Service";
/// `applicationDisplayName` of the gateway's own background work.
pub const SERVICE_NAME: &str = "dep-gateway";
/// Resource type of a depOnboardingSetting (a DEP token).
pub const SETTING: &str = "DepOnboardingSetting";
/// Resource type of an imported Apple device identity.
pub const DEVICE: &str = "ImportedAppleDeviceIdentity";
/// Resource type of a VPP token.
pub const VPP_TOKEN: &str = "VppToken";
/// `activityType` type of every enrollment profile event; each resource names its own type.
pub const PROFILE: &str = "EnrollmentProfile";

/// Who is making the current request, and under which request id and operation.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The actor as the event shows it.
    pub actor: AuditActor,
    /// The request id (`correlationId`).
    pub correlation_id: String,
    /// The operation id of the table row (`activity`).
    pub operation: Option<String>,
}

tokio::task_local! {
    static CALLER: Caller;
}

/// Runs `f` (a request's handler) with `caller` as the actor of every write it makes.
pub async fn scope<F: Future>(caller: Caller, f: F) -> F::Output {
    CALLER.scope(caller, f).await
}

/// The caller of the request being served (`None` outside a request: background work, the
/// command line). Read it before the blocking pool: a task-local does not cross threads.
pub fn current_caller() -> Option<Caller> {
    CALLER.try_with(Clone::clone).ok()
}

/// The actor of the gateway's own background work.
pub fn service_actor() -> AuditActor {
    AuditActor {
        audit_actor_type: ACTOR_SERVICE.to_owned(),
        kind: ACTOR_SERVICE.to_owned(),
        application_display_name: Some(SERVICE_NAME.to_owned()),
        ..AuditActor::default()
    }
}

/// A Graph type name as the trail names it: `depIOSEnrollmentProfile` → `DepIOSEnrollmentProfile`.
pub fn type_name(odata_type: &str) -> String {
    let bare = odata_type.rsplit('.').next().unwrap_or(odata_type);
    let mut chars = bare.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// What one write changed: its operation, the type named by `activityType`, and the
/// resources it touched. Filled by the write inside its transaction.
#[derive(Debug)]
pub struct Audit {
    operation: &'static str,
    resource_type: &'static str,
    resources: Vec<AuditResource>,
    result: &'static str,
}

impl Audit {
    /// A change of `operation` (`Create`, `Patch`, `Delete`, `Action`) on a `resource_type`.
    pub fn new(operation: &'static str, resource_type: &'static str) -> Self {
        Self {
            operation,
            resource_type,
            resources: Vec::new(),
            result: "Success",
        }
    }

    /// Records a background outcome that failed (`activityResult` `Failure`).
    #[must_use]
    pub fn failed(mut self) -> Self {
        self.result = "Failure";
        self
    }

    /// Adds a resource of the event's type with its changed properties.
    pub fn resource(
        &mut self,
        id: &str,
        display_name: Option<&str>,
        modified_properties: Vec<AuditProperty>,
    ) {
        self.resource_of(self.resource_type, id, display_name, modified_properties);
    }

    /// Adds a resource of another type (e.g. the token an identity import belongs to).
    pub fn resource_of(
        &mut self,
        resource_type: &str,
        id: &str,
        display_name: Option<&str>,
        modified_properties: Vec<AuditProperty>,
    ) {
        self.resources.push(AuditResource {
            display_name: display_name.map(str::to_owned),
            modified_properties,
            audit_resource_type: resource_type.to_owned(),
            kind: resource_type.to_owned(),
            resource_id: id.to_owned(),
        });
    }

    /// Adds an entity stored as a JSON map (a profile) of Graph type `odata_type`, with what
    /// changed from `old` to `new`; its name is the `displayName` of either.
    pub fn entity(
        &mut self,
        odata_type: &str,
        id: &str,
        old: &serde_json::Map<String, serde_json::Value>,
        new: &serde_json::Map<String, serde_json::Value>,
    ) {
        let name = [new, old]
            .into_iter()
            .find_map(|m| m.get("displayName").and_then(serde_json::Value::as_str))
            .map(str::to_owned);
        let props = changes(old, new);
        self.resource_of(&type_name(odata_type), id, name.as_deref(), props);
    }

    /// The event, for `actor` at `now`.
    fn into_event(self, caller: Caller, now: i64) -> AuditEvent {
        let activity_type = format!("{} {}", self.operation, self.resource_type);
        let resources = self.resources;
        AuditEvent {
            id: Uuid::new_v4().to_string(),
            display_name: activity_type.clone(),
            component_name: ENROLLMENT.to_owned(),
            activity: caller.operation,
            activity_date_time: now,
            activity_type,
            activity_operation_type: self.operation.to_owned(),
            activity_result: self.result.to_owned(),
            correlation_id: caller.correlation_id,
            category: ENROLLMENT.to_owned(),
            actor: caller.actor,
            resources,
        }
    }
}

fn service_caller() -> Caller {
    Caller {
        actor: service_actor(),
        correlation_id: Uuid::new_v4().to_string(),
        operation: None,
    }
}

/// Appends the event of `audit` by `caller` (the gateway itself when `None`) on a connection
/// inside the transaction of the change it records, for writes that cannot go through
/// [`Services::audited`] (the command line's, a token warning marked as issued).
pub fn record(
    c: &mut DbConnection,
    tenant: TenantId,
    now: i64,
    caller: Option<Caller>,
    audit: Audit,
) -> Result<(), diesel::result::Error> {
    // A write that touched nothing (a retried release, a key download that found its token)
    // records nothing; every event names at least one resource, which IntuneCD indexes blindly
    // (audit-events.md §8).
    if audit.resources.is_empty() {
        return Ok(());
    }
    let caller = caller.unwrap_or_else(service_caller);
    repo::insert(c, tenant, &audit.into_event(caller, now))
}

/// What a push to Apple changed on one serial's assignment of `row.profile_id`.
pub fn assignment_status(
    row: &crate::storage::profile_push::Assignment,
    outcome: &crate::storage::profile_push::Outcome,
) -> Vec<AuditProperty> {
    vec![
        AuditProperty {
            display_name: "EnrollmentProfileId".to_owned(),
            old_value: None,
            new_value: Some(row.profile_id.clone()),
        },
        AuditProperty {
            display_name: "ProfileAssignmentStatus".to_owned(),
            old_value: Some(row.status.clone()),
            new_value: Some(outcome.status.clone()),
        },
    ]
}

/// The change of the single-token API's default token designation, as a property.
pub fn legacy_default_change(before: Option<String>, after: Option<String>) -> Vec<AuditProperty> {
    if before == after {
        return Vec::new();
    }
    vec![AuditProperty {
        display_name: "LegacyDefaultToken".to_owned(),
        old_value: before,
        new_value: after,
    }]
}

impl Services {
    /// [`crate::storage::Db::write`] that also appends the event `f` describes, in the same
    /// transaction: `f` changes the state and fills the [`Audit`] started from `audit`. An error
    /// from `f` (or from the insert) rolls back both.
    pub async fn audited<T, E, F>(&self, tenant: TenantId, audit: Audit, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection, &mut Audit) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + From<diesel::result::Error> + Send + 'static,
    {
        let caller = current_caller();
        let clock = std::sync::Arc::clone(&self.clock);
        self.db
            .write(tenant, self.clock.now_ticks(), move |c| {
                let mut audit = audit;
                let out = f(c, &mut audit)?;
                record(c, tenant, clock.now_ticks(), caller, audit)?;
                Ok(out)
            })
            .await
    }
}

/// A background outcome of its own (no state change to share a transaction with), e.g. a sync
/// that failed: one event with the gateway as actor.
pub async fn record_outcome(
    svc: &Services,
    tenant: TenantId,
    audit: Audit,
) -> Result<(), ServiceError> {
    svc.audited(tenant, audit, |_, _| Ok::<_, ServiceError>(()))
        .await
}
