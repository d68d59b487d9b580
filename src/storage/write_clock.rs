//! The time of the write transaction running on this thread: [`super::Db::write`] sets it to the
//! caller's `now` (the services' injected clock) for the duration of the transaction, so that what
//! a change records alongside itself (its outbox rows) is dated by the same clock as the change,
//! without every repository function carrying a `now` it does not otherwise need.

use std::cell::Cell;

thread_local! {
    static NOW: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Runs `f` with `now` as the write's time on this thread (the previous value is restored,
/// also when `f` panics).
pub(crate) fn during<T>(now: i64, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<i64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            NOW.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(NOW.with(|c| c.replace(Some(now))));
    f()
}

/// The running write's time, or `None` outside [`super::Db::write`].
pub(crate) fn now() -> Option<i64> {
    NOW.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_inside_restored_after() {
        assert_eq!(now(), None);
        let inner = during(7, || (now(), during(9, now), now()));
        assert_eq!(inner, (Some(7), Some(9), Some(7)));
        assert_eq!(now(), None);
    }
}
