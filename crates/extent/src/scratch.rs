//! Per-thread buffers for reads: a decompressed block, the key being rebuilt, and what scans
//! carry from block to block. Reusing them keeps a point read free of allocations.

use std::cell::RefCell;

/// Buffers larger than this are dropped after a read rather than kept for the thread's life
/// (a block holding one huge value should not pin its memory).
const KEEP_BYTES: usize = 1 << 20;

#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// A decompressed block payload.
    pub raw: Vec<u8>,
    /// The key of the group being read.
    pub key: Vec<u8>,
    /// A forward scan's key whose versions continue into the next block, and the newest
    /// qualifying value seen so far.
    pub held_key: Vec<u8>,
    pub held_value: Vec<u8>,
    /// A reverse scan's block: every group's key back to back, and per group what it yields.
    pub rev_keys: Vec<u8>,
    pub rev_groups: Vec<RevGroup>,
    /// A reverse scan's key already answered from a later block.
    pub done_key: Vec<u8>,
}

/// One group of a block a reverse scan has read forward and now yields backward.
#[derive(Debug, Clone)]
pub(crate) struct RevGroup {
    /// End of its key in `rev_keys` (it starts where the previous group's ends).
    pub key_end: usize,
    /// Its newest version at or before the scan's time: (ts, value's range in the payload,
    /// `None` for a tombstone).
    pub version: Option<(u64, Option<std::ops::Range<usize>>)>,
    /// Whether it is the block's first group (its key may continue from the block before).
    pub first: bool,
}

impl Scratch {
    fn trim(&mut self) {
        for buf in [
            &mut self.raw,
            &mut self.key,
            &mut self.held_key,
            &mut self.held_value,
            &mut self.rev_keys,
        ] {
            if buf.capacity() > KEEP_BYTES {
                *buf = Vec::new();
            }
        }
        if self.rev_groups.capacity() > KEEP_BYTES / 32 {
            self.rev_groups = Vec::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers. A read started from inside another read's
/// callback on the same thread (or during thread teardown) gets fresh buffers instead.
pub(crate) fn with<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let shared = SCRATCH.try_with(|cell| {
        let mut scratch = cell.try_borrow_mut().ok()?;
        let out = (f.take().expect("not yet called"))(&mut scratch);
        scratch.trim();
        Some(out)
    });
    match shared {
        Ok(Some(out)) => out,
        _ => (f.take().expect("not yet called"))(&mut Scratch::default()),
    }
}
