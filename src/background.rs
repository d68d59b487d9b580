//! Supervised background work of a gateway instance. [`Background`] owns the long-running
//! workers (the sync scheduler, the assignment worker) and the one-off tasks requests start
//! (a triggered sync, a profile push): a worker that panics is logged and restarted (counted in
//! [`Background::restarts`]); [`Background::shutdown`] asks everything to stop at its next safe
//! point (between pages and batches, never inside a transaction) and waits, bounded, until the
//! tasks have ended and released their leases.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// How long [`Background::shutdown`] waits for the work to reach a safe point by default.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A cheap, cloneable handle on the instance's background work.
#[derive(Debug, Clone)]
pub struct Background {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `true` once shutdown began.
    stop: watch::Sender<bool>,
    /// Tasks running (workers and one-off tasks).
    running: watch::Sender<usize>,
    /// Worker restarts after a panic, for the metrics endpoint to export.
    restarts: AtomicU64,
    /// Rounds completed by the workers (for tests that wait for "one more round").
    rounds: AtomicU64,
}

/// Counts a task as running until dropped, however it ends.
struct Running(Arc<Inner>);

impl Running {
    fn new(inner: &Arc<Inner>) -> Self {
        inner.running.send_modify(|n| *n += 1);
        Self(Arc::clone(inner))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Background {
    /// Nothing running, not stopping.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                stop: watch::channel(false).0,
                running: watch::channel(0).0,
                restarts: AtomicU64::new(0),
                rounds: AtomicU64::new(0),
            }),
        }
    }

    /// Whether shutdown began: work checks it at its safe points and winds down.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// Completes once shutdown begins (for `select!` against a worker's wait).
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.inner.stop.subscribe();
        async move {
            // An error means the handle is gone: nothing is left to stop.
            let _ = stop.wait_for(|s| *s).await;
        }
    }

    /// Worker restarts after a panic since start.
    pub fn restarts(&self) -> u64 {
        self.inner.restarts.load(Ordering::Relaxed)
    }

    /// Worker rounds completed since start (every worker's rounds together).
    pub fn rounds(&self) -> u64 {
        self.inner.rounds.load(Ordering::Relaxed)
    }

    /// Called by a worker after each round.
    pub fn round_done(&self) {
        self.inner.rounds.fetch_add(1, Ordering::Relaxed);
    }

    /// Tasks still running.
    pub fn running(&self) -> usize {
        *self.inner.running.borrow()
    }

    /// Runs a one-off task (unless shutdown began), counted until it ends so that shutdown
    /// waits for it. The task itself checks [`Self::is_stopping`] at its safe points.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        if self.is_stopping() {
            return;
        }
        let running = Running::new(&self.inner);
        tokio::spawn(async move {
            let _running = running;
            task.await;
        });
    }

    /// Runs a long-lived worker made by `make`: when it panics, the panic is logged, counted and
    /// a new one is started (after `pause`, so a worker that panics at once does not spin);
    /// when it returns, it is done (workers return once shutdown began).
    pub fn supervise<F, Fut>(&self, name: &'static str, pause: Duration, make: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let running = Running::new(&self.inner);
        let this = self.clone();
        tokio::spawn(async move {
            let _running = running;
            loop {
                match tokio::spawn(make()).await {
                    Ok(()) => return,
                    Err(e) if e.is_panic() && !this.is_stopping() => {
                        let restarts = this.inner.restarts.fetch_add(1, Ordering::Relaxed) + 1;
                        tracing::error!(
                            worker = name,
                            restarts,
                            "background worker panicked; restarting it"
                        );
                        tokio::select! {
                            () = tokio::time::sleep(pause) => {}
                            () = this.stopping() => return,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(worker = name, error = %e, "background worker ended");
                        return;
                    }
                }
            }
        });
    }

    /// Asks all work to stop at its next safe point, without waiting.
    pub fn begin_shutdown(&self) {
        self.inner.stop.send_replace(true);
    }

    /// Asks all work to stop at its next safe point and waits until every task ended or
    /// `timeout` passed; returns whether everything ended. Idempotent.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.begin_shutdown();
        let mut running = self.inner.running.subscribe();
        let ended = tokio::time::timeout(timeout, running.wait_for(|n| *n == 0)).await;
        let clean = matches!(ended, Ok(Ok(_)));
        if clean {
            tracing::info!("background work stopped");
        } else {
            tracing::warn!(
                running = self.running(),
                "background work did not stop in time; its leases will expire"
            );
        }
        clean
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test]
    async fn a_panicking_worker_is_restarted_and_shutdown_waits_for_the_work() {
        let bg = Background::new();
        let starts = Arc::new(AtomicUsize::new(0));
        let (counter, worker_bg) = (Arc::clone(&starts), bg.clone());
        bg.supervise("test", Duration::ZERO, move || {
            let (n, bg) = (counter.fetch_add(1, Ordering::SeqCst), worker_bg.clone());
            async move {
                assert!(n >= 2, "worker panic number {n}");
                bg.stopping().await;
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        bg.spawn(async move {
            let _ = rx.await;
        });
        while bg.restarts() < 2 || starts.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(bg.running(), 2);
        let shutting = tokio::spawn({
            let bg = bg.clone();
            async move { bg.shutdown(Duration::from_secs(30)).await }
        });
        while !bg.is_stopping() {
            tokio::task::yield_now().await;
        }
        // The one-off task is still running: shutdown waits for it.
        assert!(!shutting.is_finished());
        tx.send(()).unwrap();
        assert!(shutting.await.unwrap(), "everything ended");
        assert_eq!(bg.running(), 0);
        assert_eq!(bg.restarts(), 2);
        bg.spawn(async { panic!("not started after shutdown") });
        assert_eq!(bg.running(), 0);
    }
}
