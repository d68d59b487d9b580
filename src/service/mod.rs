//! Use cases over the multi-token model. One place for the rules; no HTTP types here.

pub mod apple;
pub mod devices;
mod lease;
pub mod onboarding;
pub mod paging;
pub mod profile_push;
pub mod profiles;
pub mod sync;
#[cfg(test)]
pub(crate) mod test_support;
pub mod vpp_tokens;

use crate::domain::ValidationError;
use crate::odata::{ODataError, PagingKey};
use crate::storage::{Db, StorageError};

/// What the services need: the database and a few limits.
#[derive(Clone)]
pub struct Services {
    /// The database.
    pub db: Db,
    /// Signs `$skiptoken` values.
    pub paging_key: PagingKey,
    /// Largest page a list returns.
    pub max_page_size: u32,
    /// `maximumDepTokens`.
    pub max_dep_tokens: i32,
    /// Seals and opens secrets at rest.
    pub secrets: std::sync::Arc<crate::crypto::SecretBox>,
    /// Makes the client of a server token for Apple's DEP web service (or the simulator; an
    /// in-process fake in unit tests).
    pub apple: std::sync::Arc<dyn crate::apple::AppleConnector>,
    /// What time it is for sync, assignment retries, backoff and leases (a fake in unit tests).
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
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
}

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The entity does not exist for this tenant.
    #[error("{entity} '{id}' was not found")]
    NotFound {
        /// Graph type name.
        entity: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request breaks a rule of the model.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
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

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Storage(StorageError::Query(e))
    }
}
