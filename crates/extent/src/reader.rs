//! Reading an extent: point reads as of a time, histories, full iteration and rectangles,
//! pruned by the block index (scans are in scan.rs).
//!
//! Every read opens the blocks it needs afresh: the block's crc32c is checked each time (the
//! bytes are a memory map another process could damage), its payload is decompressed into a
//! per-thread buffer and walked group by group, stopping as soon as the answer is known.

use std::cmp::Ordering as KeyOrder;
use std::fmt;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicU64, Ordering};

use chronokv_morton::{key_coordinate, ZRect};

use crate::block;
use crate::index::{self, BlockMeta};
use crate::scratch;
use crate::search::KeySearch;
use crate::walk::{Layout, Walker};
use crate::FormatError;

/// Blocks read and blocks skipped by their bounds, for stats() and for tests that prove pruning.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Blocks opened (checksummed and decoded, in full or in part).
    pub blocks_read: AtomicU64,
    /// Blocks a query could rule out from the index alone.
    pub blocks_skipped: AtomicU64,
}

impl ReadStats {
    pub(crate) fn read(&self) {
        // ORDERING: Relaxed: counters only; nothing is published through them.
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn skipped(&self, n: usize) {
        // ORDERING: Relaxed: counters only; nothing is published through them.
        self.blocks_skipped.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A version found by a point read, copied out of the extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    /// Its commit timestamp.
    pub ts: u64,
    /// Its value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A checked extent over bytes it owns or borrows: a `Vec<u8>`, an `Arc<[u8]>`, a memory map,
/// or a plain `&[u8]`. The footer and index are checked at open and the index kept decoded;
/// blocks are checked when read. `Send + Sync` when `B` is, so one reader can serve every
/// thread from behind an `Arc`.
pub struct ExtentReader<B> {
    bytes: B,
    pub(crate) blocks: Vec<BlockMeta>,
    search: KeySearch,
    /// How groups lay out their values (the extent's format version).
    pub(crate) layout: Layout,
    /// One bit per block: its crc passed once already. The bytes are immutable (the engine
    /// never rewrites a region while a reader maps it), so a block checked once stays checked,
    /// as in a block cache of verified blocks; this saves the crc (~40% of a point read).
    verified: Box<[AtomicU64]>,
}

impl<B> fmt::Debug for ExtentReader<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtentReader")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

impl<B: AsRef<[u8]>> ExtentReader<B> {
    /// Checks the footer and the index; blocks are checked when read.
    pub fn open(bytes: B) -> Result<Self, FormatError> {
        let (format, blocks) = index::decode(bytes.as_ref())?;
        let search = KeySearch::new(&blocks);
        let verified = (0..blocks.len().div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        Ok(ExtentReader {
            bytes,
            blocks,
            search,
            layout: Layout::of_format(format),
            verified,
        })
    }

    /// The block index.
    pub fn blocks(&self) -> &[BlockMeta] {
        &self.blocks
    }

    /// The extent's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// Gives the bytes back.
    pub fn into_inner(self) -> B {
        self.bytes
    }

    /// Opens block `i` (checking its crc, decompressing into `raw`) and starts a walk of it.
    pub(crate) fn walk<'s, 'k>(
        &'s self,
        i: usize,
        raw: &'s mut Vec<u8>,
        key: &'k mut Vec<u8>,
        stats: &ReadStats,
    ) -> Result<Walker<'s, 'k>, FormatError> {
        let meta = &self.blocks[i];
        // In range: index::decode checked that the blocks tile the extent up to the index.
        let (offset, len) = self.search.span(i);
        let (start, end) = (offset as usize, (offset + len) as usize);
        let (word, bit) = (&self.verified[i / 64], 1u64 << (i % 64));
        // ORDERING: Relaxed: the bit only says "this block's bytes passed their crc"; two
        // readers racing both check it, which is harmless.
        let verified = word.load(Ordering::Relaxed) & bit != 0;
        let payload = block::open(&self.bytes.as_ref()[start..end], start, raw, verified)?;
        if !verified {
            // ORDERING: Relaxed, as above.
            word.fetch_or(bit, Ordering::Relaxed);
        }
        stats.read();
        // A block's first key is checked against the index the first time it is read, with
        // its crc; later walks of the same immutable bytes skip the comparison.
        Walker::new(payload, meta, key, self.layout, !verified)
    }

    /// The blocks whose key bounds contain `key` (see search.rs).
    fn blocks_with_key(&self, key: &[u8]) -> Range<usize> {
        self.search.blocks_with_key(&self.blocks, key)
    }

    /// Runs `f` on the newest version of `key` with `ts <= at`: `Some((ts, Some(value)))`, or
    /// `Some((ts, None))` for a tombstone, or `None` when this extent has no such version. The
    /// value is borrowed from the extent or from a per-thread buffer, so nothing is copied or
    /// allocated; `f` should copy what it keeps. `f` may itself read extents (such a nested
    /// read uses buffers of its own).
    pub fn get_with<R>(
        &self,
        key: &[u8],
        at: u64,
        stats: &ReadStats,
        f: impl FnOnce(Option<(u64, Option<&[u8]>)>) -> R,
    ) -> Result<R, FormatError> {
        let run = self.blocks_with_key(key);
        stats.skipped(self.blocks.len() - run.len());
        scratch::with(|s| {
            // Newest block first: a key's versions ascend from block to block.
            for i in run.rev() {
                if self.search.ts_min(i) > at {
                    stats.skipped(1);
                    continue;
                }
                let mut walk = self.walk(i, &mut s.raw, &mut s.key, stats)?;
                walk.skip_to(key)?;
                while let Some(head) = walk.next_group()? {
                    match walk.key().cmp(key) {
                        KeyOrder::Less => continue,
                        KeyOrder::Greater => break,
                        KeyOrder::Equal => {}
                    }
                    // All of this block's versions may be after `at`; older ones are then in
                    // the block before.
                    let Some((count, ts)) = head.newest_at_or_before(at) else {
                        break;
                    };
                    walk.skip_values(count - 1)?;
                    let value = walk.value()?;
                    return Ok(f(Some((ts, value))));
                }
            }
            Ok(f(None))
        })
    }

    /// The newest version of `key` with `ts <= at` (a tombstone included), copied out; see
    /// [`ExtentReader::get_with`] to read it in place.
    pub fn get(
        &self,
        key: &[u8],
        at: u64,
        stats: &ReadStats,
    ) -> Result<Option<VersionRef>, FormatError> {
        self.get_with(key, at, stats, |found| {
            found.map(|(ts, value)| VersionRef {
                ts,
                value: value.map(<[u8]>::to_vec),
            })
        })
    }

    /// Calls `f(ts, value)` for each version of `key` with `since <= ts < until`, oldest first.
    pub fn history(
        &self,
        key: &[u8],
        since: u64,
        until: u64,
        stats: &ReadStats,
        mut f: impl FnMut(u64, Option<&[u8]>),
    ) -> Result<(), FormatError> {
        let run = self.blocks_with_key(key);
        stats.skipped(self.blocks.len() - run.len());
        scratch::with(|s| {
            for i in run {
                let meta = &self.blocks[i];
                if meta.ts_max < since || meta.ts_min >= until {
                    stats.skipped(1);
                    continue;
                }
                let mut walk = self.walk(i, &mut s.raw, &mut s.key, stats)?;
                walk.skip_to(key)?;
                while let Some(head) = walk.next_group()? {
                    match walk.key().cmp(key) {
                        KeyOrder::Less => continue,
                        KeyOrder::Greater => break,
                        KeyOrder::Equal => {}
                    }
                    for ts in head.timestamps().take_while(|&ts| ts < until) {
                        let value = walk.value()?;
                        if ts >= since {
                            f(ts, value);
                        }
                    }
                    break;
                }
            }
            Ok(())
        })
    }

    /// Calls `f(key, ts, value)` for every version in the extent, tombstones included, in
    /// (key, ts) order, until `f` breaks: for checking a flush and merging in compaction.
    /// Every block read to its end is checked in full against the index.
    pub fn versions(
        &self,
        stats: &ReadStats,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>) -> ControlFlow<()>,
    ) -> Result<(), FormatError> {
        scratch::with(|s| {
            for i in 0..self.blocks.len() {
                let mut walk = self.walk(i, &mut s.raw, &mut s.key, stats)?;
                while let Some(head) = walk.next_group()? {
                    for ts in head.timestamps() {
                        let value = walk.value()?;
                        if f(walk.key(), ts, value).is_break() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// Calls `f(key, ts, value)` for every version with `key_lo <= key <= key_hi` and
    /// `ts_lo <= ts <= ts_hi` (None = unbounded), in (key, ts) order, until `f` breaks. Blocks
    /// are pruned by their key and time bounds and by their Morton range against the
    /// rectangle's; a query that runs to its end counts every block in `stats` as read or
    /// skipped.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(
        &self,
        key_lo: Option<&[u8]>,
        key_hi: Option<&[u8]>,
        ts_lo: u64,
        ts_hi: u64,
        stats: &ReadStats,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>) -> ControlFlow<()>,
    ) -> Result<(), FormatError> {
        let zrect = ZRect::new(
            key_lo.map_or(0, key_coordinate),
            key_hi.map_or(u64::MAX, key_coordinate),
            ts_lo,
            ts_hi,
        );
        // Blocks wholly below key_lo or above key_hi, found by binary search.
        let first = key_lo.map_or(0, |lo| {
            self.blocks.partition_point(|b| b.last_key.as_slice() < lo)
        });
        let end = key_hi.map_or(self.blocks.len(), |hi| {
            self.blocks
                .partition_point(|b| b.first_key.as_slice() <= hi)
        });
        let end = end.max(first);
        stats.skipped(first + (self.blocks.len() - end));
        scratch::with(|s| {
            for i in first..end {
                let meta = &self.blocks[i];
                let outside = meta.ts_max < ts_lo
                    || meta.ts_min > ts_hi
                    || zrect.is_none_or(|z| meta.z_max < z.min || meta.z_min > z.max);
                if outside {
                    stats.skipped(1);
                    continue;
                }
                let mut walk = self.walk(i, &mut s.raw, &mut s.key, stats)?;
                if let (true, Some(lo)) = (i == first, key_lo) {
                    walk.skip_to(lo)?;
                }
                while let Some(head) = walk.next_group()? {
                    if key_lo.is_some_and(|lo| walk.key() < lo) {
                        continue;
                    }
                    if key_hi.is_some_and(|hi| walk.key() > hi) {
                        break;
                    }
                    for ts in head.timestamps().take_while(|&ts| ts <= ts_hi) {
                        let value = walk.value()?;
                        if ts >= ts_lo && f(walk.key(), ts, value).is_break() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })
    }
}
