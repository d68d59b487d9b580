//! What the services' unit tests run on: a fresh SQLite database through the real storage code,
//! a [`FakeClock`], and [`FakeApple`], an in-process stand-in for Apple's DEP service behind the
//! [`DepApi`] seam (scripted pages, per-serial assignment results, injected errors, a log of
//! calls). Nothing here mocks the code under test.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Services;
use crate::apple::client::ClientOptions;
use crate::apple::error::AppleError;
use crate::apple::token_file::ServerTokenCredentials;
use crate::apple::types::{
    Account, AssignProfileResponse, DefineProfileResponse, DepProfile, Device, DevicePage,
    DeviceStatus, SerialResults,
};
use crate::apple::{AppleConnector, DepApi};
use crate::background::Background;
use crate::clock::testing::FakeClock;
use crate::domain::ids::{SettingId, TenantId};
use crate::domain::onboarding::OnboardingSetting;
use crate::odata::PagingKey;
use crate::storage::apple_tokens::{self, HeldToken};
use crate::storage::{Db, StorageError, onboarding_settings, profiles};

/// Apple's side of the fake: what it holds and what it was asked.
#[derive(Default)]
pub struct AppleState {
    /// The server's devices, served by the full fetch `page` at a time.
    pub devices: Vec<Device>,
    /// Devices per fetch or sync page.
    pub page: usize,
    /// Change events served by sync after the fetch, in order.
    pub changes: Vec<Device>,
    /// Errors the next calls return instead of answering (one each).
    pub errors: VecDeque<AppleError>,
    /// Errors returned by call number n (1-based, counting every call so far).
    pub fail_at: BTreeMap<usize, AppleError>,
    /// Begins this shutdown when call number n is answered (a shutdown arriving mid-run).
    pub stop_at: Option<(usize, Background)>,
    /// Call number n answers only once this semaphore has a permit (a slow Apple).
    pub hold_at: Option<(usize, Arc<tokio::sync::Semaphore>)>,
    /// Per-serial assignment results (default `SUCCESS`).
    pub outcomes: BTreeMap<String, DeviceStatus>,
    /// `retry_after_seconds` of assignment answers.
    pub retry_after: Option<u64>,
    /// Every call, e.g. `fetch -`, `sync s3`, `assign P1 [A, B]`.
    pub calls: Vec<String>,
    profiles_defined: usize,
}

/// The fake Apple: its own connector, and every client it hands out shares its state.
#[derive(Clone, Default)]
pub struct FakeApple(Arc<Mutex<AppleState>>);

impl FakeApple {
    /// The state (a poisoned lock is still readable: a test panicked elsewhere).
    pub fn state(&self) -> MutexGuard<'_, AppleState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The calls so far whose text starts with `prefix`.
    pub fn calls(&self, prefix: &str) -> Vec<String> {
        let state = self.state();
        state
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn answer<T: Send + 'static>(
        &self,
        call: String,
        ok: impl FnOnce(&mut AppleState) -> T,
    ) -> BoxFuture<'static, Result<T, AppleError>> {
        let mut state = self.state();
        state.calls.push(call);
        let n = state.calls.len();
        if let Some((_, bg)) = state.stop_at.take_if(|(at, _)| *at == n) {
            bg.begin_shutdown();
        }
        let hold = state
            .hold_at
            .take_if(|(at, _)| *at == n)
            .map(|(_, gate)| gate);
        let answer = match state
            .fail_at
            .remove(&n)
            .or_else(|| state.errors.pop_front())
        {
            Some(e) => Err(e),
            None => Ok(ok(&mut state)),
        };
        Box::pin(async move {
            if let Some(gate) = hold {
                let _ = gate
                    .acquire()
                    .await
                    .map(tokio::sync::SemaphorePermit::forget);
            }
            answer
        })
    }
}

/// Cursors are `f<offset>` during the fetch and `s<offset>` into the changes afterwards.
fn page_of(items: &[Device], from: usize, size: usize, prefix: char) -> DevicePage {
    let end = (from + size.max(1)).min(items.len());
    DevicePage {
        devices: items[from.min(end)..end].to_vec(),
        cursor: format!("{prefix}{end}"),
        more_to_follow: end < items.len(),
        fetched_until: None,
    }
}

fn offset(cursor: &str) -> usize {
    cursor[1..].parse().unwrap_or(0)
}

impl DepApi for FakeApple {
    fn account(&self) -> BoxFuture<'_, Result<Account, AppleError>> {
        self.answer("account".into(), |_| {
            serde_json::from_value(json!({"server_name": "fake", "server_uuid": "F00"}))
                .unwrap_or_else(|e| panic!("account: {e}"))
        })
    }

    fn fetch_devices<'a>(
        &'a self,
        cursor: Option<&'a str>,
        _limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        let call = format!("fetch {}", cursor.unwrap_or("-"));
        let from = cursor.map_or(0, offset);
        self.answer(call, |s| {
            let page = page_of(&s.devices, from, s.page, 'f');
            if page.more_to_follow {
                page
            } else {
                // The fetch's last cursor continues with the changes made after it.
                DevicePage {
                    cursor: format!("s{}", s.changes.len()),
                    ..page
                }
            }
        })
    }

    fn sync_devices<'a>(
        &'a self,
        cursor: &'a str,
        _limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        self.answer(format!("sync {cursor}"), |s| {
            page_of(&s.changes, offset(cursor), s.page, 's')
        })
    }

    fn define_profile<'a>(
        &'a self,
        profile: &'a DepProfile,
    ) -> BoxFuture<'a, Result<DefineProfileResponse, AppleError>> {
        self.answer(format!("define {}", profile.profile_name), |s| {
            s.profiles_defined += 1;
            DefineProfileResponse {
                profile_uuid: format!("P{}", s.profiles_defined),
                devices: SerialResults::new(),
            }
        })
    }

    fn assign_profile<'a>(
        &'a self,
        profile_uuid: &'a str,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<AssignProfileResponse, AppleError>> {
        let call = format!("assign {profile_uuid} {}", serials.len());
        self.answer(call, |s| AssignProfileResponse {
            profile_uuid: profile_uuid.to_owned(),
            devices: serials
                .iter()
                .map(|serial| {
                    let status = s.outcomes.get(serial).copied();
                    (serial.clone(), status.unwrap_or(DeviceStatus::Success))
                })
                .collect(),
            retry_after_seconds: s.retry_after,
        })
    }

    fn disown<'a>(
        &'a self,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<SerialResults, AppleError>> {
        self.answer(format!("disown {}", serials.len()), |_| {
            serials
                .iter()
                .map(|s| (s.clone(), DeviceStatus::Success))
                .collect()
        })
    }

    fn requests_made(&self) -> u64 {
        u64::try_from(self.state().calls.len()).unwrap_or(u64::MAX)
    }
}

impl AppleConnector for FakeApple {
    fn connect(&self, _: ServerTokenCredentials, _: ClientOptions) -> Arc<dyn DepApi> {
        Arc::new(self.clone())
    }
}

/// A device as Apple lists it.
/// The enrollment URL template of [`TestEnv`]'s services.
pub const ENROLLMENT_URL: &str = "https://mdm.example.com/enroll/{tokenId}/{profileId}";

pub fn device(serial: &str, op: Option<&str>) -> Device {
    serde_json::from_value(
        json!({"serial_number": serial, "op_type": op, "device_family": "iPhone"}),
    )
    .unwrap_or_else(|e| panic!("device: {e}"))
}

/// Services over a fresh SQLite database, the fake Apple and a fake clock, with one tenant
/// whose setting holds a server token.
pub struct Env {
    /// The services under test.
    pub svc: Services,
    /// Apple.
    pub apple: FakeApple,
    /// Time.
    pub clock: Arc<FakeClock>,
    /// The tenant.
    pub tenant: TenantId,
    /// The setting holding the token.
    pub setting: SettingId,
    dir: std::path::PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Env {
    /// A new environment; `configure` adjusts the services (intervals, lease) first.
    pub async fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("dep-gateway-unit-{}", Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()), 2)
            .unwrap_or_else(|e| panic!("database: {e}"));
        let migrate = db.clone();
        tokio::task::spawn_blocking(move || migrate.migrate())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("migrations: {e}"));
        let (apple, clock) = (FakeApple::default(), Arc::new(FakeClock::default()));
        apple.state().page = 2;
        let svc = Services {
            db,
            paging_key: PagingKey([7; 32]),
            max_page_size: 100,
            max_dep_tokens: 10,
            secrets: Arc::new(crate::crypto::SecretBox::new([9; 32])),
            apple: Arc::new(apple.clone()),
            clock: clock.clone(),
            background: Background::new(),
            lease_secs: 30,
            sync_interval_secs: 3600,
            assign_retry_secs: 60,
            enrollment_url: Some(
                crate::domain::enrollment_url::EnrollmentUrl::parse(ENROLLMENT_URL)
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
            metrics: Arc::new(crate::telemetry::Metrics::new()),
            token_warnings: crate::config::TokenWarningSettings::default(),
            notifications: crate::config::NotificationSettings::default(),
            spans: crate::telemetry::Spans::off(),
        };
        let env = Self {
            svc,
            apple,
            clock,
            tenant: TenantId::new(Uuid::new_v4()),
            setting: SettingId::from(Uuid::new_v4().to_string()),
            dir,
        };
        env.hold_token().await;
        env
    }

    /// Creates the setting holding a token (credentials sealed as the upload seals them).
    async fn hold_token(&self) {
        let (tenant, id) = (self.tenant, self.setting.clone());
        let now = crate::clock::Clock::now_ticks(self.clock.as_ref());
        let creds =
            ServerTokenCredentials::generate(chrono::Utc::now() + chrono::Duration::days(300));
        let sealed = self.svc.secrets.seal(
            &format!("{tenant}/{id}/credentials"),
            &serde_json::to_vec(&creds).unwrap_or_default(),
        );
        self.svc
            .db
            .write(tenant, self.svc.clock.now_ticks(), move |c| {
                onboarding_settings::insert(
                    c,
                    tenant,
                    &OnboardingSetting::new(id.to_string(), now),
                    now,
                )?;
                let held = HeldToken {
                    setting_id: id.to_string(),
                    server_uuid: "F00".into(),
                    server_name: Some("fake".into()),
                    credentials: sealed,
                    access_token_expiry: now,
                };
                apple_tokens::put_held(c, tenant, &held, now).map_err(StorageError::from)
            })
            .await
            .unwrap_or_else(|e| panic!("seeding: {e}"));
    }

    /// Creates an iOS profile of the setting; returns its id.
    pub async fn profile(&self, name: &str) -> String {
        let id = format!("{}_{}", self.setting, Uuid::new_v4());
        let mut properties = Map::new();
        properties.insert("displayName".into(), Value::from(name));
        let record = profiles::ProfileRecord {
            id: id.clone(),
            odata_type: "depIOSEnrollmentProfile".into(),
            properties,
        };
        let (tenant, setting) = (self.tenant, self.setting.clone());
        self.svc
            .db
            .write(tenant, self.svc.clock.now_ticks(), move |c| {
                profiles::insert(c, tenant, &setting, &record, 0).map_err(StorageError::from)
            })
            .await
            .unwrap_or_else(|e| panic!("profile: {e}"));
        id
    }

    /// Runs `f` on a connection (for reading what the code under test stored).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::storage::DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    ) -> T {
        self.svc
            .db
            .run(move |c| f(c).map_err(StorageError::from))
            .await
            .unwrap_or_else(|e| panic!("reading: {e}"))
    }

    /// Moves the fake clock forward.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
}
