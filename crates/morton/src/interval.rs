//! The interval table: which extents hold versions in which part of key x time space.
//!
//! The table is an immutable [`TableSnapshot`] behind a crossbeam-epoch atomic pointer. Readers
//! pin the epoch just long enough to clone the snapshot's `Arc` and never block; a flush or a
//! compaction builds a new snapshot (copy-on-write) and swaps it in with compare-and-swap, and
//! the old one is destroyed once every reader pinned before the swap has moved on. Readers
//! that cloned the `Arc` keep their snapshot, and its extents, alive for as long as they need.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_epoch::{self as epoch, Atomic, Owned};

use crate::{Extent, ZRect};

/// Where one extent lives and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtentInfo {
    /// Unique, increasing id (newer extents have larger ids).
    pub id: u64,
    /// Its region of the data file.
    pub extent: Extent,
    /// Smallest and largest Morton-T code of the versions it holds.
    pub z_min: u128,
    /// See `z_min`.
    pub z_max: u128,
    /// Smallest and largest key it holds.
    pub key_min: Box<[u8]>,
    /// See `key_min`.
    pub key_max: Box<[u8]>,
    /// Oldest and newest commit timestamp it holds.
    pub ts_min: u64,
    /// See `ts_min`.
    pub ts_max: u64,
}

impl ExtentInfo {
    /// True when the extent's bounding box meets keys `[key_lo, key_hi]` (None = unbounded) and
    /// timestamps `[ts_lo, ts_hi]`.
    pub fn overlaps(
        &self,
        key_lo: Option<&[u8]>,
        key_hi: Option<&[u8]>,
        ts_lo: u64,
        ts_hi: u64,
    ) -> bool {
        self.ts_max >= ts_lo
            && self.ts_min <= ts_hi
            && key_lo.is_none_or(|lo| &*self.key_max >= lo)
            && key_hi.is_none_or(|hi| &*self.key_min <= hi)
    }

    /// True when the extent's Morton range meets the rectangle's.
    pub fn meets(&self, rect: &ZRect) -> bool {
        self.z_max >= rect.min && self.z_min <= rect.max
    }
}

/// One immutable version of the table: extents ordered by `(z_min, id)`. `T` is what the table
/// stores per extent: the bare [`ExtentInfo`], or the engine's open extent that carries one.
#[derive(Debug)]
pub struct TableSnapshot<T = ExtentInfo> {
    extents: Vec<Arc<T>>,
}

impl<T> Default for TableSnapshot<T> {
    fn default() -> Self {
        TableSnapshot {
            extents: Vec::new(),
        }
    }
}

impl<T> Clone for TableSnapshot<T> {
    fn clone(&self) -> Self {
        TableSnapshot {
            extents: self.extents.clone(),
        }
    }
}

impl AsRef<ExtentInfo> for ExtentInfo {
    fn as_ref(&self) -> &ExtentInfo {
        self
    }
}

impl<T: AsRef<ExtentInfo>> TableSnapshot<T> {
    /// A snapshot listing `extents` (in any order).
    pub fn new(mut extents: Vec<Arc<T>>) -> Self {
        extents.sort_by_key(|e| {
            let info = (**e).as_ref();
            (info.z_min, info.id)
        });
        TableSnapshot { extents }
    }

    /// Every extent, by `(z_min, id)`.
    pub fn extents(&self) -> &[Arc<T>] {
        &self.extents
    }

    /// The extents whose bounding box meets the query; the others are pruned without reading.
    pub fn overlapping<'a>(
        &'a self,
        key_lo: Option<&'a [u8]>,
        key_hi: Option<&'a [u8]>,
        ts_lo: u64,
        ts_hi: u64,
    ) -> impl Iterator<Item = &'a Arc<T>> + 'a {
        self.extents
            .iter()
            .filter(move |e| (***e).as_ref().overlaps(key_lo, key_hi, ts_lo, ts_hi))
    }

    /// This snapshot with `added` extents and without the ids in `removed`.
    pub fn with_changes(&self, added: &[Arc<T>], removed: &[u64]) -> TableSnapshot<T> {
        let mut extents: Vec<Arc<T>> = self
            .extents
            .iter()
            .filter(|e| !removed.contains(&(***e).as_ref().id))
            .cloned()
            .collect();
        extents.extend(added.iter().cloned());
        TableSnapshot::new(extents)
    }
}

/// The live interval table; see the module docs. The engine keeps its whole read view (the
/// memtables and a [`TableSnapshot`] of its extents) in one [`EpochCell`], so that a flush
/// publishes "memtable gone, extents added" as one step.
pub type IntervalTable<T = ExtentInfo> = EpochCell<TableSnapshot<T>>;

/// An immutable value behind a crossbeam-epoch atomic pointer, replaced copy-on-write.
#[derive(Debug)]
pub struct EpochCell<S> {
    current: Atomic<Arc<S>>,
}

impl<S> EpochCell<S> {
    /// A cell holding `value`.
    pub fn new(value: S) -> Self {
        EpochCell {
            current: Atomic::new(Arc::new(value)),
        }
    }

    /// Runs `f` on the current value without touching its reference count: the epoch stays
    /// pinned while `f` runs, so keep `f` short (a point read, not an iteration a caller drives).
    pub fn with<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        self.with_arc(|value| f(value))
    }

    fn with_arc<R>(&self, f: impl FnOnce(&Arc<S>) -> R) -> R {
        let guard = epoch::pin();
        // ORDERING: Acquire, pairs with the Release of the successful CAS in `update`: the
        // value's contents were written before it was published.
        let current = self.current.load(Ordering::Acquire, &guard);
        // SAFETY: `current` is never null (set in `new`, only ever replaced by non-null values)
        // and is not destroyed while `guard` pins the epoch in which we loaded it.
        f(unsafe { current.deref() })
    }

    /// The current value. Never blocks; the result stays valid however long it is kept.
    pub fn load(&self) -> Arc<S> {
        self.with_arc(Arc::clone)
    }

    /// Replaces the value with `change(current)`, retrying if another update got in first
    /// (so `change` may run more than once and must not have side effects).
    pub fn update(&self, mut change: impl FnMut(&S) -> S) {
        let guard = epoch::pin();
        loop {
            // ORDERING: Acquire, as in `with`.
            let current = self.current.load(Ordering::Acquire, &guard);
            // SAFETY: non-null and protected by `guard`, as in `with`.
            let next = Owned::new(Arc::new(change(unsafe { current.deref() })));
            // ORDERING: Release on success publishes the new value to `with`'s Acquire (AcqRel
            // so a retry sees the competing update); Acquire on failure to read the winner.
            match self.current.compare_exchange(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
                &guard,
            ) {
                Ok(_) => {
                    // SAFETY: `current` is unlinked by the successful CAS, so no new reader can
                    // reach it; readers pinned before the swap are waited for by the epoch.
                    unsafe { guard.defer_destroy(current) };
                    // Updates are rare and the values may own a lot (a view owns memtables):
                    // hand the garbage to the global queue now instead of letting it wait in
                    // this thread's bag until 64 more deferrals fill it.
                    guard.flush();
                    return;
                }
                Err(_) => continue,
            }
        }
    }
}

/// Nudges crossbeam-epoch to destroy replaced values now rather than at some later pin: a few
/// pin-and-flush rounds advance the global epoch past the replacement when no reader is
/// pinned. Callers that free resources when an old value goes (compaction freeing regions) call
/// it after `update`; it is only a hint, never needed for safety.
pub fn collect_garbage() {
    for _ in 0..4 {
        epoch::pin().flush();
    }
}

impl<S> Drop for EpochCell<S> {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no reader or updater remains; the pointer is non-null and
        // owned by the cell.
        unsafe {
            let guard = epoch::unprotected();
            // ORDERING: Relaxed: `&mut self` is exclusive; no other thread can store to it.
            drop(self.current.load(Ordering::Relaxed, guard).into_owned());
        }
    }
}

#[cfg(test)]
mod reclaim_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            // ORDERING: Relaxed: a counter read by the same thread after the drops.
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn replaced_values_are_dropped_after_collect_garbage() {
        let cell = EpochCell::new(Counted);
        for _ in 0..5 {
            cell.update(|_| Counted);
        }
        collect_garbage();
        // ORDERING: Relaxed, as above.
        assert_eq!(DROPS.load(Ordering::Relaxed), 5);
    }
}
