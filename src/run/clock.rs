//! The run's clock. A run's `now` ([`super::RunOptions::now`]) is the time it reasons about
//! (deadlines, retry times, what is due); the [`Clock`] stamps when things actually happened
//! during the run (a message accepted, the run finished), which is later than `now` on a slow
//! run. Reading it through a trait keeps wall-clock reads out of the run's code, so tests and
//! replays can fix it.

use jiff::Timestamp;

/// Where a run reads the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (what the binary uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock stopped at one time (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
