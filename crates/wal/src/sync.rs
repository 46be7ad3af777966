//! Every atomic and lock of the crate comes through here, so a model checker (loom) can be
//! swapped in later in one place.

pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

/// Locks `mutex`, ignoring poisoning: the data behind the crate's mutexes stays consistent
/// even if a holder panicked (they guard `()` or an `Option<JoinHandle>`).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
