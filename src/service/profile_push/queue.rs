//! Queuing assignments for the push, inside the caller's write transaction.

use crate::domain::ids::{ProfileId, SettingId, TenantId};
use crate::storage::profile_push::{self as repo, NO_SERVER_TOKEN, PENDING, Queued};
use crate::storage::{DbConnection, apple_tokens};

/// Queues the assignment of `profile_id` to a token's `serials` in the caller's write
/// transaction: due at once if the token holds a server token, else recorded as
/// `NO_SERVER_TOKEN`.
pub fn enqueue_in(
    c: &mut DbConnection,
    tenant: TenantId,
    setting: &SettingId,
    serials: &[String],
    profile_id: &ProfileId,
    now: i64,
) -> diesel::QueryResult<()> {
    let held = apple_tokens::held(c, tenant, setting)?.is_some();
    let entry = if held {
        Queued {
            profile_id,
            status: PENDING,
            next_attempt: Some(now),
        }
    } else {
        Queued {
            profile_id,
            status: NO_SERVER_TOKEN,
            next_attempt: None,
        }
    };
    repo::enqueue(c, tenant, setting, serials, &entry, now)
}
