//! Injectable time and event ids, so tests (and the conformance driver) can fix both.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// A source of "now" in milliseconds since the epoch (for `dtm` and `stm`).
pub trait Clock: Send + Sync {
    /// The current time in milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        #[cfg(feature = "mutants")]
        if crate::mutant::active("rust-dtm-in-seconds") {
            return ms / 1000;
        }
        ms
    }
}

/// A clock that says what it was last set to (tests, replays).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock reading `ms`.
    pub fn new(ms: u64) -> Self {
        ManualClock(AtomicU64::new(ms))
    }

    /// Moves the clock to `ms`.
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A source of event ids (`eid`).
pub trait EventIdFactory: Send + Sync {
    /// The id of the next event.
    fn next_id(&self) -> Uuid;
}

/// Random (version 4) UUIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl EventIdFactory for RandomIds {
    fn next_id(&self) -> Uuid {
        Uuid::new_v4()
    }
}

impl<F: Fn() -> Uuid + Send + Sync> EventIdFactory for F {
    fn next_id(&self) -> Uuid {
        self()
    }
}
