//! Key-range scans as of a time, forward or reverse, for a caller merging several layers.
//!
//! A scan yields each key in range once, with its newest version at or before `at`,
//! tombstones included (the caller needs them to shadow older layers). The first and last
//! blocks that can hold keys in range are found by binary search over the index.
//!
//! A key's versions may continue from one block into the next (oldest in the earlier block),
//! and the index says so: the next block's first key is the same key. Forward, the newest
//! qualifying version of such a key is held (copied) until its last block has been read.
//! Reverse, each block is walked forward once (prefix-compressed keys only decode that way),
//! remembering per key its newest qualifying version, then yielded backward; a key answered
//! from a later block is skipped in the earlier one, and a key with nothing old enough in a
//! later block is answered by the earlier one.

use std::ops::{Bound, ControlFlow, Range};

use crate::reader::{ExtentReader, ReadStats};
use crate::scratch::{self, RevGroup, Scratch};
use crate::FormatError;

/// Whether `key` comes before the lower bound.
fn below(key: &[u8], lower: Bound<&[u8]>) -> bool {
    match lower {
        Bound::Included(lo) => key < lo,
        Bound::Excluded(lo) => key <= lo,
        Bound::Unbounded => false,
    }
}

/// Whether `key` comes after the upper bound.
fn above(key: &[u8], upper: Bound<&[u8]>) -> bool {
    match upper {
        Bound::Included(hi) => key > hi,
        Bound::Excluded(hi) => key >= hi,
        Bound::Unbounded => false,
    }
}

/// A scan's bounds and time.
#[derive(Clone, Copy)]
struct Query<'q> {
    lower: Bound<&'q [u8]>,
    upper: Bound<&'q [u8]>,
    at: u64,
}

type Visit<'f> = dyn FnMut(ScanStep<'_>) -> ControlFlow<()> + 'f;

/// What a scan reports as it goes, key by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStep<'a> {
    /// A key within the bounds and its newest version at or before the scan's time (`value`
    /// `None` for a tombstone).
    Version {
        key: &'a [u8],
        ts: u64,
        value: Option<&'a [u8]>,
    },
    /// Every key up to and including this one (from this one on, in a reverse scan) has been
    /// looked at and held nothing old enough. A caller merging layers counts it as progress,
    /// so a layer whose keys are all newer than the scan's time is not read to its end just
    /// to find that out.
    Passed(&'a [u8]),
}

impl<B: AsRef<[u8]>> ExtentReader<B> {
    /// Calls `f(key, ts, value)` for every key within the bounds with a version at or before
    /// `at`: its newest such version, `value` `None` for a tombstone. Keys ascend, or descend
    /// when `reverse`. Stops when `f` breaks. Blocks outside the bounds, or holding only
    /// versions newer than `at`, are skipped without being read.
    pub fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        at: u64,
        stats: &ReadStats,
        mut f: impl FnMut(&[u8], u64, Option<&[u8]>) -> ControlFlow<()>,
    ) -> Result<(), FormatError> {
        self.scan_steps(lower, upper, reverse, at, stats, |step| match step {
            ScanStep::Version { key, ts, value } => f(key, ts, value),
            ScanStep::Passed(_) => ControlFlow::Continue(()),
        })
    }

    /// Like [`ExtentReader::scan`], also reporting keys and blocks passed over with nothing
    /// old enough ([`ScanStep::Passed`]), so the caller can stop after a bounded amount of
    /// work whatever the data.
    pub fn scan_steps(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        at: u64,
        stats: &ReadStats,
        mut f: impl FnMut(ScanStep<'_>) -> ControlFlow<()>,
    ) -> Result<(), FormatError> {
        let first = self.blocks.partition_point(|b| below(&b.last_key, lower));
        let end = self
            .blocks
            .partition_point(|b| !above(&b.first_key, upper))
            .max(first);
        stats.skipped(first + (self.blocks.len() - end));
        let query = Query { lower, upper, at };
        scratch::with(|s| {
            if reverse {
                self.scan_reverse(first..end, query, stats, s, &mut f)
            } else {
                self.scan_forward(first..end, query, stats, s, &mut f)
            }
        })
    }

    fn scan_forward(
        &self,
        blocks: Range<usize>,
        q: Query<'_>,
        stats: &ReadStats,
        s: &mut Scratch,
        f: &mut Visit<'_>,
    ) -> Result<(), FormatError> {
        let Scratch {
            raw,
            key,
            held_key,
            held_value,
            ..
        } = s;
        // A key continuing into the next block: `holding`, with its newest qualifying version
        // so far, (ts, is_tombstone), the value in `held_value`.
        let mut holding = false;
        let mut held: Option<(u64, bool)> = None;
        let first = blocks.start;
        'blocks: for i in blocks {
            let meta = &self.blocks[i];
            if meta.ts_min > q.at {
                stats.skipped(1);
                // A key held from the block before has no version here old enough (versions
                // ascend), so what is held is its answer.
                if std::mem::take(&mut holding) {
                    if let Some((ts, tombstone)) = held.take() {
                        let value = (!tombstone).then_some(held_value.as_slice());
                        if f(version(held_key, ts, value)).is_break() {
                            return Ok(());
                        }
                    }
                }
                if !above(&meta.last_key, q.upper) && f(ScanStep::Passed(&meta.last_key)).is_break()
                {
                    return Ok(());
                }
                continue;
            }
            let mut walk = self.walk(i, raw, key, stats)?;
            if let (true, Bound::Included(lo) | Bound::Excluded(lo)) = (i == first, q.lower) {
                // Nothing is held yet in the first block: skipping groups below the bound
                // loses nothing.
                walk.skip_to(lo)?;
            }
            while let Some(head) = walk.next_group()? {
                if below(walk.key(), q.lower) {
                    continue;
                }
                if above(walk.key(), q.upper) {
                    break 'blocks;
                }
                if holding && held_key.as_slice() != walk.key() {
                    // The held key's last block held nothing at or before `at`.
                    holding = false;
                    if let Some((ts, tombstone)) = held.take() {
                        let value = (!tombstone).then_some(held_value.as_slice());
                        if f(version(held_key, ts, value)).is_break() {
                            return Ok(());
                        }
                    }
                }
                let found = match head.newest_at_or_before(q.at) {
                    Some((count, ts)) => {
                        walk.skip_values(count - 1)?;
                        Some((ts, walk.value()?))
                    }
                    None => None,
                };
                let continues = walk.is_last()
                    && self
                        .blocks
                        .get(i + 1)
                        .is_some_and(|next| next.first_key == walk.key());
                if continues {
                    if !holding {
                        holding = true;
                        held = None;
                        held_key.clear();
                        held_key.extend_from_slice(walk.key());
                    }
                    if let Some((ts, value)) = found {
                        held = Some((ts, value.is_none()));
                        held_value.clear();
                        held_value.extend_from_slice(value.unwrap_or_default());
                    }
                    continue;
                }
                let newest = match (found, holding.then_some(held).flatten()) {
                    (Some(version), _) => Some(version),
                    (None, Some((ts, tombstone))) => {
                        Some((ts, (!tombstone).then_some(held_value.as_slice())))
                    }
                    (None, None) => None,
                };
                holding = false;
                held = None;
                let step = match newest {
                    Some((ts, value)) => version(walk.key(), ts, value),
                    None => ScanStep::Passed(walk.key()),
                };
                if f(step).is_break() {
                    return Ok(());
                }
            }
        }
        if let (true, Some((ts, tombstone))) = (holding, held) {
            let _ = f(version(
                held_key,
                ts,
                (!tombstone).then_some(held_value.as_slice()),
            ));
        }
        Ok(())
    }

    fn scan_reverse(
        &self,
        blocks: Range<usize>,
        q: Query<'_>,
        stats: &ReadStats,
        s: &mut Scratch,
        f: &mut Visit<'_>,
    ) -> Result<(), FormatError> {
        let Scratch {
            raw,
            key,
            rev_keys,
            rev_groups,
            done_key,
            ..
        } = s;
        // A key already answered from a later block, skipped in earlier ones.
        let mut done = false;
        for i in blocks.rev() {
            let meta = &self.blocks[i];
            if meta.ts_min > q.at {
                stats.skipped(1);
                // Its first key may continue from the block before, which then answers for it.
                let continued = i > 0 && self.blocks[i - 1].last_key == meta.first_key;
                if !continued
                    && !below(&meta.first_key, q.lower)
                    && f(ScanStep::Passed(&meta.first_key)).is_break()
                {
                    return Ok(());
                }
                continue;
            }
            let mut walk = self.walk(i, raw, key, stats)?;
            rev_keys.clear();
            rev_groups.clear();
            let mut first = true;
            while let Some(head) = walk.next_group()? {
                let is_first = std::mem::replace(&mut first, false);
                if below(walk.key(), q.lower) {
                    continue;
                }
                if above(walk.key(), q.upper) {
                    break;
                }
                let version = match head.newest_at_or_before(q.at) {
                    Some((count, ts)) => {
                        walk.skip_values(count - 1)?;
                        Some((ts, walk.value_range()?))
                    }
                    None => None,
                };
                rev_keys.extend_from_slice(walk.key());
                rev_groups.push(RevGroup {
                    key_end: rev_keys.len(),
                    version,
                    first: is_first,
                });
            }
            let payload = walk.payload();
            for g in (0..rev_groups.len()).rev() {
                let start = if g == 0 { 0 } else { rev_groups[g - 1].key_end };
                let group = &rev_groups[g];
                let k = &rev_keys[start..group.key_end];
                if done && done_key.as_slice() == k {
                    continue;
                }
                done = false;
                let continued = group.first && i > 0 && self.blocks[i - 1].last_key == k;
                // Nothing old enough here: if the key continues from the block before, that
                // block's last group answers for it.
                let Some((ts, range)) = &group.version else {
                    if !continued && f(ScanStep::Passed(k)).is_break() {
                        return Ok(());
                    }
                    continue;
                };
                if f(version(k, *ts, range.clone().map(|r| &payload[r]))).is_break() {
                    return Ok(());
                }
                if continued {
                    done = true;
                    done_key.clear();
                    done_key.extend_from_slice(k);
                }
            }
        }
        Ok(())
    }
}

fn version<'a>(key: &'a [u8], ts: u64, value: Option<&'a [u8]>) -> ScanStep<'a> {
    ScanStep::Version { key, ts, value }
}
