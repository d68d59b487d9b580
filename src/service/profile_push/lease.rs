//! A token's push lease as one push run holds it.

use std::sync::Arc;

use crate::domain::ids::{SettingId, TenantId};
use crate::storage::DbConnection;
use crate::storage::profile_push as repo;

/// A token's push lease as this run holds it; cheap to clone into database closures.
#[derive(Clone)]
pub(super) struct Lease {
    pub(super) tenant: TenantId,
    pub(super) setting: SettingId,
    pub(super) owner: Arc<str>,
}

impl Lease {
    pub(super) fn claim(
        &self,
        c: &mut DbConnection,
        now: i64,
        until: i64,
    ) -> diesel::QueryResult<bool> {
        repo::claim(c, self.tenant, &self.setting, &self.owner, now, until)
    }

    pub(super) fn renew(&self, c: &mut DbConnection, until: i64) -> diesel::QueryResult<bool> {
        repo::renew(c, self.tenant, &self.setting, &self.owner, until)
    }

    pub(super) fn release(&self, c: &mut DbConnection) -> diesel::QueryResult<()> {
        repo::release(c, self.tenant, &self.setting, &self.owner)
    }
}
