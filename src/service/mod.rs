//! Use cases over the multi-token model. One place for the rules; no HTTP types here.

pub mod audit;
pub mod dep_tokens;
pub mod devices;
mod lease;
pub mod legacy;
pub mod notify;
pub mod onboarding;
pub mod paging;
pub mod profile_push;
pub mod profiles;
pub mod sync;
#[cfg(test)]
pub(crate) mod test_support;
pub mod token_health;
pub mod vpp_tokens;

use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::domain::ValidationError;
use crate::odata::{ODataError, PagingKey};
use crate::storage::{Db, StorageError};

pub use dep_tokens::UploadRefused;

/// What the services need: the database and a few limits.
#[derive(Clone)]
pub struct Services {
    /// The database: only services (and the storage functions they call) touch it.
    pub(in crate::service) db: Db,
    /// Signs `$skiptoken` values.
    pub paging_key: PagingKey,
    /// Largest page a list returns.
    pub max_page_size: u32,
    /// `maximumDepTokens`.
    pub max_dep_tokens: i32,
    /// Seals and opens secrets at rest.
    pub secrets: Arc<SecretBox>,
    /// Makes the client of a server token for Apple's DEP web service (or the simulator; an
    /// in-process fake in unit tests).
    pub apple: Arc<dyn crate::apple::AppleConnector>,
    /// What time it is for sync, assignment retries, backoff and leases (a fake in unit tests).
    pub clock: Arc<dyn crate::clock::Clock>,
    /// The instance's supervised background work: runs triggered syncs and pushes, says when
    /// shutdown began.
    pub background: crate::background::Background,
    /// How long a sync or push lease lasts without renewal (renewed by a heartbeat while the
    /// work runs).
    pub lease_secs: u64,
    /// Seconds between periodic syncs; 0 = off.
    pub sync_interval_secs: u64,
    /// First wait before pushing a failed profile assignment to Apple again (doubles per try).
    pub assign_retry_secs: u64,
    /// The MDM server's enrollment URL (`mdm_enrollment_url`), the `url` of every profile
    /// defined at Apple; `None` refuses assignments (see `profile_push::enrollment_url`).
    pub enrollment_url: Option<crate::domain::enrollment_url::EnrollmentUrl>,
    /// The instance's Prometheus metrics (sync runs and token warnings are counted here).
    pub metrics: Arc<crate::telemetry::Metrics>,
    /// When tokens are warned about.
    pub token_warnings: crate::config::TokenWarningSettings,
    /// Change notifications: receiver policy, lifetimes, delivery timing.
    pub notifications: crate::config::NotificationSettings,
    /// Root spans of background work (off unless traces are exported).
    pub spans: crate::telemetry::Spans,
}

impl Services {
    /// The services over `db`, with the limits of `settings`, talking to Apple through `apple`
    /// and telling time by `clock`; triggered work runs under `background`.
    pub fn new(
        db: Db,
        paging_key: PagingKey,
        secrets: Arc<SecretBox>,
        apple: Arc<dyn crate::apple::AppleConnector>,
        clock: Arc<dyn crate::clock::Clock>,
        background: crate::background::Background,
        settings: &Settings,
    ) -> Self {
        Self {
            db,
            paging_key,
            max_page_size: settings.max_page_size.max(1),
            max_dep_tokens: settings.max_dep_tokens,
            secrets,
            apple,
            clock,
            background,
            lease_secs: settings.lease_secs,
            sync_interval_secs: settings.sync_interval_secs,
            assign_retry_secs: settings.assign_retry_secs,
            // Checked at start (`Application::build`), so an invalid one never gets here.
            enrollment_url: settings.enrollment_url().ok().flatten(),
            metrics: Arc::new(crate::telemetry::Metrics::new()),
            token_warnings: settings.token_warnings.clone(),
            notifications: settings.notifications.clone(),
            spans: crate::telemetry::Spans::off(),
        }
    }

    /// The same services counting into `metrics` (the application's registry, which the
    /// metrics endpoint renders).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<crate::telemetry::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The same services starting background work's root spans with `spans`.
    #[must_use]
    pub fn with_spans(mut self, spans: crate::telemetry::Spans) -> Self {
        self.spans = spans;
        self
    }

    /// Whether the database answers and has every migration applied (`/readyz`).
    pub async fn ready(&self) -> Result<bool, StorageError> {
        self.db.ready().await
    }
}

/// The kinds of entity a use case can fail to find; callers that answer for another entity
/// (the old API's profile ids name their token) tell them apart by this, never by a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A depOnboardingSetting (a DEP token).
    OnboardingSetting,
    /// An enrollment profile of a token.
    EnrollmentProfile,
    /// An imported Apple device identity of a token.
    DeviceIdentity,
    /// A VPP token.
    VppToken,
    /// An event of the audit trail.
    AuditEvent,
    /// A change-notification subscription.
    Subscription,
}

impl Entity {
    /// The Graph type name.
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::OnboardingSetting => "depOnboardingSetting",
            Self::EnrollmentProfile => "enrollmentProfile",
            Self::DeviceIdentity => "importedAppleDeviceIdentity",
            Self::VppToken => "vppToken",
            Self::AuditEvent => "auditEvent",
            Self::Subscription => "subscription",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.graph_name())
    }
}

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The entity does not exist for this tenant.
    #[error("{entity} '{id}' was not found")]
    NotFound {
        /// What was looked for.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// The request breaks a rule of the model.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A server token cannot go to the setting it was uploaded to.
    #[error(transparent)]
    UploadRefused(#[from] UploadRefused),
    /// The OData query options are invalid or unsupported.
    #[error(transparent)]
    OData(#[from] ODataError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Apple's service failed in a way the caller cannot fix (unreachable, 5xx, throttled).
    #[error("Apple's DEP service: {0}")]
    Upstream(String),
    /// Anything else that is not the caller's fault (logged, hidden from the client).
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl ServiceError {
    /// `entity` `id` does not exist for this tenant.
    pub fn not_found(entity: Entity, id: &str) -> Self {
        Self::NotFound {
            entity,
            id: id.to_owned(),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Storage(StorageError::Query(e))
    }
}

/// The attributes of a background span about one token.
pub(crate) fn trace_ids(
    tenant: crate::domain::ids::TenantId,
    setting: &crate::domain::ids::SettingId,
) -> Vec<opentelemetry::KeyValue> {
    vec![
        opentelemetry::KeyValue::new("tenant_id", tenant.to_string()),
        opentelemetry::KeyValue::new("setting_id", setting.to_string()),
    ]
}
