//! Graph change notifications: the `/subscriptions` use cases (create with the validation
//! handshake, read, renew, delete) over the subscriptions repository. Changes are written to the
//! outbox by storage in the transaction of each change (`storage::outbox`); the delivery worker
//! ([`delivery`]) sends them; [`receiver`] is the HTTP side (address policy, handshake, POST).

pub mod delivery;
mod input;
pub mod receiver;

use uuid::Uuid;

use super::{Entity, ServiceError, Services};
use crate::domain::ids::{SettingId, TenantId};
use crate::storage::subscriptions::{self as repo, MAX_PER_TENANT, SubscriptionRow};
use crate::storage::{onboarding_settings, outbox};

pub use delivery::start_delivery;
pub use input::{NewSubscription, SubscriptionPatch};
pub use receiver::Refused;

/// The sealing context of signing secrets at rest.
pub(crate) const SIGNING_CONTEXT: &str = "subscription-signing-secret";

/// A subscription as stored (the repository's row).
pub type Subscription = SubscriptionRow;

/// Why a subscription could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The request is invalid, or a use case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The receiver failed the validation handshake (Graph's 400 `InvalidRequest`).
    #[error("{0}")]
    Handshake(String),
    /// The tenant holds the most subscriptions allowed (Graph's 403).
    #[error("{0}")]
    Quota(String),
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found(Entity::Subscription, id)
}

/// Creates a subscription after the receivers passed the validation handshake.
pub async fn create(
    svc: &Services,
    tenant: TenantId,
    caller: (Option<String>, Option<String>),
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Subscription, SubscribeError> {
    let now = svc.clock.now_ticks();
    let new = NewSubscription::parse(&body, now, &svc.notifications)?;
    check_resource(svc, tenant, &new.resource).await?;
    let policy = receiver::Policy::from(&svc.notifications);
    receiver::validate(&svc.notifications, &policy, &new.notification_url).await?;
    if let Some(url) = &new.lifecycle_notification_url {
        receiver::validate(&svc.notifications, &policy, url).await?;
    }
    let row = SubscriptionRow {
        tenant_id: tenant.to_string(),
        id: Uuid::new_v4().to_string(),
        resource: new.resource,
        change_types: new.change_types,
        notification_url: new.notification_url,
        lifecycle_notification_url: new.lifecycle_notification_url,
        client_state: new.client_state,
        signing_secret: new
            .signing_secret
            .map(|s| svc.secrets.seal(SIGNING_CONTEXT, s.as_bytes())),
        expiration_ticks: new.expiration_ticks,
        application_id: caller.0,
        creator_id: caller.1,
        created_ticks: now,
        reauthorize_sent: false,
    };
    let stored = row.clone();
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            if repo::count(c, tenant)? >= MAX_PER_TENANT {
                return Err(SubscribeError::Quota(format!(
                    "The tenant holds {MAX_PER_TENANT} subscriptions, the most allowed; delete \
                     one first."
                )));
            }
            repo::insert(c, &stored).map_err(ServiceError::from)?;
            Ok(())
        })
        .await?;
    Ok(row)
}

impl From<crate::storage::StorageError> for SubscribeError {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::domain::ValidationError> for SubscribeError {
    fn from(e: crate::domain::ValidationError) -> Self {
        Self::Service(e.into())
    }
}

impl From<diesel::result::Error> for SubscribeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

/// The watched token must be the tenant's (another tenant's id is as unknown as a made-up one).
async fn check_resource(
    svc: &Services,
    tenant: TenantId,
    resource: &str,
) -> Result<(), ServiceError> {
    let Some(setting) = input::setting_of(resource) else {
        return Ok(());
    };
    let key = SettingId::new(setting);
    let exists = svc
        .db
        .run(move |c| Ok::<_, ServiceError>(onboarding_settings::exists(c, tenant, &key)?))
        .await?;
    if exists {
        Ok(())
    } else {
        Err(crate::domain::ValidationError::new(format!(
            "The resource '{resource}' does not exist: no depOnboardingSetting '{setting}'."
        ))
        .into())
    }
}

/// One subscription of the tenant.
pub async fn get(svc: &Services, tenant: TenantId, id: &str) -> Result<Subscription, ServiceError> {
    let key = id.to_owned();
    svc.db
        .run(move |c| repo::get(c, tenant, &key)?.ok_or_else(|| not_found(&key)))
        .await
}

/// The tenant's subscriptions.
pub async fn list(svc: &Services, tenant: TenantId) -> Result<Vec<Subscription>, ServiceError> {
    svc.db.run(move |c| Ok(repo::list(c, tenant)?)).await
}

/// Renews a subscription (`expirationDateTime`) and/or moves it to a new `notificationUrl`,
/// which must pass the handshake first.
pub async fn update(
    svc: &Services,
    tenant: TenantId,
    id: &str,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Subscription, SubscribeError> {
    let mut current = get(svc, tenant, id).await?;
    let now = svc.clock.now_ticks();
    let patch = SubscriptionPatch::parse(&body, now, &svc.notifications)?;
    if let Some(url) = patch
        .notification_url
        .filter(|u| *u != current.notification_url)
    {
        let policy = receiver::Policy::from(&svc.notifications);
        receiver::validate(&svc.notifications, &policy, &url).await?;
        current.notification_url = url;
    }
    if let Some(expiry) = patch.expiration_ticks {
        current.expiration_ticks = expiry;
    }
    current.reauthorize_sent = false;
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            if repo::update(c, tenant, &current)? {
                Ok(current)
            } else {
                Err(SubscribeError::Service(not_found(&current.id)))
            }
        })
        .await
}

/// Deletes a subscription and its pending notifications.
pub async fn delete(svc: &Services, tenant: TenantId, id: &str) -> Result<(), ServiceError> {
    let key = id.to_owned();
    svc.db
        .write(tenant, svc.clock.now_ticks(), move |c| {
            if repo::delete(c, tenant, &key)? {
                Ok(())
            } else {
                Err(not_found(&key))
            }
        })
        .await
}

/// How many change notifications wait for delivery to the tenant's subscription.
pub async fn pending(svc: &Services, tenant: TenantId, id: &str) -> Result<i64, ServiceError> {
    let key = id.to_owned();
    svc.db
        .run(move |c| Ok(outbox::pending_count(c, tenant, &key)?))
        .await
}
