//! Onboarding actions that involve Apple: the encryption key pair an admin uploads to Apple
//! Business Manager, the server-token upload, and sharing with School Data Sync.

use chrono::Utc;
use serde_json::{Map, Value};

use super::{ServiceError, Services};
use crate::apple::client::ClientOptions;
use crate::apple::error::AppleError;
use crate::apple::token_file::{self, ServerTokenCredentials, TokenFileError};
use crate::domain::ValidationError;
use crate::domain::ids::TenantId;
use crate::domain::onboarding::DepTokenType;
use crate::domain::time::{now_ticks, to_ticks};
use crate::storage::apple_tokens::{self as repo, CURRENT, HeldToken, KeyPair, STAGED};
use crate::storage::{DbConnection, onboarding_settings};

fn setting_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        entity: "depOnboardingSetting",
        id: id.to_owned(),
    }
}

fn ensure_setting(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &str,
) -> Result<(), ServiceError> {
    if onboarding_settings::exists(c, tenant, setting)? {
        Ok(())
    } else {
        Err(setting_not_found(setting))
    }
}

fn key_context(tenant: TenantId, setting: &str, slot: &str) -> String {
    format!("{tenant}/{setting}/key/{slot}")
}

fn credentials_context(tenant: TenantId, setting: &str) -> String {
    format!("{tenant}/{setting}/credentials")
}

/// `generateEncryptionPublicKey`: a new RSA key pair for the setting, staged until a server
/// token decrypts with it; returns its PEM certificate.
pub async fn generate_key(
    svc: &Services,
    tenant: TenantId,
    setting: &str,
) -> Result<String, ServiceError> {
    let (key_pem, cert_pem) =
        token_file::generate_key_and_certificate(&format!("dep-gateway {setting}"))
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
    let pair = KeyPair {
        slot: STAGED.to_owned(),
        private_key: svc
            .secrets
            .seal(&key_context(tenant, setting, STAGED), key_pem.as_bytes()),
        certificate: cert_pem.clone(),
    };
    let key = setting.to_owned();
    svc.db
        .write(tenant, move |c| {
            ensure_setting(c, tenant, &key)?;
            repo::put_key_pair(c, tenant, &key, &pair, now_ticks())?;
            Ok::<_, ServiceError>(())
        })
        .await?;
    Ok(cert_pem)
}

/// Stages a copy of setting `from`'s key pair (its current one, else its staged one) as the
/// staged key of setting `to`, so that a server token encrypted to `from`'s certificate can be
/// uploaded to `to` (one certificate may be registered with several Apple MDM servers).
pub async fn stage_key_of(
    svc: &Services,
    tenant: TenantId,
    from: &str,
    to: &str,
) -> Result<(), ServiceError> {
    let (from, to) = (from.to_owned(), to.to_owned());
    let secrets = svc.secrets.clone();
    svc.db
        .write(tenant, move |c| {
            ensure_setting(c, tenant, &to)?;
            let pairs = repo::key_pairs(c, tenant, &from)?;
            let pair = pairs
                .iter()
                .find(|p| p.slot == CURRENT)
                .or_else(|| pairs.iter().find(|p| p.slot == STAGED))
                .ok_or_else(|| setting_not_found(&from))?;
            let private = secrets
                .open(&key_context(tenant, &from, &pair.slot), &pair.private_key)
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
            let staged = KeyPair {
                slot: STAGED.to_owned(),
                private_key: secrets.seal(&key_context(tenant, &to, STAGED), &private),
                certificate: pair.certificate.clone(),
            };
            repo::put_key_pair(c, tenant, &to, &staged, now_ticks())?;
            Ok(())
        })
        .await
}

/// `getEncryptionPublicKey()`: the certificate of the current key pair, else of the staged one;
/// a setting without any gets one generated (the old "download the public key" first step).
pub async fn get_key(
    svc: &Services,
    tenant: TenantId,
    setting: &str,
) -> Result<String, ServiceError> {
    let key = setting.to_owned();
    let pairs = svc
        .db
        .run(move |c| {
            ensure_setting(c, tenant, &key)?;
            Ok::<_, ServiceError>(repo::key_pairs(c, tenant, &key)?)
        })
        .await?;
    let pick = |slot: &str| {
        pairs
            .iter()
            .find(|p| p.slot == slot)
            .map(|p| p.certificate.clone())
    };
    match pick(CURRENT).or_else(|| pick(STAGED)) {
        Some(cert) => Ok(cert),
        None => generate_key(svc, tenant, setting).await,
    }
}

/// The parameters of `uploadDepToken`.
pub struct Upload {
    /// Apple ID (Managed Apple ID) the token was downloaded with.
    pub apple_id: String,
    /// The `.p7m` file's content.
    pub dep_token: String,
}

/// Validates an `uploadDepToken` body.
pub fn parse_upload(body: &Map<String, Value>) -> Result<Upload, ValidationError> {
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "appleId" | "depToken") && !k.contains('@'))
    {
        return Err(ValidationError::new(format!(
            "'{other}' is not a parameter of uploadDepToken."
        )));
    }
    let text = |name: &str, max: usize| match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(ValidationError::new(format!(
            "The parameter '{name}' is empty or longer than {max} characters."
        ))),
        Some(other) => Err(ValidationError::wrong_type(name, "Edm.String", other)),
        None => Err(ValidationError::new(format!(
            "The parameter '{name}' is required."
        ))),
    };
    Ok(Upload {
        apple_id: text("appleId", 256)?,
        dep_token: text("depToken", 64 * 1024)?,
    })
}

fn token_error(e: &TokenFileError) -> ServiceError {
    let message = match e {
        TokenFileError::WrongKey => "The server token was not encrypted to this setting's public key: download the \
            certificate from getEncryptionPublicKey, upload it to Apple Business Manager, and download a new token."
            .to_owned(),
        TokenFileError::Expired(at) => format!("The server token expired on {at}; download a new one from Apple Business Manager."),
        other => format!("The server token could not be read: {other}."),
    };
    ValidationError::new(message).into()
}

/// Decrypts with the staged key first (a renewal made for a new key), then the current one.
fn decrypt(
    svc: &Services,
    tenant: TenantId,
    setting: &str,
    pairs: &[KeyPair],
    p7m: &str,
) -> Result<(ServerTokenCredentials, String), ServiceError> {
    if pairs.is_empty() {
        return Err(ValidationError::new(
            "This setting has no encryption key yet: call generateEncryptionPublicKey first.",
        )
        .into());
    }
    let mut last = TokenFileError::WrongKey;
    for slot in [STAGED, CURRENT] {
        let Some(pair) = pairs.iter().find(|p| p.slot == slot) else {
            continue;
        };
        let key = svc
            .secrets
            .open(&key_context(tenant, setting, slot), &pair.private_key)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?;
        let key = String::from_utf8_lossy(&key).into_owned();
        match token_file::read_server_token_p7m(p7m, &key, &pair.certificate) {
            Ok(creds) => {
                token_file::check_not_expired(&creds, Utc::now()).map_err(|e| token_error(&e))?;
                return Ok((creds, slot.to_owned()));
            }
            Err(TokenFileError::WrongKey) => {}
            Err(e) => last = e,
        }
    }
    Err(token_error(&last))
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
    setting: &str,
    upload: Upload,
) -> Result<(), ServiceError> {
    let key = setting.to_owned();
    let pairs = svc
        .db
        .run(move |c| {
            ensure_setting(c, tenant, &key)?;
            Ok::<_, ServiceError>(repo::key_pairs(c, tenant, &key)?)
        })
        .await?;
    let (creds, slot) = decrypt(svc, tenant, setting, &pairs, &upload.dep_token)?;
    let client = svc.apple.connect(creds.clone(), ClientOptions::default());
    let account = client.account().await.map_err(|e| apple_refused(&e))?;
    let sealed = svc.secrets.seal(
        &credentials_context(tenant, setting),
        &serde_json::to_vec(&creds).unwrap_or_default(),
    );
    let held = HeldToken {
        setting_id: setting.to_owned(),
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
    let (key, apple_id) = (setting.to_owned(), upload.apple_id);
    let secrets = svc.secrets.clone();
    svc.db
        .write(tenant, move |c| {
            check_holder(c, tenant, &key, &held.server_uuid)?;
            if let Some(pair) = staged {
                // The staged key decrypted the token: it becomes current.
                let private = secrets
                    .open(&key_context(tenant, &key, STAGED), &pair.private_key)
                    .unwrap_or_default();
                let current = KeyPair {
                    slot: CURRENT.to_owned(),
                    private_key: secrets.seal(&key_context(tenant, &key, CURRENT), &private),
                    certificate: pair.certificate,
                };
                repo::put_key_pair(c, tenant, &key, &current, now_ticks())?;
                repo::delete_key_pair(c, tenant, &key, STAGED)?;
            }
            repo::put_held(c, tenant, &held, now_ticks())?;
            let mut setting = onboarding_settings::get(c, tenant, &key)?
                .ok_or_else(|| setting_not_found(&key))?;
            setting.apple_identifier = Some(apple_id);
            setting.token_expiration_date_time = held.access_token_expiry;
            setting.token_type = token_type;
            if setting.token_name.is_none() {
                setting.token_name.clone_from(&held.server_name);
            }
            setting.last_modified_date_time = now_ticks();
            onboarding_settings::update(c, tenant, &setting)?;
            // Assignments recorded while the setting had no server token can now reach Apple.
            crate::storage::profile_push::requeue_status(
                c,
                tenant,
                &key,
                crate::storage::profile_push::NO_SERVER_TOKEN,
                now_ticks(),
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
    setting: &str,
    server_uuid: &str,
) -> Result<(), ServiceError> {
    if let Some(current) = repo::held(c, tenant, setting)?
        && current.server_uuid != server_uuid
    {
        return Err(ValidationError::new(format!(
            "This setting holds the token of Apple MDM server '{}' ({}); a renewal must come from the same \
             server, not '{server_uuid}'. Create a new depOnboardingSetting for another server.",
            current.server_name.unwrap_or_default(),
            current.server_uuid
        ))
        .into());
    }
    match repo::holder_of(c, tenant, server_uuid)? {
        Some(Ok(other)) if other != setting => Err(ServiceError::Conflict(format!(
            "This Apple MDM server's token is already held by depOnboardingSetting '{other}' of this tenant; renew it there."
        ))),
        Some(Err(())) => Err(ValidationError::new(
            "This Apple MDM server is already connected to another tenant; a server token can serve one tenant only.",
        )
        .into()),
        _ => Ok(()),
    }
}

/// The OAuth credentials a setting holds, decrypted, if it holds a token.
pub fn credentials(
    svc: &Services,
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &str,
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

/// `shareForSchoolDataSyncService` / `unshareForSchoolDataSyncService`.
pub async fn share_with_school_data_sync(
    svc: &Services,
    tenant: TenantId,
    setting: &str,
    share: bool,
) -> Result<(), ServiceError> {
    let key = setting.to_owned();
    svc.db
        .write(tenant, move |c| {
            let mut s = onboarding_settings::get(c, tenant, &key)?
                .ok_or_else(|| setting_not_found(&key))?;
            s.share_token_with_school_data_sync_service = share;
            s.last_modified_date_time = now_ticks();
            onboarding_settings::update(c, tenant, &s)?;
            Ok(())
        })
        .await
}

/// The parameters of `releaseAppleDevices`.
pub struct Release {
    /// Serial numbers to release, normalised.
    pub serials: Vec<String>,
}

/// Validates a `releaseAppleDevices` body: `depToken` (a non-empty string; Graph documents it
/// without saying what it must hold, so only its presence is checked) and
/// `deviceSerialNumbers` (1–1,000 serial numbers, Apple's per-request limit).
pub fn parse_release(body: &Map<String, Value>) -> Result<Release, ValidationError> {
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "depToken" | "deviceSerialNumbers") && !k.contains('@'))
    {
        return Err(ValidationError::new(format!(
            "'{other}' is not a parameter of releaseAppleDevices."
        )));
    }
    match body.get("depToken") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) | None => {
            return Err(ValidationError::new(
                "The parameter 'depToken' is required.",
            ));
        }
        Some(other) => return Err(ValidationError::wrong_type("depToken", "Edm.String", other)),
    }
    let Some(Value::Array(items)) = body.get("deviceSerialNumbers") else {
        return Err(ValidationError::new(
            "The parameter 'deviceSerialNumbers' is required and must be an array of serial numbers.",
        ));
    };
    if items.is_empty() || items.len() > 1000 {
        return Err(ValidationError::new(
            "'deviceSerialNumbers' must hold between 1 and 1000 serial numbers.",
        ));
    }
    let serials = items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ValidationError::wrong_type("deviceSerialNumbers", "Edm.String", v))
                .and_then(crate::domain::devices::normalize_serial)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Release { serials })
}

/// `releaseAppleDevices`: disowns the devices at Apple (irreversible there) and marks the
/// token's identities of the released serials `isDeleted`. Every serial must be an identity of
/// this token, else nothing is sent to Apple; serials Apple did not release are named in a 502.
pub async fn release(
    svc: &Services,
    tenant: TenantId,
    setting: &str,
    release: Release,
) -> Result<(), ServiceError> {
    let (key, serials) = (setting.to_owned(), release.serials.clone());
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
    svc.db
        .write(tenant, move |c| {
            crate::storage::devices::mark_deleted(c, tenant, &key, &marked)?;
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
