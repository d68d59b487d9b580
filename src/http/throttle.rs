//! Per-tenant and per-app request limits, like Intune's enrollment limits
//! (graph-http-conventions.md §10): writes 200 / 20 s per tenant and 100 / 20 s per app, any
//! method 2,000 / 20 s per tenant and 1,000 / 20 s per app, by default.
//!
//! Each limit is a GCRA ("generic cell rate algorithm", a token bucket stored as one number): a
//! key's state is its *theoretical arrival time*; a request is admitted when the bucket of every
//! limit that applies to it has room, and then counts against all of them, so a refused request
//! costs nothing. The state lives in a small sharded map keyed by tenant; a tenant's entry also
//! holds its apps, so one lock covers all four buckets of a request. Idle entries (every bucket
//! full again) are swept when a shard grows, so memory follows the number of active callers.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::ThrottleSettings;
use crate::domain::ids::TenantId;

const SHARDS: usize = 32;
/// Entries a shard (or a tenant's app map) may hold before idle ones are swept.
const FIRST_SWEEP: usize = 256;
const FIRST_APP_SWEEP: usize = 16;

/// `FxHash` (as in rustc): a few cycles per word instead of `SipHash`'s ~20 ns per key. Keys are
/// tenant and app ids from validated tokens, assigned by the identity provider rather than
/// chosen by callers, so a hash-flooding resistant hasher buys nothing here.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A tenant-wide limit.
    Tenant,
    /// A limit of one application within the tenant.
    App,
}

/// A refused request: how long until a slot frees and which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds to wait (at least 1), for `Retry-After`.
    pub retry_after_secs: u64,
    /// The limit that is exhausted.
    pub scope: Scope,
}

/// One limit: `limit` requests per `window`, as an emission interval and the window in ns.
#[derive(Debug, Clone, Copy)]
struct Rate {
    interval: u64,
    window: u64,
}

impl Rate {
    /// `None` when the limit is 0 (off).
    fn new(limit: u32, window: Duration) -> Option<Self> {
        if limit == 0 {
            return None;
        }
        let window = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX).max(1);
        Some(Self {
            interval: (window / u64::from(limit)).max(1),
            window,
        })
    }

    /// The bucket's next state if a request at `now` is admitted, else the wait in ns.
    fn admit(self, tat: u64, now: u64) -> Result<u64, u64> {
        let next = tat.max(now).saturating_add(self.interval);
        let ahead = next - now;
        if ahead > self.window {
            Err(ahead - self.window)
        } else {
            Ok(next)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Rates {
    tenant_all: Option<Rate>,
    tenant_writes: Option<Rate>,
    app_all: Option<Rate>,
    app_writes: Option<Rate>,
}

/// Theoretical arrival times (ns since the throttle's epoch) of one key's two buckets.
#[derive(Debug, Default, Clone, Copy)]
struct Buckets {
    all: u64,
    writes: u64,
}

impl Buckets {
    fn idle(self, now: u64) -> bool {
        self.all <= now && self.writes <= now
    }
}

#[derive(Debug, Default)]
struct TenantEntry {
    tenant: Buckets,
    apps: FastMap<Box<str>, Buckets>,
    next_app_sweep: usize,
}

#[derive(Debug, Default)]
struct Shard {
    tenants: FastMap<TenantId, TenantEntry>,
    next_sweep: usize,
}

/// The limiter shared by every worker.
#[derive(Debug)]
pub struct Throttle {
    rates: Option<Rates>,
    epoch: Instant,
    shards: Box<[Mutex<Shard>]>,
}

/// What a request counts against: every request uses the all-requests buckets, a write also
/// the writes buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// GET, HEAD, OPTIONS.
    Read,
    /// Any other method.
    Write,
}

impl Throttle {
    /// A limiter with the configured limits (`enabled = false` admits everything).
    pub fn new(settings: &ThrottleSettings) -> Self {
        let window = Duration::from_secs(settings.window_secs.max(1));
        let rates = Rates {
            tenant_all: Rate::new(settings.tenant_requests, window),
            tenant_writes: Rate::new(settings.tenant_writes, window),
            app_all: Rate::new(settings.app_requests, window),
            app_writes: Rate::new(settings.app_writes, window),
        };
        let any = rates.tenant_all.is_some()
            || rates.tenant_writes.is_some()
            || rates.app_all.is_some()
            || rates.app_writes.is_some();
        Self {
            rates: (settings.enabled && any).then_some(rates),
            epoch: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Counts one request of `app` in `tenant` of the given `kind`, or refuses it.
    pub fn check(&self, tenant: TenantId, app: Option<&str>, kind: Kind) -> Result<(), Throttled> {
        let Some(rates) = self.rates else {
            return Ok(());
        };
        // Nanoseconds since the epoch; a fresh bucket (0) is full.
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let shard_index = usize::try_from(tenant.as_uuid().as_u128() % SHARDS as u128).unwrap_or(0);
        let mut shard = self.shards[shard_index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !shard.tenants.contains_key(&tenant) {
            shard.sweep(now);
        }
        let entry = shard.tenants.entry(tenant).or_default();
        let app = app.unwrap_or_default();
        let app_buckets = if let Some(buckets) = entry.apps.get(app) {
            *buckets
        } else {
            entry.sweep_apps(now);
            Buckets::default()
        };

        let mut wait: Option<(u64, Scope)> = None;
        let mut step = |rate: Option<Rate>, tat: u64, scope: Scope| -> u64 {
            let Some(rate) = rate else { return tat };
            match rate.admit(tat, now) {
                Ok(next) => next,
                Err(ns) => {
                    if wait.is_none_or(|(w, _)| ns > w) {
                        wait = Some((ns, scope));
                    }
                    tat
                }
            }
        };
        let tenant_all = step(rates.tenant_all, entry.tenant.all, Scope::Tenant);
        let app_all = step(rates.app_all, app_buckets.all, Scope::App);
        let (tenant_writes, app_writes) = if kind == Kind::Write {
            (
                step(rates.tenant_writes, entry.tenant.writes, Scope::Tenant),
                step(rates.app_writes, app_buckets.writes, Scope::App),
            )
        } else {
            (entry.tenant.writes, app_buckets.writes)
        };
        if let Some((ns, scope)) = wait {
            return Err(Throttled {
                retry_after_secs: ns.div_ceil(1_000_000_000).max(1),
                scope,
            });
        }
        entry.tenant = Buckets {
            all: tenant_all,
            writes: tenant_writes,
        };
        let buckets = Buckets {
            all: app_all,
            writes: app_writes,
        };
        match entry.apps.get_mut(app) {
            Some(existing) => *existing = buckets,
            None => {
                entry.apps.insert(app.into(), buckets);
            }
        }
        Ok(())
    }
}

impl Shard {
    /// Drops tenants whose buckets are all full again, when the shard has grown enough.
    fn sweep(&mut self, now: u64) {
        if self.tenants.len() < self.next_sweep.max(FIRST_SWEEP) {
            return;
        }
        self.tenants
            .retain(|_, e| !(e.tenant.idle(now) && e.apps.values().all(|a| a.idle(now))));
        self.next_sweep = (self.tenants.len() * 2).max(FIRST_SWEEP);
    }
}

impl TenantEntry {
    fn sweep_apps(&mut self, now: u64) {
        if self.apps.len() < self.next_app_sweep.max(FIRST_APP_SWEEP) {
            return;
        }
        self.apps.retain(|_, a| !a.idle(now));
        self.next_app_sweep = (self.apps.len() * 2).max(FIRST_APP_SWEEP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn settings(
        tenant_writes: u32,
        tenant_requests: u32,
        app_writes: u32,
        app_requests: u32,
    ) -> ThrottleSettings {
        ThrottleSettings {
            enabled: true,
            window_secs: 20,
            tenant_writes,
            tenant_requests,
            app_writes,
            app_requests,
        }
    }

    #[test]
    fn admits_exactly_the_limit_within_a_window() {
        let t = Throttle::new(&settings(3, 10, 0, 0));
        let tenant = TenantId::new(Uuid::new_v4());
        for _ in 0..3 {
            t.check(tenant, Some("a"), Kind::Write).unwrap();
        }
        let refused = t.check(tenant, Some("a"), Kind::Write).unwrap_err();
        assert_eq!(refused.scope, Scope::Tenant);
        // One slot frees after window / limit = 6.67 s.
        assert_eq!(refused.retry_after_secs, 7);
        // Reads still have room; the refused write did not consume a read slot.
        for _ in 0..7 {
            t.check(tenant, Some("a"), Kind::Read).unwrap();
        }
        assert!(t.check(tenant, Some("a"), Kind::Read).is_err());
    }

    #[test]
    fn app_limits_are_per_app_and_tenants_are_independent() {
        let t = Throttle::new(&settings(0, 0, 0, 2));
        let tenant = TenantId::new(Uuid::new_v4());
        t.check(tenant, Some("a"), Kind::Read).unwrap();
        t.check(tenant, Some("a"), Kind::Read).unwrap();
        assert_eq!(
            t.check(tenant, Some("a"), Kind::Read).unwrap_err().scope,
            Scope::App
        );
        t.check(tenant, Some("b"), Kind::Read).unwrap();
        t.check(TenantId::new(Uuid::new_v4()), Some("a"), Kind::Read)
            .unwrap();
    }

    #[test]
    fn disabled_admits_everything() {
        let mut s = settings(1, 1, 1, 1);
        s.enabled = false;
        let t = Throttle::new(&s);
        let tenant = TenantId::new(Uuid::new_v4());
        for _ in 0..100 {
            t.check(tenant, None, Kind::Write).unwrap();
        }
    }

    #[test]
    fn idle_tenants_are_swept() {
        // 1,000 per second: a bucket is full (idle) again 1 ms after its request.
        let mut s = settings(0, 1000, 0, 0);
        s.window_secs = 1;
        let t = Throttle::new(&s);
        let inserted = FIRST_SWEEP * SHARDS * 2;
        for i in 0..inserted {
            if i % 1000 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
            t.check(TenantId::new(Uuid::new_v4()), None, Kind::Read)
                .unwrap();
        }
        let held: usize = t
            .shards
            .iter()
            .map(|s| s.lock().unwrap().tenants.len())
            .sum();
        assert!(held < inserted, "{held} of {inserted} entries kept");
    }
}
