//! Reading an extent: point reads as of a time, histories, scans and rectangles, with pruning.

use std::ops::{Bound, ControlFlow};
use std::sync::atomic::{AtomicU64, Ordering};

use chronokv_morton::{key_coordinate, ZRect};

use crate::block::{self, Group};
use crate::index::{self, BlockMeta};
use crate::FormatError;

/// Blocks read and blocks skipped by their bounds, for stats() and for tests that prove pruning.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Blocks decoded.
    pub blocks_read: AtomicU64,
    /// Blocks a query could rule out from the index alone.
    pub blocks_skipped: AtomicU64,
}

impl ReadStats {
    fn read(&self) {
        // ORDERING: Relaxed: counters only.
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
    }

    fn skipped(&self, n: usize) {
        // ORDERING: Relaxed: counters only.
        self.blocks_skipped.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A version found by a point read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    /// Its commit timestamp.
    pub ts: u64,
    /// Its value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A checked view of one extent's bytes (a memory map or a buffer).
#[derive(Debug)]
pub struct ExtentReader<'a> {
    bytes: &'a [u8],
    blocks: Vec<BlockMeta>,
}

impl<'a> ExtentReader<'a> {
    /// Checks the footer and the index; blocks are checked when read.
    pub fn open(bytes: &'a [u8]) -> Result<Self, FormatError> {
        let blocks = index::decode(bytes)?;
        Ok(ExtentReader { bytes, blocks })
    }

    /// The block index.
    pub fn blocks(&self) -> &[BlockMeta] {
        &self.blocks
    }

    /// Decodes block `i` and runs `f` on its key groups.
    fn with_block<R>(
        &self,
        i: usize,
        stats: &ReadStats,
        f: impl FnOnce(&[Group<&[u8]>]) -> R,
    ) -> Result<R, FormatError> {
        let meta = &self.blocks[i];
        let (start, end) = (meta.offset as usize, (meta.offset + meta.len) as usize);
        let raw = block::open(&self.bytes[start..end], start)?;
        let groups = block::decode_payload(&raw, start)?;
        let consistent = groups.first().is_some_and(|g| g.key == meta.first_key)
            && groups.last().is_some_and(|g| g.key == meta.last_key)
            && groups.iter().map(|g| g.ts.len() as u64).sum::<u64>() == meta.versions;
        if !consistent {
            return Err(FormatError::new(start, "block contents disagree with the index"));
        }
        stats.read();
        Ok(f(&groups))
    }

    /// The blocks whose key bounds contain `key`: a contiguous run, since a key's versions may
    /// continue from one block into the next.
    fn blocks_with_key(&self, key: &[u8]) -> std::ops::Range<usize> {
        let start = self.blocks.partition_point(|b| b.last_key.as_slice() < key);
        let end = start + self.blocks[start..].partition_point(|b| b.first_key.as_slice() <= key);
        start..end
    }

    /// The newest version of `key` with `ts <= at` (a tombstone included), if this extent has one.
    pub fn get(&self, key: &[u8], at: u64, stats: &ReadStats) -> Result<Option<VersionRef>, FormatError> {
        let run = self.blocks_with_key(key);
        stats.skipped(self.blocks.len() - run.len());
        for i in run.rev() {
            if self.blocks[i].ts_min > at {
                stats.skipped(1);
                continue;
            }
            let found = self.with_block(i, stats, |groups| {
                let group = groups.iter().find(|g| g.key == key)?;
                let n = group.ts.partition_point(|&ts| ts <= at);
                (n > 0).then(|| VersionRef { ts: group.ts[n - 1], value: group.values[n - 1].map(<[u8]>::to_vec) })
            })?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
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
        for i in run {
            let meta = &self.blocks[i];
            if meta.ts_max < since || meta.ts_min >= until {
                stats.skipped(1);
                continue;
            }
            self.with_block(i, stats, |groups| {
                if let Some(group) = groups.iter().find(|g| g.key == key) {
                    for (ts, value) in group.ts.iter().zip(&group.values) {
                        if (since..until).contains(ts) {
                            f(*ts, *value);
                        }
                    }
                }
            })?;
        }
        Ok(())
    }

    /// Calls `f(key, ts, value)` for every key within the bounds, in key order, with its newest
    /// version at or before `at` (tombstones included, so a caller merging several layers sees
    /// deletes), until `f` breaks.
    pub fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        at: u64,
        stats: &ReadStats,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>) -> ControlFlow<()>,
    ) -> Result<(), FormatError> {
        let in_range = |key: &[u8]| {
            (match lower {
                Bound::Included(lo) => key >= lo,
                Bound::Excluded(lo) => key > lo,
                Bound::Unbounded => true,
            }) && (match upper {
                Bound::Included(hi) => key <= hi,
                Bound::Excluded(hi) => key < hi,
                Bound::Unbounded => true,
            })
        };
        // The newest version <= at of the key being assembled (it may span blocks).
        let mut pending: Option<(Vec<u8>, u64, Option<Vec<u8>>)> = None;
        for i in 0..self.blocks.len() {
            let meta = &self.blocks[i];
            let below = match lower {
                Bound::Included(lo) => meta.last_key.as_slice() < lo,
                Bound::Excluded(lo) => meta.last_key.as_slice() <= lo,
                Bound::Unbounded => false,
            };
            let above = match upper {
                Bound::Included(hi) => meta.first_key.as_slice() > hi,
                Bound::Excluded(hi) => meta.first_key.as_slice() >= hi,
                Bound::Unbounded => false,
            };
            if above {
                stats.skipped(self.blocks.len() - i);
                break;
            }
            if below || meta.ts_min > at {
                stats.skipped(1);
                continue;
            }
            let flow = self.with_block(i, stats, |groups| {
                for group in groups.iter().filter(|g| in_range(&g.key)) {
                    if pending.as_ref().is_some_and(|(k, _, _)| *k != group.key) {
                        let (k, ts, v) = pending.take().expect("checked");
                        if f(&k, ts, v.as_deref()).is_break() {
                            return ControlFlow::Break(());
                        }
                    }
                    let n = group.ts.partition_point(|&ts| ts <= at);
                    if n > 0 {
                        pending = Some((group.key.clone(), group.ts[n - 1], group.values[n - 1].map(<[u8]>::to_vec)));
                    }
                }
                ControlFlow::Continue(())
            })?;
            if flow.is_break() {
                return Ok(());
            }
        }
        if let Some((k, ts, v)) = pending {
            let _ = f(&k, ts, v.as_deref());
        }
        Ok(())
    }

    /// Calls `f(key, ts, value)` for every version with `key_lo <= key <= key_hi` and
    /// `ts_lo <= ts <= ts_hi` (None = unbounded), in (key, ts) order. Blocks are pruned by their
    /// key and time bounds and by their Morton range against the rectangle's.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(
        &self,
        key_lo: Option<&[u8]>,
        key_hi: Option<&[u8]>,
        ts_lo: u64,
        ts_hi: u64,
        stats: &ReadStats,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>),
    ) -> Result<(), FormatError> {
        let zrect = ZRect::new(
            key_lo.map_or(0, key_coordinate),
            key_hi.map_or(u64::MAX, key_coordinate),
            ts_lo,
            ts_hi,
        );
        for i in 0..self.blocks.len() {
            let meta = &self.blocks[i];
            let outside = key_lo.is_some_and(|lo| meta.last_key.as_slice() < lo)
                || key_hi.is_some_and(|hi| meta.first_key.as_slice() > hi)
                || meta.ts_max < ts_lo
                || meta.ts_min > ts_hi
                || zrect.is_none_or(|z| meta.z_max < z.min || meta.z_min > z.max);
            if outside {
                stats.skipped(1);
                continue;
            }
            self.with_block(i, stats, |groups| {
                for group in groups {
                    if key_lo.is_some_and(|lo| group.key.as_slice() < lo) || key_hi.is_some_and(|hi| group.key.as_slice() > hi) {
                        continue;
                    }
                    for (ts, value) in group.ts.iter().zip(&group.values) {
                        if (ts_lo..=ts_hi).contains(ts) {
                            f(&group.key, *ts, *value);
                        }
                    }
                }
            })?;
        }
        Ok(())
    }
}
