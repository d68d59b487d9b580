//! Fetch and sync pages over a server's devices and change log (reference §2.2, §2.3, §3).
//!
//! * A fetch without cursor starts at the log end `E`; its pages walk the devices in serial
//!   order (cursor = last serial + `E`). The last page's cursor points at `E`, so a sync with it
//!   returns exactly the changes made since the fetch began (some possibly seen already).
//! * Fetch with a finished cursor (or any sync cursor): `400 EXHAUSTED_CURSOR`.
//! * Sync returns log events after the cursor's position, oldest first, `limit` at a time.
//! * Sync without cursor: `400 CURSOR_REQUIRED`; sync with a mid-fetch cursor, a foreign,
//!   altered or undecodable one: `400 INVALID_CURSOR`; older than `cursor_max_age_secs`:
//!   `400 EXPIRED_CURSOR`.

use std::ops::Bound;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::cursor::{self, Cursor};
use super::model::DeviceOut;
use super::reply::SimError;
use super::server::MdmServer;
use super::state::SimSettings;

/// Body of `POST /server/devices` and `POST /devices/sync`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageRequest {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The answer of both endpoints.
#[derive(Debug, Serialize)]
pub(crate) struct Page {
    pub cursor: String,
    pub devices: Vec<DeviceOut>,
    pub fetched_until: DateTime<Utc>,
    pub more_to_follow: bool,
}

/// What page building needs besides the request.
pub(crate) struct PageCtx<'a> {
    pub server: &'a MdmServer,
    pub settings: &'a SimSettings,
    pub key: &'a [u8],
    pub version: u32,
    pub now: DateTime<Utc>,
}

impl PageCtx<'_> {
    /// `limit` defaulted and capped (`/account.urls[].limit`).
    fn limit(&self, requested: Option<i64>) -> usize {
        let max = i64::from(self.settings.limit_max.max(1));
        let limit = requested
            .filter(|l| *l > 0)
            .unwrap_or_else(|| i64::from(self.settings.limit_default));
        usize::try_from(limit.min(max)).unwrap_or(1)
    }

    fn issue(&self, seq: u64, after: Option<String>) -> String {
        let c = Cursor {
            server: self.server.id.clone(),
            seq,
            after,
            issued: self.now.timestamp(),
        };
        cursor::encode(self.key, &c)
    }

    /// Decodes a cursor of this server that has not expired.
    fn open(&self, text: &str) -> Result<Cursor, SimError> {
        let c = cursor::decode(self.key, text)
            .filter(|c| c.server == self.server.id && c.seq <= self.server.last_seq())
            .ok_or_else(|| SimError::bad_request("INVALID_CURSOR"))?;
        if self.now.timestamp() - c.issued >= self.settings.cursor_max_age_secs {
            return Err(SimError::bad_request("EXPIRED_CURSOR"));
        }
        Ok(c)
    }
}

/// One page of `POST /server/devices`.
pub(crate) fn fetch(p: &PageCtx<'_>, req: &PageRequest) -> Result<Page, SimError> {
    let (seq, after) = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => (p.server.last_seq(), None),
        Some(text) => match p.open(text)? {
            Cursor {
                after: Some(after),
                seq,
                ..
            } => (seq, Some(after)),
            Cursor { after: None, .. } => return Err(SimError::bad_request("EXHAUSTED_CURSOR")),
        },
    };
    let limit = p.limit(req.limit);
    let lower = after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut devices: Vec<_> = p
        .server
        .devices
        .range::<String, _>((lower, Bound::Unbounded))
        .map(|(_, d)| d)
        .take(limit + 1)
        .collect();
    let more_to_follow = devices.len() > limit;
    devices.truncate(limit);
    let last = more_to_follow
        .then(|| devices.last().map(|d| d.serial_number.clone()))
        .flatten();
    Ok(Page {
        cursor: p.issue(seq, last),
        devices: devices
            .into_iter()
            .map(|d| DeviceOut::plain(d, p.version))
            .collect(),
        fetched_until: p.now,
        more_to_follow,
    })
}

/// One page of `POST /devices/sync`.
pub(crate) fn sync(p: &PageCtx<'_>, req: &PageRequest) -> Result<Page, SimError> {
    let text = req
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SimError::bad_request("CURSOR_REQUIRED"))?;
    let c = p.open(text)?;
    if c.after.is_some() {
        // A fetch still in progress has no sync position yet.
        return Err(SimError::bad_request("INVALID_CURSOR"));
    }
    let limit = p.limit(req.limit);
    let pending = p.server.events_after(c.seq);
    let events = &pending[..pending.len().min(limit)];
    let seq = events.last().map_or(c.seq, |e| e.seq);
    let fetched_until = if p.settings.depsim_compat {
        Utc.timestamp_opt(-62_135_596_800, 0)
            .single()
            .unwrap_or(p.now)
    } else {
        p.now
    };
    Ok(Page {
        cursor: p.issue(seq, None),
        devices: events
            .iter()
            .map(|e| DeviceOut::event(e, p.version))
            .collect(),
        fetched_until,
        more_to_follow: pending.len() > limit,
    })
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
