//! The old collection-bound `uploadDepToken`, which names no token: the server token goes to
//! the setting whose key decrypts it (the legacy default first) — a renewal of the Apple MDM
//! server it already holds, or the first token of a setting that `getEncryptionPublicKey`
//! created; a token of another Apple MDM server made with that key gets a new setting. Nothing
//! is created for a token no key of the tenant decrypts.
//!
//! The decision ([`place`]) reads only the typed refusals of [`dep_tokens::upload`], so it is tested
//! here with scripted answers.

use std::future::Future;

use serde_json::Map;

use super::{DefaultToken, pick, tokens};
use crate::domain::ids::{SettingId, TenantId};
use crate::service::dep_tokens::{self, Upload, UploadRefused};
use crate::service::{ServiceError, Services, onboarding};

/// Why an upload by key went to no setting.
#[derive(Debug, thiserror::Error)]
pub enum ByKeyRefused {
    /// The tenant has no setting at all.
    #[error("the tenant has no DEP token")]
    NoToken,
    /// No key of the tenant's settings decrypts the server token.
    #[error("no key of the tenant decrypts the server token")]
    NoKeyDecrypts,
    /// An upload failed for a reason other than the key (expired, refused by Apple, held
    /// elsewhere, …): trying other settings would not help.
    #[error(transparent)]
    Failed(#[from] ServiceError),
}

/// Where a server token uploaded by key goes, as decided from the settings' answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// This setting took the token.
    Held(String),
    /// No setting took it, but this setting's key decrypted it (a token of another Apple MDM
    /// server than the one the setting holds): a new setting sharing that key should.
    NewSettingWithKeyOf(String),
    /// No setting's key decrypts it.
    NoKeyDecrypts,
}

/// The order settings are tried in: the legacy default first, then the others oldest first.
pub fn upload_order(mut ids: Vec<String>, designated: Option<&str>) -> Vec<String> {
    if let DefaultToken::One(first) = pick(&ids, designated) {
        ids.retain(|i| *i != first);
        ids.insert(0, first);
    }
    ids
}

/// Tries `order` with `try_upload` until a setting takes the token. A setting whose key does
/// not decrypt it (or that has no key yet) is passed over; one whose key decrypts a token of
/// another server is remembered and the others still tried — one of them may hold that server
/// with a copy of the same key (a renewal). Any other refusal ends the search: it would be the
/// same on every setting (an expired token, a server another tenant holds).
pub async fn place<F, Fut>(order: &[String], mut try_upload: F) -> Result<Placement, ServiceError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let mut key_owner = None;
    for setting in order {
        match try_upload(setting.clone()).await {
            Ok(()) => return Ok(Placement::Held(setting.clone())),
            Err(ServiceError::UploadRefused(UploadRefused::WrongKey | UploadRefused::NoKeyYet)) => {
            }
            Err(ServiceError::UploadRefused(UploadRefused::OtherServer { .. })) => {
                key_owner.get_or_insert_with(|| setting.clone());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(key_owner.map_or(Placement::NoKeyDecrypts, Placement::NewSettingWithKeyOf))
}

/// The collection-bound upload: to the setting [`place`] finds, or to a new setting that shares
/// the key of the one that decrypted a token of another server.
pub async fn upload_by_key(
    svc: &Services,
    tenant: TenantId,
    upload: Upload,
) -> Result<(), ByKeyRefused> {
    let (ids, designated) = tokens(svc, tenant).await?;
    if ids.is_empty() {
        return Err(ByKeyRefused::NoToken);
    }
    let order = upload_order(ids, designated.as_deref());
    let placement = place(&order, |setting| {
        let upload = upload.clone();
        async move { dep_tokens::upload(svc, tenant, &SettingId::from(setting), upload).await }
    })
    .await?;
    match placement {
        Placement::Held(_) => Ok(()),
        Placement::NewSettingWithKeyOf(owner) => {
            Ok(upload_to_new_setting(svc, tenant, &SettingId::from(owner), upload).await?)
        }
        Placement::NoKeyDecrypts => Err(ByKeyRefused::NoKeyDecrypts),
    }
}

/// A new setting (within `maximumDepTokens`) that shares `key_owner`'s key and holds the
/// uploaded token; removed again if the upload fails, so a refused upload leaves nothing.
async fn upload_to_new_setting(
    svc: &Services,
    tenant: TenantId,
    key_owner: &SettingId,
    upload: Upload,
) -> Result<(), ServiceError> {
    let created = SettingId::from(onboarding::create(svc, tenant, Map::new()).await?.id);
    let result = async {
        dep_tokens::stage_key_of(svc, tenant, key_owner, &created).await?;
        dep_tokens::upload(svc, tenant, &created, upload).await
    }
    .await;
    if let Err(e) = result {
        if let Err(cleanup) = onboarding::delete(svc, tenant, &created).await {
            tracing::error!(error = %cleanup, setting = %created, "removing the setting of a failed legacy upload");
        }
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::domain::ValidationError;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    fn other_server() -> ServiceError {
        UploadRefused::OtherServer {
            held_name: "A".into(),
            held_uuid: "a".into(),
            uploaded_uuid: "b".into(),
        }
        .into()
    }

    /// Runs [`place`] over `order` with each setting answering `answer(setting)`; returns the
    /// placement and the settings tried, in order.
    fn run(
        order: &[&str],
        answer: impl Fn(&str) -> Result<(), ServiceError>,
    ) -> (Result<Placement, ServiceError>, Vec<String>) {
        let tried = RefCell::new(Vec::new());
        let placement = futures_util::FutureExt::now_or_never(place(&ids(order), |s| {
            tried.borrow_mut().push(s.clone());
            std::future::ready(answer(&s))
        }))
        .expect("the scripted answers are ready at once");
        (placement, tried.into_inner())
    }

    #[test]
    fn the_setting_whose_key_decrypts_takes_the_token() {
        let (placement, tried) = run(&["a", "b", "c"], |s| match s {
            "a" => Err(UploadRefused::WrongKey.into()),
            "b" => Ok(()),
            _ => panic!("tried after a setting took the token"),
        });
        assert_eq!(placement.unwrap(), Placement::Held("b".into()));
        assert_eq!(tried, ids(&["a", "b"]));
    }

    #[test]
    fn settings_without_the_key_are_passed_over() {
        let (placement, tried) = run(&["a", "b"], |s| match s {
            "a" => Err(UploadRefused::NoKeyYet.into()),
            _ => Err(UploadRefused::WrongKey.into()),
        });
        assert_eq!(placement.unwrap(), Placement::NoKeyDecrypts);
        assert_eq!(tried, ids(&["a", "b"]));
    }

    #[test]
    fn another_server_with_a_known_key_gets_a_new_setting_unless_a_later_one_renews() {
        let (placement, _) = run(&["a", "b", "c"], |s| match s {
            "a" => Err(UploadRefused::WrongKey.into()),
            _ => Err(other_server()),
        });
        assert_eq!(
            placement.unwrap(),
            Placement::NewSettingWithKeyOf("b".into()),
            "the first setting whose key decrypted"
        );
        let (placement, tried) = run(&["a", "b"], |s| match s {
            "a" => Err(other_server()),
            _ => Ok(()),
        });
        assert_eq!(placement.unwrap(), Placement::Held("b".into()));
        assert_eq!(tried, ids(&["a", "b"]));
    }

    #[test]
    fn a_refusal_that_is_not_about_the_key_ends_the_search() {
        let refusals: [fn() -> ServiceError; 4] = [
            || UploadRefused::HeldByOtherTenant.into(),
            || {
                UploadRefused::HeldBySetting {
                    setting: "x".into(),
                }
                .into()
            },
            || ValidationError::new("expired").into(),
            || ServiceError::Upstream("down".into()),
        ];
        for refusal in refusals {
            let (placement, tried) = run(&["a", "b", "c"], |s| match s {
                "a" => Err(UploadRefused::WrongKey.into()),
                "b" => Err(refusal()),
                _ => Ok(()),
            });
            assert!(placement.is_err(), "{placement:?}");
            assert_eq!(tried, ids(&["a", "b"]), "c is never tried");
        }
        let (placement, _) = run(&["a", "b"], |s| match s {
            "a" => Err(other_server()),
            _ => Err(UploadRefused::HeldByOtherTenant.into()),
        });
        assert!(
            matches!(
                placement,
                Err(ServiceError::UploadRefused(
                    UploadRefused::HeldByOtherTenant
                ))
            ),
            "a remembered key owner does not hide the refusal: {placement:?}"
        );
    }

    #[test]
    fn the_legacy_default_is_tried_first() {
        assert_eq!(
            upload_order(ids(&["a", "b", "c"]), Some("c")),
            ids(&["c", "a", "b"])
        );
        assert_eq!(upload_order(ids(&["a", "b"]), None), ids(&["a", "b"]));
        assert_eq!(upload_order(ids(&["a"]), Some("gone")), ids(&["a"]));
    }
}
