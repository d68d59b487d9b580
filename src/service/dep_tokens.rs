//! What a setting does with its DEP token: the encryption key pair an admin uploads to Apple
//! Business Manager ([`keys`]), the server-token upload, the Apple session credentials of a held
//! token, releasing devices, and sharing with School Data Sync. (Named for the tokens, not
//! `apple`: `crate::apple` is the protocol client this module calls.)

mod keys;
mod params;

pub use keys::{current_key, generate_key, stage_key_of};
pub use params::{Release, Upload, parse_release, parse_upload};

use std::sync::Arc;

use super::audit::{Audit, DEVICE, SETTING, modified};
use super::{Entity, ServiceError, Services};
use crate::apple::client::ClientOptions;
use crate::apple::error::AppleError;
use crate::apple::token_file::ServerTokenCredentials;
use crate::domain::ValidationError;
use crate::domain::devices::ImportedAppleDeviceIdentity;
use crate::domain::ids::{SettingId, TenantId};
use crate::domain::onboarding::DepTokenType;
use crate::domain::time::to_ticks;
use crate::storage::apple_tokens::{self as repo, CURRENT, HeldToken, KeyPair, STAGED};
use crate::storage::{DbConnection, onboarding_settings};

fn setting_not_found(id: &(impl AsRef<str> + ?Sized)) -> ServiceError {
    ServiceError::not_found(Entity::OnboardingSetting, id.as_ref())
}

/// Why a server token cannot go to the setting it was uploaded to. The old API's upload tries
/// the tenant's settings one after another and decides by these; the client's sentences are
/// written where errors become responses (`http::error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefused {
    /// The setting has no key pair yet (`generateEncryptionPublicKey` was never called).
    #[error("the setting has no encryption key yet")]
    NoKeyYet,
    /// None of the setting's keys decrypts the token: it was made for another certificate.
    #[error("the server token is not encrypted to the setting's key")]
    WrongKey,
    /// The setting holds another Apple MDM server's token; a renewal must be the same server.
    #[error("the setting holds Apple MDM server {held_uuid}, not {uploaded_uuid}")]
    OtherServer {
        /// Name of the server the setting holds (empty if Apple gave none).
        held_name: String,
        /// Apple's id of the server the setting holds.
        held_uuid: String,
        /// Apple's id of the server the uploaded token is for.
        uploaded_uuid: String,
    },
    /// Another setting of the tenant holds this Apple MDM server.
    #[error("depOnboardingSetting {setting} holds this Apple MDM server")]
    HeldBySetting {
        /// The setting that holds it.
        setting: String,
    },
    /// Another tenant holds this Apple MDM server.
    #[error("another tenant holds this Apple MDM server")]
    HeldByOtherTenant,
}

fn ensure_setting(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<(), ServiceError> {
    if onboarding_settings::exists(c, tenant, setting)? {
        Ok(())
    } else {
        Err(setting_not_found(setting))
    }
}

fn credentials_context(tenant: TenantId, setting: &SettingId) -> String {
    format!("{tenant}/{setting}/credentials")
}

/// What Apple said about a token it would not accept.
fn apple_refused(e: &AppleError) -> ServiceError {
    match e {
        AppleError::Unauthorized | AppleError::TokenExpired => {
            ValidationError::new(format!("Apple refused the server token ({e}); download a new one.")).into()
        }
        AppleError::TermsNotSigned => ValidationError::new(
            "Apple requires the latest terms and conditions to be accepted in Apple Business Manager first.",
        )
        .into(),
        other => ServiceError::Upstream(other.to_string()),
    }
}

/// `uploadDepToken`: decrypts the token with the setting's key, checks it with Apple, and makes
/// the setting hold it. Renewal must be the same Apple MDM server; one Apple MDM server is held
/// by one setting of one tenant.
pub async fn upload(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    upload: Upload,
) -> Result<(), ServiceError> {
    let pairs = keys::key_pairs(svc, tenant, setting).await?;
    let (creds, slot) = keys::decrypt(svc, tenant, setting, &pairs, &upload.dep_token)?;
    let client = svc.apple.connect(creds.clone(), ClientOptions::default());
    let account = client.account().await.map_err(|e| apple_refused(&e))?;
    let sealed = svc.secrets.seal(
        &credentials_context(tenant, setting),
        &serde_json::to_vec(&creds).unwrap_or_default(),
    );
    let held = HeldToken {
        setting_id: setting.to_string(),
        server_uuid: account.server_uuid.clone(),
        server_name: Some(account.server_name.clone()),
        credentials: sealed,
        access_token_expiry: to_ticks(creds.access_token_expiry),
    };
    let token_type = match account.org_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("edu") || t.eq_ignore_ascii_case("education") => {
            DepTokenType::AppleSchoolManager
        }
        _ => DepTokenType::Dep,
    };
    let staged = pairs.into_iter().find(|p| p.slot == slot && slot == STAGED);
    let key = setting.clone();
    let apple_id = upload.apple_id;
    let secrets = svc.secrets.clone();
    let clock = Arc::clone(&svc.clock);
    svc.audited(tenant, Audit::new("Action", SETTING), move |c, audit| {
        let now = clock.now_ticks();
        check_holder(c, tenant, &key, &held.server_uuid)?;
        if let Some(pair) = staged {
            // The staged key decrypted the token: it becomes current.
            let private = secrets
                .open(&keys::key_context(tenant, &key, STAGED), &pair.private_key)
                .unwrap_or_default();
            let current = KeyPair {
                slot: CURRENT.to_owned(),
                private_key: secrets.seal(&keys::key_context(tenant, &key, CURRENT), &private),
                certificate: pair.certificate,
            };
            repo::put_key_pair(c, tenant, &key, &current, now)?;
            repo::delete_key_pair(c, tenant, &key, STAGED)?;
        }
        repo::put_held(c, tenant, &held, now)?;
        let mut setting =
            onboarding_settings::get(c, tenant, &key)?.ok_or_else(|| setting_not_found(&key))?;
        let old = setting.clone();
        setting.apple_identifier = Some(apple_id);
        setting.token_expiration_date_time = held.access_token_expiry;
        setting.token_type = token_type;
        if setting.token_name.is_none() {
            setting.token_name.clone_from(&held.server_name);
        }
        setting.last_modified_date_time = now;
        onboarding_settings::update(c, tenant, &setting)?;
        let name = setting.token_name.as_deref();
        audit.resource(key.as_str(), name, modified(Some(&old), Some(&setting)));
        // Assignments recorded while the setting had no server token can now reach Apple.
        crate::storage::profile_push::requeue_status(
            c,
            tenant,
            &key,
            crate::storage::profile_push::NO_SERVER_TOKEN,
            now,
        )?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    super::profile_push::kick(svc, tenant, setting);
    Ok(())
}

/// The setting may hold the token of `server_uuid`: nobody else holds it, and a renewal is the
/// same Apple MDM server as before.
fn check_holder(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    server_uuid: &str,
) -> Result<(), ServiceError> {
    if let Some(current) = repo::held(c, tenant, setting)?
        && current.server_uuid != server_uuid
    {
        return Err(UploadRefused::OtherServer {
            held_name: current.server_name.unwrap_or_default(),
            held_uuid: current.server_uuid,
            uploaded_uuid: server_uuid.to_owned(),
        }
        .into());
    }
    match repo::holder_of(c, tenant, server_uuid)? {
        Some(Ok(other)) if other != setting.as_str() => {
            Err(UploadRefused::HeldBySetting { setting: other }.into())
        }
        Some(Err(())) => Err(UploadRefused::HeldByOtherTenant.into()),
        _ => Ok(()),
    }
}

/// The OAuth credentials a setting holds, decrypted, if it holds a token.
pub fn credentials(
    svc: &Services,
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<Option<(ServerTokenCredentials, HeldToken)>, ServiceError> {
    let Some(held) = repo::held(c, tenant, setting)? else {
        return Ok(None);
    };
    let plain = svc
        .secrets
        .open(&credentials_context(tenant, setting), &held.credentials)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    let creds =
        serde_json::from_slice(&plain).map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    Ok(Some((creds, held)))
}

/// Whether a token is shared with School Data Sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// `shareForSchoolDataSyncService`.
    Shared,
    /// `unshareForSchoolDataSyncService`.
    Unshared,
}

/// `shareForSchoolDataSyncService` / `unshareForSchoolDataSyncService`.
pub async fn share_with_school_data_sync(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    share: Sharing,
) -> Result<(), ServiceError> {
    let key = setting.to_owned();
    let clock = Arc::clone(&svc.clock);
    svc.audited(tenant, Audit::new("Action", SETTING), move |c, audit| {
        let mut s =
            onboarding_settings::get(c, tenant, &key)?.ok_or_else(|| setting_not_found(&key))?;
        let old = s.clone();
        s.share_token_with_school_data_sync_service = share == Sharing::Shared;
        s.last_modified_date_time = clock.now_ticks();
        onboarding_settings::update(c, tenant, &s)?;
        audit.resource(
            key.as_str(),
            s.token_name.as_deref(),
            modified(Some(&old), Some(&s)),
        );
        Ok(())
    })
    .await
}

/// `releaseAppleDevices`: disowns the devices at Apple (irreversible there) and marks the
/// token's identities of the released serials `isDeleted`. Every serial must be an identity of
/// this token, else nothing is sent to Apple; serials Apple did not release are named in a 502.
pub async fn release(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    release: Release,
) -> Result<(), ServiceError> {
    let key = setting.clone();
    let serials = release.serials.clone();
    let svc_for_creds = svc.clone();
    let creds = svc
        .db
        .run(move |c| -> Result<ServerTokenCredentials, ServiceError> {
            ensure_setting(c, tenant, &key)?;
            let unknown = super::devices::serials_not_held(c, tenant, &key, &serials)?;
            if !unknown.is_empty() {
                return Err(ValidationError::new(format!(
                    "These serial numbers are not device identities of this token: {}.",
                    unknown.join(", ")
                ))
                .into());
            }
            credentials(&svc_for_creds, c, tenant, &key)?
                .map(|(creds, _)| creds)
                .ok_or_else(|| {
                    ValidationError::new(
                        "This setting holds no server token yet: call uploadDepToken first.",
                    )
                    .into()
                })
        })
        .await?;
    let client = svc.apple.connect(creds, ClientOptions::default());
    let results = client
        .disown(&release.serials)
        .await
        .map_err(|e| apple_refused(&e))?;
    let (released, failed): (Vec<String>, Vec<String>) =
        release.serials.into_iter().partition(|s| {
            crate::apple::types::serial_status(&results, s)
                == crate::apple::types::DeviceStatus::Success
        });
    let key = setting.to_owned();
    let marked = released.clone();
    svc.audited(tenant, Audit::new("Action", DEVICE), move |c, audit| {
        let old: Vec<_> = crate::storage::devices::find_by_serials(c, tenant, &marked)?
            .into_iter()
            .filter(|(s, _)| *s == key)
            .map(|(_, d)| d)
            .collect();
        let ids: Vec<String> = old.iter().map(|d| d.id.clone()).collect();
        crate::storage::devices::mark_deleted(c, tenant, &key, &ids)?;
        for d in old {
            let new = ImportedAppleDeviceIdentity {
                is_deleted: Some(true),
                ..d.clone()
            };
            audit.resource(
                &d.id,
                Some(&d.serial_number),
                modified(Some(&d), Some(&new)),
            );
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Upstream(format!(
            "Apple did not release: {}.",
            failed.join(", ")
        )))
    }
}
