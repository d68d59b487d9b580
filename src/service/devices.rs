//! Use cases of a token's imported Apple device identities: CRUD, bulk import and recording a
//! requested profile assignment.

mod bulk_import;

pub use bulk_import::{ImportRequest, import, parse_import};

use std::collections::HashSet;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::{Audit, DEVICE, modified};
use super::paging::{self, ListPlan, Page};
use super::{Entity, ServiceError, Services};
use crate::domain::ValidationError;
use crate::domain::devices::{DiscoverySource, ImportedAppleDeviceIdentity};
use crate::domain::ids::Serial;
use crate::domain::ids::{IdentityId, ProfileId, SettingId, TenantId};
use crate::domain::values::Write;
use crate::odata::QueryOptions;
use crate::storage::devices::{self as repo, SPEC};
use crate::storage::{DbConnection, onboarding_settings, profiles};

/// Most identities one `importAppleDeviceIdentityList` call may carry.
pub const MAX_IMPORT: usize = 20_000;
/// Most serial numbers one `updateDeviceProfileAssignment` call may carry.
pub const MAX_ASSIGN: usize = 10_000;

const ENTITY: Entity = Entity::DeviceIdentity;

fn not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::NotFound {
        entity: ENTITY,
        id: id.as_ref().to_owned(),
    }
}

fn ensure_setting(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<(), ServiceError> {
    if onboarding_settings::exists(c, tenant, setting)? {
        Ok(())
    } else {
        Err(ServiceError::NotFound {
            entity: Entity::OnboardingSetting,
            id: setting.to_string(),
        })
    }
}

/// One page of a token's identities (`$search` matches serial numbers).
pub async fn list(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    q: &QueryOptions,
) -> Result<Page<ImportedAppleDeviceIdentity>, ServiceError> {
    let set = format!("depOnboardingSettings/{setting}/importedAppleDeviceIdentities");
    let ListPlan { query, pager } = paging::plan_searchable(
        &SPEC,
        &set,
        q,
        &svc.paging_key,
        svc.max_page_size,
        &["serialNumber"],
    )?;
    let want_count = q.count;
    let key = setting.clone();
    let (items, count) = svc
        .db
        .run(move |c| {
            ensure_setting(c, tenant, &key)?;
            let items = repo::list(c, tenant, &key, &query)?;
            let count = if want_count {
                Some(repo::count(c, tenant, &key, query.filter.as_ref())?)
            } else {
                None
            };
            Ok::<_, ServiceError>((items, count))
        })
        .await?;
    Ok(pager.finish(items, &svc.paging_key, count))
}

/// How many of a token's identities match `$filter`/`$search`.
pub async fn count(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    q: &QueryOptions,
) -> Result<i64, ServiceError> {
    let filter = paging::count_filter(&SPEC, q, &["serialNumber"])?;
    let key = setting.to_owned();
    svc.db
        .run(move |c| {
            ensure_setting(c, tenant, &key)?;
            Ok(repo::count(c, tenant, &key, filter.as_ref())?)
        })
        .await
}

/// One identity.
pub async fn get(
    svc: &Services,
    tenant: TenantId,
    setting: SettingId,
    id: IdentityId,
) -> Result<ImportedAppleDeviceIdentity, ServiceError> {
    let cache_key = format!("{}/{}", setting.as_str(), id.as_ref());
    let missing = id.clone();
    svc.db
        .read_cached(
            tenant,
            "importedAppleDeviceIdentity",
            &cache_key,
            move |c| {
                ensure_setting(c, tenant, &setting)?;
                Ok::<_, ServiceError>(repo::get(c, tenant, &setting, &id)?)
            },
        )
        .await?
        .ok_or_else(|| not_found(&missing))
}

/// Normalises `requestedEnrollmentProfileId` to the bare GUID of a profile of this token.
// GRAPH-COMPAT: real filters compare requestedEnrollmentProfileId with the GUID part of the
// profile id (graph-dep-api.md §4), so that is what is stored; `{token}_{guid}` is accepted.
fn check_requested_profile(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    d: &mut ImportedAppleDeviceIdentity,
) -> Result<(), ServiceError> {
    let Some(requested) = d.requested_enrollment_profile_id.clone() else {
        return Ok(());
    };
    let guid = requested
        .strip_prefix(&format!("{setting}_"))
        .unwrap_or(&requested)
        .to_owned();
    if profiles::get(c, tenant, setting, &ProfileId::new(setting, &guid))?.is_none() {
        return Err(ValidationError::new(format!(
            "requestedEnrollmentProfileId '{requested}' does not name an enrollment profile of this token."
        ))
        .into());
    }
    d.requested_enrollment_profile_id = Some(guid);
    Ok(())
}

/// Creates one identity (`discoverySource: adminImport`); its serial must be new to the tenant.
pub async fn create(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    body: Map<String, Value>,
) -> Result<ImportedAppleDeviceIdentity, ServiceError> {
    let mut device = new_identity(&body, svc.clock.now_ticks())?;
    let key = setting.to_owned();
    svc.audited(tenant, Audit::new("Create", DEVICE), move |c, audit| {
        ensure_setting(c, tenant, &key)?;
        check_requested_profile(c, tenant, &key, &mut device)?;
        if let Some((other, _)) =
            repo::find_by_serials(c, tenant, std::slice::from_ref(&device.serial_number))?.first()
        {
            return Err(ServiceError::Conflict(format!(
                "The serial number '{}' is already an imported identity of token '{other}'.",
                device.serial_number
            )));
        }
        repo::insert_many(c, tenant, &key, std::slice::from_ref(&device))?;
        audit_device(audit, None, Some(&device));
        Ok(device)
    })
    .await
}

fn new_identity(
    body: &Map<String, Value>,
    now: i64,
) -> Result<ImportedAppleDeviceIdentity, ValidationError> {
    let mut device =
        ImportedAppleDeviceIdentity::new(Uuid::new_v4().to_string(), String::new(), now);
    device.apply(body, Write::Create)?;
    device.discovery_source = DiscoverySource::AdminImport;
    Ok(device)
}

/// Applies a PATCH body to an identity.
pub async fn update(
    svc: &Services,
    tenant: TenantId,
    setting: SettingId,
    id: IdentityId,
    body: Map<String, Value>,
) -> Result<(), ServiceError> {
    let now = svc.clock.now_ticks();
    svc.audited(tenant, Audit::new("Patch", DEVICE), move |c, audit| {
        ensure_setting(c, tenant, &setting)?;
        let mut device = repo::get(c, tenant, &setting, &id)?.ok_or_else(|| not_found(&id))?;
        let old = device.clone();
        let before = device.requested_enrollment_profile_id.clone();
        device.apply(&body, Write::Update)?;
        if device.requested_enrollment_profile_id != before {
            check_requested_profile(c, tenant, &setting, &mut device)?;
            let requested = device.requested_enrollment_profile_id.clone();
            device.assign_profile(requested, now);
        }
        repo::update(c, tenant, &setting, &device)?;
        audit_device(audit, Some(&old), Some(&device));
        Ok(())
    })
    .await
}

/// Adds an identity to the event with what changed (`None`: created or deleted).
fn audit_device(
    audit: &mut Audit,
    old: Option<&ImportedAppleDeviceIdentity>,
    new: Option<&ImportedAppleDeviceIdentity>,
) {
    if let Some(d) = new.or(old) {
        audit.resource(&d.id, Some(&d.serial_number), modified(old, new));
    }
}

/// Deletes an identity.
pub async fn delete(
    svc: &Services,
    tenant: TenantId,
    setting: SettingId,
    id: IdentityId,
) -> Result<(), ServiceError> {
    svc.audited(tenant, Audit::new("Delete", DEVICE), move |c, audit| {
        ensure_setting(c, tenant, &setting)?;
        let old = repo::get(c, tenant, &setting, &id)?;
        if repo::delete(c, tenant, &setting, &id)? {
            audit_device(audit, old.as_ref(), None);
            Ok(())
        } else {
            Err(not_found(&id))
        }
    })
    .await
}

/// The `deviceIds` parameter of `updateDeviceProfileAssignment`: serial numbers, normalised.
pub fn device_ids(body: &Map<String, Value>) -> Result<Vec<String>, ValidationError> {
    if let Some(other) = body.keys().find(|k| *k != "deviceIds" && !k.contains('@')) {
        return Err(ValidationError::new(format!(
            "'{other}' is not a parameter of updateDeviceProfileAssignment."
        )));
    }
    // GRAPH-COMPAT: a bare string instead of an array failed against Graph (Microsoft fixed
    // its sample in 2017); it is a 400 here too.
    let Some(Value::Array(ids)) = body.get("deviceIds") else {
        return Err(ValidationError::new(
            "The parameter 'deviceIds' is required and must be an array of serial numbers.",
        ));
    };
    if ids.is_empty() || ids.len() > MAX_ASSIGN {
        return Err(ValidationError::new(format!(
            "'deviceIds' must hold between 1 and {MAX_ASSIGN} serial numbers."
        )));
    }
    ids.iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ValidationError::wrong_type("deviceIds", "Edm.String", v))
                .and_then(|s| Serial::parse(s).map(String::from))
        })
        .collect()
}

/// `updateDeviceProfileAssignment`: records the requested profile and the assignment time on the
/// token's identities with these serials and queues the assignment at Apple. Any serial the token does not hold fails the whole
/// call, naming them: nothing is silently dropped.
pub async fn assign_profile(
    svc: &Services,
    tenant: TenantId,
    setting: SettingId,
    profile_id: ProfileId,
    serials: Vec<String>,
) -> Result<(), ServiceError> {
    super::profile_push::enrollment_url(svc)?;
    let (now, key) = (svc.clock.now_ticks(), setting.clone());
    svc.audited(tenant, Audit::new("Action", DEVICE), move |c, audit| {
        ensure_setting(c, tenant, &key)?;
        if profiles::get(c, tenant, &key, &profile_id)?.is_none() {
            return Err(ServiceError::NotFound {
                entity: Entity::EnrollmentProfile,
                id: profile_id.to_string(),
            });
        }
        let unknown = serials_not_held(c, tenant, &key, &serials)?;
        if !unknown.is_empty() {
            return Err(ValidationError::new(format!(
                "These serial numbers are not imported device identities of this token: {}.",
                unknown.join(", ")
            ))
            .into());
        }
        let guid = profile_id.guid();
        let old = repo::find_by_serials(c, tenant, &serials)?;
        repo::assign_profile(c, tenant, &key, &serials, guid, now)?;
        for (_, device) in old {
            let mut new = device.clone();
            new.assign_profile(Some(guid.to_owned()), now);
            audit_device(audit, Some(&device), Some(&new));
        }
        super::profile_push::enqueue_in(c, tenant, &key, &serials, &profile_id, now)?;
        Ok(())
    })
    .await?;
    // The assignment is recorded and queued: Apple gets it in the background (see
    // `profile_push` for why), and the caller gets its 204 now.
    super::profile_push::kick(svc, tenant, &setting);
    Ok(())
}

/// The serials among `serials` that are not device identities of `setting`.
pub(crate) fn serials_not_held<'a>(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    serials: &'a [String],
) -> diesel::QueryResult<Vec<&'a str>> {
    let held: HashSet<String> = repo::find_by_serials(c, tenant, serials)?
        .into_iter()
        .filter(|(s, _)| s == setting)
        .map(|(_, d)| d.serial_number)
        .collect();
    Ok(serials
        .iter()
        .filter(|s| !held.contains(*s))
        .map(String::as_str)
        .collect())
}
