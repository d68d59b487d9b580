//! The time seam of background work: a [`Clock`] says what time it is (in Graph ticks, see
//! [`crate::domain::time`]) and waits until a time. Production uses [`SystemClock`]; tests use
//! [`testing::FakeClock`], which stands still until advanced by hand, so sync, assignment
//! retries, backoff and lease expiry are tested in milliseconds without sleeping.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::domain::time::{duration_to_ticks, now_ticks, ticks_to_duration};

/// A source of the current time and of waits. Shared as `Arc<dyn Clock>`.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in ticks (100 ns since the Unix epoch).
    fn now_ticks(&self) -> i64;

    /// Completes once the clock reads `ticks` or later (at once if it already does).
    fn sleep_until(&self, ticks: i64) -> BoxFuture<'static, ()>;

    /// Completes once `d` has passed on this clock.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.sleep_until(self.now_ticks().saturating_add(duration_to_ticks(d)))
    }
}

/// The wall clock, waiting with tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ticks(&self) -> i64 {
        now_ticks()
    }

    fn sleep_until(&self, ticks: i64) -> BoxFuture<'static, ()> {
        let wait = ticks_to_duration(ticks.saturating_sub(now_ticks()));
        Box::pin(tokio::time::sleep(wait))
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Test clocks. Public (not behind a feature) so the API tests can drive a client's backoff too.
pub mod testing {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::future::BoxFuture;
    use tokio::sync::watch;

    use super::Clock;
    use crate::domain::time::duration_to_ticks;

    /// A clock that moves only when told to. Waits complete when [`FakeClock::advance`] (or
    /// [`FakeClock::set_ticks`]) reaches their deadline; [`FakeClock::sleepers`] says how many
    /// tasks are waiting on it, so a test can wait for a task to reach its wait before advancing.
    #[derive(Debug)]
    pub struct FakeClock {
        now: watch::Sender<i64>,
        sleepers: Arc<AtomicUsize>,
    }

    /// Decrements the waiting count however the wait ends (completed or dropped).
    struct Sleeping(Arc<AtomicUsize>);

    impl Drop for Sleeping {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl FakeClock {
        /// A clock reading `ticks`.
        pub fn at(ticks: i64) -> Self {
            Self {
                now: watch::channel(ticks).0,
                sleepers: Arc::new(AtomicUsize::new(0)),
            }
        }

        /// Moves the clock forward by `d`, waking the waits that are then due.
        pub fn advance(&self, d: Duration) {
            let step = duration_to_ticks(d);
            self.now.send_modify(|now| *now = now.saturating_add(step));
        }

        /// Sets the clock to `ticks` (never backwards: an earlier value is ignored).
        pub fn set_ticks(&self, ticks: i64) {
            self.now.send_if_modified(|now| {
                let later = ticks > *now;
                if later {
                    *now = ticks;
                }
                later
            });
        }

        /// How many waits on this clock are pending (polled at least once, not yet complete).
        pub fn sleepers(&self) -> usize {
            self.sleepers.load(Ordering::SeqCst)
        }
    }

    impl Default for FakeClock {
        /// A clock at 2026-01-01T00:00:00Z.
        fn default() -> Self {
            Self::at(crate::domain::time::secs_to_ticks(1_767_225_600))
        }
    }

    impl Clock for FakeClock {
        fn now_ticks(&self) -> i64 {
            *self.now.borrow()
        }

        fn sleep_until(&self, ticks: i64) -> BoxFuture<'static, ()> {
            let mut now = self.now.subscribe();
            let sleepers = Arc::clone(&self.sleepers);
            Box::pin(async move {
                sleepers.fetch_add(1, Ordering::SeqCst);
                let _counted = Sleeping(sleepers);
                // `changed` fails only when the clock is gone: nothing could wake us then.
                while *now.borrow_and_update() < ticks {
                    if now.changed().await.is_err() {
                        return;
                    }
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::testing::FakeClock;
    use super::*;
    use crate::domain::time::secs_to_ticks;

    #[tokio::test]
    async fn a_fake_wait_completes_only_once_the_clock_reaches_it() {
        let clock = Arc::new(FakeClock::at(0));
        let wait = tokio::spawn(clock.sleep(Duration::from_secs(10)));
        while clock.sleepers() == 0 {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!wait.is_finished(), "woke a second early");
        assert_eq!(clock.sleepers(), 1);
        clock.advance(Duration::from_secs(1));
        wait.await.unwrap();
        assert_eq!(clock.sleepers(), 0);
        assert_eq!(clock.now_ticks(), secs_to_ticks(10));
        clock.set_ticks(5);
        assert_eq!(clock.now_ticks(), secs_to_ticks(10), "never backwards");
        clock.sleep_until(0).await;
    }
}
