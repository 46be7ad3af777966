//! The thread-local pool of global-domain records behind [`HazardPointer::local`].
//!
//! A thread keeps up to [`POOL`] records it acquired. Taking one is a thread-local pop (no scan
//! of the domain's list); giving one back a push. When the thread exits, the pool's destructor
//! releases its records so other threads reuse them: the domain does not grow with thread churn.

use std::cell::Cell;
use std::ptr;

use crate::domain::Record;
use crate::{Domain, HazardPointer};

/// Records a thread keeps for reuse: enough for nested reads (a scan callback that reads).
const POOL: usize = 8;

struct Pool {
    records: [Cell<*const Record>; POOL],
    len: Cell<usize>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        for slot in &self.records[..self.len.get()] {
            // SAFETY: pooled records belong to the global domain, which is never freed.
            unsafe { (*slot.get()).release() };
        }
        self.len.set(0);
    }
}

thread_local! {
    static LOCAL: Pool = const {
        Pool { records: [const { Cell::new(ptr::null()) }; POOL], len: Cell::new(0) }
    };
}

impl HazardPointer<'static> {
    /// A hazard pointer of [`Domain::global`], from this thread's pool when it has one (no scan)
    /// or acquired from the domain. Dropping it clears the hazard and returns the record to the
    /// pool; the pool releases its records when the thread exits.
    pub fn local() -> HazardPointer<'static> {
        let pooled = LOCAL
            .try_with(|pool| {
                let len = pool.len.get();
                if len == 0 {
                    return None;
                }
                pool.len.set(len - 1);
                Some(pool.records[len - 1].get())
            })
            .ok()
            .flatten();
        let record = match pooled {
            // SAFETY: pooled records belong to the global domain, which is never freed.
            Some(record) => unsafe { &*record },
            None => Domain::global().acquire_record(),
        };
        HazardPointer::pooled(record)
    }
}

/// Keeps `record` in this thread's pool; false when the pool is full or already destroyed (the
/// caller then releases the record to the domain).
/// `record` must belong to the global domain.
pub(crate) fn give_back(record: *const Record) -> bool {
    LOCAL
        .try_with(|pool| {
            let len = pool.len.get();
            if len == POOL {
                return false;
            }
            pool.records[len].set(record);
            pool.len.set(len + 1);
            true
        })
        .unwrap_or(false)
}
