//! How far a long piece of work (a check, a backup) has come, for a progress bar.
//!
//! The worker adds to `done` (and, as it learns more, to `total`); another thread reads both
//! whenever it likes. The numbers are only ever shown to people, so they may be read slightly
//! out of step with each other.

use std::sync::atomic::{AtomicU64, Ordering};

/// Units done out of a total (bytes for a check, versions for a backup).
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// Nothing done, nothing known yet.
    pub fn new() -> Self {
        Progress::default()
    }

    /// Units done so far.
    pub fn done(&self) -> u64 {
        // ORDERING: Relaxed: a display value; nothing is published through it.
        self.done.load(Ordering::Relaxed)
    }

    /// The total as far as it is known (0 = not known yet).
    pub fn total(&self) -> u64 {
        // ORDERING: Relaxed: a display value; nothing is published through it.
        self.total.load(Ordering::Relaxed)
    }

    pub(crate) fn advance(&self, n: u64) {
        // ORDERING: Relaxed: a display value; nothing is published through it.
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_total(&self, n: u64) {
        // ORDERING: Relaxed: a display value; nothing is published through it.
        self.total.store(n, Ordering::Relaxed);
    }
}
