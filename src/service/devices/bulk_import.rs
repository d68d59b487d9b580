//! `importAppleDeviceIdentityList`: validating the body and importing it in one transaction.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{MAX_IMPORT, check_requested_profile, ensure_setting, new_identity};
use crate::domain::ValidationError;
use crate::domain::devices::{
    DevicePlatform, ImportedAppleDeviceIdentity, ImportedAppleDeviceIdentityResult,
};
use crate::domain::ids::{SettingId, TenantId};
use crate::service::audit::{Audit, DEVICE, modified};
use crate::service::sync::new_id;
use crate::service::{ServiceError, Services};
use crate::storage::devices as repo;

/// A parsed `importAppleDeviceIdentityList` body.
pub struct ImportRequest {
    /// The identities, validated and normalised, in request order.
    pub identities: Vec<ImportedAppleDeviceIdentity>,
    /// Replace identities the tenant already holds.
    pub overwrite: bool,
}

/// Validates an `importAppleDeviceIdentityList` body: any malformed item fails the whole call.
/// New identities are dated `now` (the services' clock).
pub fn parse_import(body: &Map<String, Value>, now: i64) -> Result<ImportRequest, ValidationError> {
    let mut overwrite = false;
    let mut items = None;
    for (name, value) in body {
        match name.as_str() {
            "importedAppleDeviceIdentities" => items = Some(value),
            "overwriteImportedDeviceIdentities" => {
                overwrite = value
                    .as_bool()
                    .ok_or_else(|| ValidationError::wrong_type(name, "Edm.Boolean", value))?;
            }
            _ if name.contains('@') => {}
            _ => {
                return Err(ValidationError::new(format!(
                    "'{name}' is not a parameter of importAppleDeviceIdentityList."
                )));
            }
        }
    }
    let Some(Value::Array(items)) = items else {
        return Err(ValidationError::new(
            "The parameter 'importedAppleDeviceIdentities' is required and must be an array of importedAppleDeviceIdentity.",
        ));
    };
    if items.len() > MAX_IMPORT {
        return Err(ValidationError::new(format!(
            "An import may carry at most {MAX_IMPORT} identities; this one carries {}. Split it.",
            items.len()
        )));
    }
    let identities = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let object = item.as_object().ok_or_else(|| {
                ValidationError::new(format!(
                    "importedAppleDeviceIdentities[{i}] is not an object."
                ))
            })?;
            let mut identity = new_identity(object, now).map_err(|e| {
                ValidationError::new(format!("importedAppleDeviceIdentities[{i}]: {}", e.message))
            })?;
            // Time-ordered ids, as a sync's: the import's rows append to the indexes.
            identity.id = new_id(now, i);
            Ok(identity)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ImportRequest {
        identities,
        overwrite,
    })
}

/// `importAppleDeviceIdentityList`: one transaction. A serial already held by the tenant is
/// replaced (and moved to this token) only with `overwrite`; a serial repeated in the request is
/// imported once. Each item's result says whether it was imported.
pub async fn import(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    request: ImportRequest,
) -> Result<Vec<ImportedAppleDeviceIdentityResult>, ServiceError> {
    let key = setting.to_owned();
    svc.audited(tenant, Audit::new("Action", DEVICE), move |c, audit| {
        ensure_setting(c, tenant, &key)?;
        let serials: Vec<String> = request
            .identities
            .iter()
            .map(|d| d.serial_number.clone())
            .collect();
        let existing: HashMap<String, ImportedAppleDeviceIdentity> =
            repo::find_by_serials(c, tenant, &serials)?
                .into_iter()
                .map(|(_, d)| (d.serial_number.clone(), d))
                .collect();
        let mut seen = HashSet::new();
        let mut checked_profiles: HashMap<String, Option<String>> = HashMap::new();
        let (mut fresh, mut results) = (Vec::new(), Vec::new());
        for mut device in request.identities {
            if let Some(requested) = device.requested_enrollment_profile_id.clone() {
                if let Some(guid) = checked_profiles.get(&requested) {
                    device.requested_enrollment_profile_id.clone_from(guid);
                } else {
                    check_requested_profile(c, tenant, &key, &mut device)?;
                    checked_profiles
                        .insert(requested, device.requested_enrollment_profile_id.clone());
                }
            }
            let first = seen.insert(device.serial_number.clone());
            let status = match existing.get(&device.serial_number) {
                _ if !first => false,
                Some(stored) if request.overwrite => {
                    device.id.clone_from(&stored.id);
                    device.created_date_time = stored.created_date_time;
                    // An import rarely knows the platform; what Apple's sync recorded stays.
                    if device.platform == DevicePlatform::Unknown {
                        device.platform = stored.platform;
                    }
                    repo::update(c, tenant, &key, &device)?;
                    true
                }
                Some(stored) => {
                    // Not imported: the result describes the record the tenant holds (its
                    // id, its platform as synced from Apple), not the refused item.
                    device = stored.clone();
                    false
                }
                None => {
                    fresh.push(device.clone());
                    true
                }
            };
            if status {
                let old = existing.get(&device.serial_number);
                audit.resource(
                    &device.id,
                    Some(&device.serial_number),
                    modified(old, Some(&device)),
                );
            }
            results.push(ImportedAppleDeviceIdentityResult {
                identity: device,
                status,
            });
        }
        repo::insert_many(c, tenant, &key, &fresh)?;
        Ok(results)
    })
    .await
}
