//! The per-setting RSA key pairs a server token is encrypted to: generating, sharing and
//! reading them, and decrypting an uploaded token with them.

use std::sync::Arc;

use chrono::Utc;

use super::{UploadRefused, ensure_setting, setting_not_found};
use crate::apple::token_file::{self, ServerTokenCredentials, TokenFileError};
use crate::domain::ValidationError;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::audit::{Audit, SETTING};
use crate::service::{ServiceError, Services};
use crate::storage::apple_tokens::{self as repo, CURRENT, KeyPair, STAGED};
use crate::storage::audit::AuditProperty;

pub(super) fn key_context(tenant: TenantId, setting: &SettingId, slot: &str) -> String {
    format!("{tenant}/{setting}/key/{slot}")
}

/// `generateEncryptionPublicKey`: a new RSA key pair for the setting, staged until a server
/// token decrypts with it; returns its PEM certificate.
pub async fn generate_key(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
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
    let clock = Arc::clone(&svc.clock);
    svc.audited(tenant, Audit::new("Action", SETTING), move |c, audit| {
        ensure_setting(c, tenant, &key)?;
        repo::put_key_pair(c, tenant, &key, &pair, clock.now_ticks())?;
        // The certificate is public; the private key never reaches the trail.
        audit.resource(
            key.as_str(),
            None,
            vec![staged_certificate(&pair.certificate)],
        );
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
    from: &SettingId,
    to: &SettingId,
) -> Result<(), ServiceError> {
    let from = from.clone();
    let to = to.clone();
    let secrets = svc.secrets.clone();
    let clock = Arc::clone(&svc.clock);
    svc.audited(tenant, Audit::new("Action", SETTING), move |c, audit| {
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
        repo::put_key_pair(c, tenant, &to, &staged, clock.now_ticks())?;
        audit.resource(
            to.as_str(),
            None,
            vec![staged_certificate(&staged.certificate)],
        );
        Ok(())
    })
    .await
}

/// `getEncryptionPublicKey()`: the certificate of the current key pair, else of the staged one;
/// `None` when the setting has neither (generating one is a write: the caller decides).
pub async fn current_key(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<Option<String>, ServiceError> {
    let pairs = key_pairs(svc, tenant, setting).await?;
    let pick = |slot: &str| {
        pairs
            .iter()
            .find(|p| p.slot == slot)
            .map(|p| p.certificate.clone())
    };
    Ok(pick(CURRENT).or_else(|| pick(STAGED)))
}

/// The setting's key pairs (current and staged); not found when the setting does not exist.
pub(super) async fn key_pairs(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<Vec<KeyPair>, ServiceError> {
    let key = setting.to_owned();
    svc.db
        .run(move |c| {
            ensure_setting(c, tenant, &key)?;
            Ok::<_, ServiceError>(repo::key_pairs(c, tenant, &key)?)
        })
        .await
}

fn token_error(e: &TokenFileError) -> ServiceError {
    let message = match e {
        TokenFileError::WrongKey => return UploadRefused::WrongKey.into(),
        TokenFileError::Expired(at) => format!(
            "The server token expired on {at}; download a new one from Apple Business Manager."
        ),
        other => format!("The server token could not be read: {other}."),
    };
    ValidationError::new(message).into()
}

/// Decrypts with the staged key first (a renewal made for a new key), then the current one.
pub(super) fn decrypt(
    svc: &Services,
    tenant: TenantId,
    setting: &SettingId,
    pairs: &[KeyPair],
    p7m: &str,
) -> Result<(ServerTokenCredentials, String), ServiceError> {
    if pairs.is_empty() {
        return Err(UploadRefused::NoKeyYet.into());
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

/// What staging a key pair changes, as the trail shows it: the public certificate only.
fn staged_certificate(pem: &str) -> AuditProperty {
    AuditProperty {
        display_name: "StagedEncryptionCertificate".to_owned(),
        old_value: None,
        new_value: Some(pem.to_owned()),
    }
}
