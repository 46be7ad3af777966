//! The visible watermark: the newest commit timestamp readers may use as a snapshot.

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicU64, Ordering};

/// Publishes commits all at once: a committer stamps every version of a commit first, then
/// [`Watermark::publish`]es its timestamp; readers take [`Watermark::load`] as their snapshot (or
/// clamp theirs to it). A reader that sees the watermark at `ts` sees every version committed at
/// or below `ts`, and versions above it stay invisible even while they are being stamped — so a
/// reader never sees part of a transaction. Publish in timestamp order (one sequencer): the
/// watermark must not pass a commit whose versions are not all stamped.
///
/// The engine's watermark is its write-ahead log's acknowledged position, which follows this
/// same protocol (versions stamped before the record is queued; Release store of the position;
/// Acquire load by readers).
#[derive(Debug, Default)]
pub struct Watermark {
    ts: CachePadded<AtomicU64>,
}

impl Watermark {
    /// A watermark at `ts`.
    pub fn new(ts: u64) -> Self {
        Watermark {
            ts: CachePadded::new(AtomicU64::new(ts)),
        }
    }

    /// Makes every commit up to `ts` visible. Never moves backwards.
    pub fn publish(&self, ts: u64) {
        // ORDERING: Release, pairs with the Acquire in `load`: the stamps of every version
        // committed up to `ts` happen before a reader that sees `ts` reads them.
        self.ts.fetch_max(ts, Ordering::Release);
    }

    /// The newest visible commit timestamp.
    pub fn load(&self) -> u64 {
        // ORDERING: Acquire, pairs with the Release in `publish`.
        self.ts.load(Ordering::Acquire)
    }
}
