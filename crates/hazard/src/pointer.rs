//! Hazard pointers: one record of a domain, owned by one reader at a time.

use std::ptr;

use crate::domain::Record;
use crate::sync::{fence, AtomicPtr, Ordering};

/// Owns one hazard record of a [`Domain`](crate::Domain) until dropped. While it protects a
/// pointer, the object behind it is not freed by the domain.
pub struct HazardPointer<'d> {
    record: &'d Record,
    /// Taken from (and given back to) the thread-local pool of the global domain.
    #[cfg(not(loom))]
    pooled: bool,
}

impl<'d> HazardPointer<'d> {
    pub(crate) fn new(record: &'d Record) -> Self {
        HazardPointer {
            record,
            #[cfg(not(loom))]
            pooled: false,
        }
    }

    #[cfg(not(loom))]
    pub(crate) fn pooled(record: &'d Record) -> Self {
        HazardPointer {
            record,
            pooled: true,
        }
    }

    /// Loads `src` and protects what it points to; returns the pointer (possibly null), which
    /// the caller may dereference until this hazard pointer protects something else, is reset or
    /// drops — provided the object is only freed through the domain after being unlinked from
    /// `src` (see [`Domain::retire`](crate::Domain::retire)).
    ///
    /// Publish, fence, re-read, retry: the pointer is returned only once a re-read of `src` after
    /// the fence still yields it.
    pub fn protect<T>(&mut self, src: &AtomicPtr<T>) -> *mut T {
        // ORDERING: Relaxed: this value is only published and compared, never dereferenced.
        let mut ptr = src.load(Ordering::Relaxed);
        loop {
            match self.try_protect(ptr, src) {
                Ok(ptr) => return ptr,
                Err(moved) => ptr = moved,
            }
        }
    }

    /// One round of [`HazardPointer::protect`]: publishes `ptr` and checks that `src` still
    /// holds it. `Ok(ptr)` may be dereferenced as after `protect`; `Err(current)` gives what
    /// `src` holds now (unprotected).
    pub fn try_protect<T>(&mut self, ptr: *mut T, src: &AtomicPtr<T>) -> Result<*mut T, *mut T> {
        // ORDERING: Release, pairs with the Acquire load of hazards in `Domain::reclaim`: our
        // reads of the object we protected before this one happen before a reclaimer that sees
        // this new value frees that object.
        self.record.hazard.store(ptr.cast(), Ordering::Release);
        // ORDERING: SeqCst, pairs with the SeqCst fence in `Domain::reclaim` (see there).
        fence(Ordering::SeqCst);
        // ORDERING: Acquire, pairs with the Release store or CAS that published `*ptr` into
        // `src`: its contents are visible before the caller dereferences it.
        let current = src.load(Ordering::Acquire);
        if current == ptr {
            Ok(ptr)
        } else {
            Err(current)
        }
    }

    /// DELIBERATELY BROKEN, for the loom model that proves the checker catches it: dereferences
    /// (through `deref`) before publishing the hazard and never re-reads the source — the
    /// use-after-free window the design notes warn about. Compiled only under `--cfg loom`.
    #[cfg(loom)]
    pub fn protect_after_deref<T, R>(
        &mut self,
        src: &AtomicPtr<T>,
        deref: impl FnOnce(*mut T) -> R,
    ) -> R {
        // ORDERING: Acquire, pairs with the Release that published `*ptr`.
        let ptr = src.load(Ordering::Acquire);
        let result = deref(ptr);
        // ORDERING: Release: as in try_protect (too late to matter).
        self.record.hazard.store(ptr.cast(), Ordering::Release);
        result
    }

    /// Stops protecting anything.
    pub fn reset(&mut self) {
        // ORDERING: Release, pairs with the Acquire load in `Domain::reclaim`: our reads of the
        // object happen before a reclaimer that sees null frees it.
        self.record.hazard.store(ptr::null_mut(), Ordering::Release);
    }
}

impl Drop for HazardPointer<'_> {
    fn drop(&mut self) {
        #[cfg(not(loom))]
        {
            // The thread's pool keeps a pooled record (still active) for its next hazard pointer.
            if self.pooled {
                self.reset();
                if crate::local::give_back(ptr::from_ref(self.record)) {
                    return;
                }
            }
        }
        self.record.release();
    }
}

impl std::fmt::Debug for HazardPointer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ORDERING: Relaxed: diagnostics only.
        let hazard = self.record.hazard.load(Ordering::Relaxed);
        f.debug_struct("HazardPointer")
            .field("protects", &hazard)
            .finish()
    }
}
