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
    pub fn overlaps(&self, key_lo: Option<&[u8]>, key_hi: Option<&[u8]>, ts_lo: u64, ts_hi: u64) -> bool {
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

/// One immutable version of the table: extents ordered by `(z_min, id)`.
#[derive(Debug, Clone, Default)]
pub struct TableSnapshot {
    extents: Vec<Arc<ExtentInfo>>,
}

impl TableSnapshot {
    /// A snapshot listing `extents` (in any order).
    pub fn new(mut extents: Vec<Arc<ExtentInfo>>) -> Self {
        extents.sort_by_key(|e| (e.z_min, e.id));
        TableSnapshot { extents }
    }

    /// Every extent, by `(z_min, id)`.
    pub fn extents(&self) -> &[Arc<ExtentInfo>] {
        &self.extents
    }

    /// The extents whose bounding box meets the query; the others are pruned without reading.
    pub fn overlapping<'a>(
        &'a self,
        key_lo: Option<&'a [u8]>,
        key_hi: Option<&'a [u8]>,
        ts_lo: u64,
        ts_hi: u64,
    ) -> impl Iterator<Item = &'a Arc<ExtentInfo>> + 'a {
        self.extents.iter().filter(move |e| e.overlaps(key_lo, key_hi, ts_lo, ts_hi))
    }

    /// This snapshot with `added` extents and without the ids in `removed`.
    pub fn with_changes(&self, added: &[Arc<ExtentInfo>], removed: &[u64]) -> TableSnapshot {
        let mut extents: Vec<Arc<ExtentInfo>> =
            self.extents.iter().filter(|e| !removed.contains(&e.id)).cloned().collect();
        extents.extend(added.iter().cloned());
        TableSnapshot::new(extents)
    }
}

/// The live interval table; see the module docs.
#[derive(Debug)]
pub struct IntervalTable {
    current: Atomic<Arc<TableSnapshot>>,
}

impl IntervalTable {
    /// A table starting from `snapshot` (as recorded in the manifest).
    pub fn new(snapshot: TableSnapshot) -> Self {
        IntervalTable { current: Atomic::new(Arc::new(snapshot)) }
    }

    /// The current snapshot. Never blocks; the result stays valid however long it is kept.
    pub fn load(&self) -> Arc<TableSnapshot> {
        let guard = epoch::pin();
        // ORDERING: Acquire, pairs with the Release of the successful CAS in `update`: the
        // snapshot's contents were written before it was published.
        let current = self.current.load(Ordering::Acquire, &guard);
        // SAFETY: `current` is never null (set in `new`, only ever replaced by non-null values)
        // and is not destroyed while `guard` pins the epoch in which we loaded it.
        Arc::clone(unsafe { current.deref() })
    }

    /// Replaces the snapshot with `change(current)`, retrying if another update got in first
    /// (so `change` may run more than once and must not have side effects).
    pub fn update(&self, mut change: impl FnMut(&TableSnapshot) -> TableSnapshot) {
        let guard = epoch::pin();
        loop {
            // ORDERING: Acquire, as in `load`.
            let current = self.current.load(Ordering::Acquire, &guard);
            // SAFETY: non-null and protected by `guard`, as in `load`.
            let next = Owned::new(Arc::new(change(unsafe { current.deref() })));
            // ORDERING: Release on success publishes the new snapshot to `load`'s Acquire (AcqRel
            // so a retry sees the competing update); Acquire on failure to read the winner.
            match self.current.compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire, &guard) {
                Ok(_) => {
                    // SAFETY: `current` is unlinked by the successful CAS, so no new reader can
                    // reach it; readers pinned before the swap are waited for by the epoch.
                    unsafe { guard.defer_destroy(current) };
                    return;
                }
                Err(_) => continue,
            }
        }
    }
}

impl Drop for IntervalTable {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no reader or updater remains; the pointer is non-null and
        // owned by the table.
        unsafe {
            let guard = epoch::unprotected();
            drop(self.current.load(Ordering::Relaxed, guard).into_owned());
        }
    }
}
