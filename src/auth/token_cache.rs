//! Cache of already validated tokens, so steady-state requests skip the RSA verification.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use sha2::{Digest, Sha256};

use super::{AuthError, Principal};

/// SHA-256 of the raw token string.
pub(crate) type CacheKey = [u8; 32];

struct Entry {
    principal: Principal,
    exp: u64,
}

/// Validated tokens by hash, bounded; entries live until their `exp` (plus leeway).
pub(crate) struct TokenCache {
    entries: RwLock<HashMap<CacheKey, Entry>>,
    capacity: usize,
    leeway: u64,
}

impl TokenCache {
    /// An empty cache holding at most `capacity` tokens.
    pub(crate) fn new(capacity: usize, leeway: u64) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity,
            leeway,
        }
    }

    /// The cache key of a token.
    pub(crate) fn key(token: &str) -> CacheKey {
        Sha256::digest(token.as_bytes()).into()
    }

    /// `None` on a miss; on a hit the principal, or `Expired` once `exp + leeway < now`.
    pub(crate) fn get(&self, key: &CacheKey, now: u64) -> Option<Result<Principal, AuthError>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        Some(if self.live(entry.exp, now) {
            Ok(entry.principal.clone())
        } else {
            Err(AuthError::Expired)
        })
    }

    /// Remembers a validated token; when full, drops expired entries, then everything.
    pub(crate) fn insert(&self, key: CacheKey, principal: Principal, exp: u64, now: u64) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, e| self.live(e.exp, now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { principal, exp });
    }

    fn live(&self, exp: u64, now: u64) -> bool {
        exp.saturating_add(self.leeway) >= now
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
