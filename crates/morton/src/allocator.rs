//! The extent allocator: where in the data file a flush or compaction writes.
//!
//! Space is handed out in power-of-two size classes from 4 KiB up: an atomic bump pointer
//! extends the file, and a lock-free free list per class (crossbeam SegQueue) recycles extents
//! that compaction released. Concurrent flushes and compactions each get their own regions, so
//! writers never take a lock on the file. Rounding up to a class wastes at most half of an
//! extent; flushes write extents of a fixed target size, so in practice little is lost, and
//! class-exact reuse keeps the free list O(1) with no fragmentation search.
//!
//! Releasing an extent is the caller's promise that no reader can still read it: the engine
//! releases only after the interval table no longer lists it and the epoch has moved on.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

/// The smallest extent, as a power of two (4 KiB: one page).
pub const MIN_CLASS_BITS: u32 = 12;
/// The largest extent, as a power of two (1 TiB).
pub const MAX_CLASS_BITS: u32 = 40;
const CLASSES: usize = (MAX_CLASS_BITS - MIN_CLASS_BITS + 1) as usize;

/// A region of the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Extent {
    /// Byte offset in the data file.
    pub offset: u64,
    /// Length in bytes (a power of two, at least 4 KiB).
    pub len: u64,
}

/// Hands out extents of the data file; see the module docs.
#[derive(Debug)]
pub struct ExtentAllocator {
    /// The end of the allocated part of the file. Padded: every allocation that misses the free
    /// list touches it.
    end: CachePadded<AtomicU64>,
    free: Vec<SegQueue<u64>>,
}

impl ExtentAllocator {
    /// An allocator for a file whose allocated part ends at `end` (a multiple of 4 KiB), with
    /// `free` extents available for reuse (both as recorded in the manifest).
    pub fn new(end: u64, free: impl IntoIterator<Item = Extent>) -> Self {
        let allocator = ExtentAllocator {
            end: CachePadded::new(AtomicU64::new(end)),
            free: (0..CLASSES).map(|_| SegQueue::new()).collect(),
        };
        for extent in free {
            allocator.release(extent);
        }
        allocator
    }

    /// An extent of at least `len` bytes; `None` when `len` is over the largest class.
    pub fn allocate(&self, len: u64) -> Option<Extent> {
        let class = class_of(len)?;
        let size = 1u64 << (class as u32 + MIN_CLASS_BITS);
        if let Some(offset) = self.free[class].pop() {
            return Some(Extent { offset, len: size });
        }
        // ORDERING: Relaxed: the counter only partitions the file; each caller gets a disjoint
        // range whatever the order, and nothing else is published through it.
        let offset = self.end.fetch_add(size, Ordering::Relaxed);
        Some(Extent { offset, len: size })
    }

    /// Makes `extent` available again. The caller guarantees no reader still uses it.
    ///
    /// # Panics
    /// If `extent.len` is not a size this allocator hands out (a caller bug, not bad input).
    pub fn release(&self, extent: Extent) {
        let class = class_of(extent.len)
            .filter(|&c| 1u64 << (c as u32 + MIN_CLASS_BITS) == extent.len)
            .expect("released extents come from this allocator");
        self.free[class].push(extent.offset);
    }

    /// The end of the allocated part of the file (for the manifest).
    pub fn end(&self) -> u64 {
        // ORDERING: Relaxed: a snapshot for the manifest, taken while no allocation runs.
        self.end.load(Ordering::Relaxed)
    }
}

/// The size class of `len`: the index of the smallest power of two >= max(len, 4 KiB).
fn class_of(len: u64) -> Option<usize> {
    let bits = len
        .max(1 << MIN_CLASS_BITS)
        .next_power_of_two()
        .trailing_zeros();
    (len <= 1 << MAX_CLASS_BITS).then(|| (bits - MIN_CLASS_BITS) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    #[test]
    fn allocator_rounds_up_to_size_classes() {
        let a = ExtentAllocator::new(0, []);
        assert_eq!(
            a.allocate(1),
            Some(Extent {
                offset: 0,
                len: 4096
            })
        );
        assert_eq!(
            a.allocate(4097),
            Some(Extent {
                offset: 4096,
                len: 8192
            })
        );
        assert_eq!(a.end(), 4096 + 8192);
        assert_eq!(a.allocate((1 << 40) + 1), None);
    }

    #[test]
    fn allocator_reuses_released_extents_of_the_same_class() {
        let a = ExtentAllocator::new(0, []);
        let x = a.allocate(10_000).unwrap();
        a.release(x);
        assert_eq!(a.allocate(9_000), Some(x));
        assert_eq!(
            a.allocate(9_000).unwrap().offset,
            16384,
            "the free list is empty again"
        );
    }

    #[test]
    fn allocator_gives_disjoint_extents_to_concurrent_callers() {
        let a = Arc::new(ExtentAllocator::new(0, []));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let a = Arc::clone(&a);
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for n in 0..2_000u64 {
                        let e = a.allocate(4096 << ((n + i) % 3)).unwrap();
                        if n % 3 == 0 {
                            a.release(e);
                        } else {
                            mine.push(e);
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<Extent> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        all.sort();
        for pair in all.windows(2) {
            assert!(
                pair[0].offset + pair[0].len <= pair[1].offset,
                "overlap: {pair:?}"
            );
        }
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
    }
}
