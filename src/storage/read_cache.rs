//! Point reads kept in memory until the next write.
//!
//! Every [`Db::run`](super::Db::run) and [`Db::write`](super::Db::write) counts as a possible
//! write and advances a generation number once its closure has finished (after the commit); an
//! entry is served only while the generation it was read under is still current. A reader takes
//! the generation *before* it reads, so a write that commits during the read leaves an entry
//! that is already stale — never a stale entry that looks fresh.
//!
//! On the embedded SQLite database this process makes every write. On PostgreSQL other
//! instances write too: every write transaction there notifies the channel
//! [`CHANNEL`](super::cache_listener::CHANNEL) on commit (statement triggers, migration
//! `2026-12-04-000001`), and a listener ([`super::cache_listener`]) invalidates on each
//! notification. Until that listener is listening (and whenever its connection fails) the cache
//! is offline: it stores and serves nothing. A write by another instance is therefore seen here
//! once its notification arrives (the listener polls every millisecond), not at the instant it
//! commits.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::domain::ids::TenantId;

/// Entries kept at most; when full, the map is cleared (reads refill it).
const CAPACITY: usize = 10_000;

type Key = (TenantId, &'static str, String);
type Entry = (u64, Arc<dyn Any + Send + Sync>);

/// The generation counter and, when enabled, the cached entries.
#[derive(Default)]
pub struct ReadCache {
    generation: AtomicU64,
    entries: Option<Mutex<HashMap<Key, Entry>>>,
    /// Whether entries may be stored and served (see [`Self::set_online`]).
    online: AtomicBool,
}

impl ReadCache {
    /// A cache that stores entries (single-process SQLite, where this process sees every
    /// write).
    pub fn storing() -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Some(Mutex::default()),
            online: AtomicBool::new(true),
        }
    }

    /// A cache that stores entries once a listener for other instances' writes reports itself
    /// online (PostgreSQL).
    pub fn listening() -> Self {
        Self {
            online: AtomicBool::new(false),
            ..Self::storing()
        }
    }

    /// A cache that only counts writes.
    pub fn counting_only() -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: None,
            online: AtomicBool::new(false),
        }
    }

    /// Turns serving on once every later write of another instance will invalidate (the
    /// listener is listening), or off when that is no longer known. Either way the current
    /// entries are dropped: going online, because writes may have been missed before.
    pub fn set_online(&self, online: bool) {
        if online {
            self.invalidate();
            self.online.store(true, Ordering::Release);
        } else {
            self.online.store(false, Ordering::Release);
            self.invalidate();
        }
    }

    fn is_online(&self) -> bool {
        self.online.load(Ordering::Acquire)
    }

    /// Whether entries are kept at all.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// Records that a write may have committed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The generation a reader must take before it reads.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The entry for `key` if it was read under the current generation.
    pub fn get<T: Clone + 'static>(&self, key: &Key) -> Option<T> {
        let entries = self.entries.as_ref()?;
        if !self.is_online() {
            return None;
        }
        let current = self.generation();
        let map = entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (generation, value) = map.get(key)?;
        if *generation != current {
            return None;
        }
        value.downcast_ref::<T>().cloned()
    }

    /// Stores `value`, read under `generation`, unless a write has happened since.
    pub fn put<T: Send + Sync + 'static>(&self, key: Key, generation: u64, value: T) {
        let Some(entries) = &self.entries else {
            return;
        };
        let mut map = entries.lock().unwrap_or_else(PoisonError::into_inner);
        if generation != self.generation() || !self.is_online() {
            return;
        }
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, (generation, Arc::new(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> Key {
        (TenantId::new(uuid::Uuid::nil()), "t", id.to_owned())
    }

    #[test]
    fn entries_live_until_the_next_write() {
        let cache = ReadCache::storing();
        let g = cache.generation();
        cache.put(key("a"), g, 7_u32);
        assert_eq!(cache.get::<u32>(&key("a")), Some(7));
        assert_eq!(cache.get::<u32>(&key("b")), None);
        assert_eq!(cache.get::<String>(&key("a")), None, "wrong type");
        cache.invalidate();
        assert_eq!(cache.get::<u32>(&key("a")), None);
    }

    #[test]
    fn a_read_overtaken_by_a_write_is_not_stored() {
        let cache = ReadCache::storing();
        let g = cache.generation();
        cache.invalidate(); // a write commits while the read runs
        cache.put(key("a"), g, 1_u32);
        assert_eq!(cache.get::<u32>(&key("a")), None);
        let g = cache.generation();
        cache.put(key("a"), g, 2_u32);
        assert_eq!(cache.get::<u32>(&key("a")), Some(2));
    }

    #[test]
    fn a_listening_cache_serves_only_while_online() {
        let cache = ReadCache::listening();
        cache.put(key("a"), cache.generation(), 1_u32);
        assert_eq!(cache.get::<u32>(&key("a")), None, "offline until listening");
        cache.set_online(true);
        cache.put(key("a"), cache.generation(), 2_u32);
        assert_eq!(cache.get::<u32>(&key("a")), Some(2));
        let g = cache.generation();
        cache.set_online(false);
        assert_eq!(
            cache.get::<u32>(&key("a")),
            None,
            "dropped when the listener fails"
        );
        cache.set_online(true);
        cache.put(key("a"), g, 3_u32);
        assert_eq!(cache.get::<u32>(&key("a")), None, "read before the outage");
    }

    #[test]
    fn a_disabled_cache_stores_nothing() {
        let cache = ReadCache::counting_only();
        cache.put(key("a"), cache.generation(), 1_u32);
        assert_eq!(cache.get::<u32>(&key("a")), None);
    }
}
