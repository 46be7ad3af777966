//! Walking a block's payload group by group without allocating: keys are rebuilt from their
//! prefix compression into one reused buffer, timestamps are read from their bit-packed deltas
//! on demand, and values are borrowed from the payload or skipped by their lengths.
//!
//! A walk may stop anywhere (a point read stops at its key). What it has read is checked as it
//! goes: lengths against the payload, key order, the first key against the block index. A walk
//! that reaches the end also checks what only the end can tell: no bytes left over, the last
//! key and the version count against the index. The block's crc32c, checked when it was
//! opened, already covers every byte; these checks keep a block the writer never produced
//! (a bug, a forged file) from being read as something else.

use std::ops::Range;

use crate::bitpack;
use crate::block::Payload;
use crate::cursor::Cursor;
use crate::index::BlockMeta;
use crate::FormatError;

/// One key's versions in a block: how many and their timestamps. The key is the walker's
/// current key; values follow through [`Walker::value`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupHead<'a> {
    pub versions: usize,
    first_ts: u64,
    width: u8,
    packed: &'a [u8],
}

impl<'a> GroupHead<'a> {
    /// The group's timestamps, oldest first (each delta is added as it is read).
    pub(crate) fn timestamps(&self) -> Timestamps<'a> {
        Timestamps {
            head: *self,
            i: 0,
            ts: self.first_ts,
        }
    }

    /// How many versions have `ts <= at`, and the newest of them: (count, ts).
    pub(crate) fn newest_at_or_before(&self, at: u64) -> Option<(usize, u64)> {
        let mut found = None;
        for (i, ts) in self.timestamps().enumerate() {
            if ts > at {
                break;
            }
            found = Some((i + 1, ts));
        }
        found
    }
}

/// A group's timestamps, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Timestamps<'a> {
    head: GroupHead<'a>,
    i: usize,
    ts: u64,
}

impl Iterator for Timestamps<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.i == self.head.versions {
            return None;
        }
        let ts = self.ts;
        self.i += 1;
        if self.i < self.head.versions {
            // No overflow: the walker checked that first_ts plus every delta fits.
            self.ts = ts.wrapping_add(bitpack::get(self.head.packed, self.i - 1, self.head.width));
        }
        Some(ts)
    }
}

/// Where a group keeps its value tags (see the layout in lib.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Format 1: each value follows its own tag.
    Interleaved,
    /// Format 2: all of a group's tags, then all of its values.
    TagsFirst,
}

impl Layout {
    pub(crate) fn of_format(format: u32) -> Layout {
        if format == 1 {
            Layout::Interleaved
        } else {
            Layout::TagsFirst
        }
    }
}

/// A cursor over the groups of one opened block.
pub(crate) struct Walker<'a, 'k> {
    payload: Payload<'a>,
    meta: &'a BlockMeta,
    layout: Layout,
    /// The walk's position: at the next group's start, or in the current group's values.
    c: Cursor<'a>,
    /// `TagsFirst`: at the tag of the current group's next value (`c` is at the value).
    tags: Cursor<'a>,
    /// Groups in the block, and not yet read.
    groups: usize,
    groups_left: usize,
    /// The current group's key (rebuilt in place from the previous one).
    key: &'k mut Vec<u8>,
    /// Values of the current group not yet read (skipped before the next group).
    values_left: usize,
    versions_seen: u64,
    started: bool,
    /// `TagsFirst`: the block's restart points (see [`Restarts`]).
    restarts: Restarts<'a>,
    /// The walk began at a restart point past the first group (so the version count is not
    /// the block's, and the first key is not the block's first key).
    partial: bool,
    /// Whether to compare the first group's key with the index's first key.
    check_first_key: bool,
}

/// Format 2's restart points: every `interval`-th group stores its key whole (no prefix shared
/// with the key before), and a table at the end of the payload holds their offsets, so a read
/// looking for a key binary-searches the restarts and walks at most `interval` groups instead
/// of the whole block. The walk itself never reads the table except to find where the groups
/// end.
#[derive(Debug, Clone, Copy, Default)]
struct Restarts<'a> {
    interval: usize,
    /// The table: one u32 LE payload offset per restart.
    table: &'a [u8],
}

impl Restarts<'_> {
    fn len(&self) -> usize {
        self.table.len() / 4
    }

    fn offset(&self, i: usize) -> usize {
        let at = i * 4;
        u32::from_le_bytes(self.table[at..at + 4].try_into().expect("4 bytes")) as usize
    }
}

impl<'a, 'k> Walker<'a, 'k> {
    pub(crate) fn new(
        payload: Payload<'a>,
        meta: &'a BlockMeta,
        key: &'k mut Vec<u8>,
        layout: Layout,
        check_first_key: bool,
    ) -> Result<Self, FormatError> {
        let mut c = Cursor::new(payload.bytes, 0);
        let groups = c.len(payload.bytes.len()).map_err(|e| payload.locate(e))?;
        if groups == 0 {
            return Err(payload.locate(FormatError::new(0, "a block with no keys")));
        }
        let mut restarts = Restarts::default();
        if layout == Layout::TagsFirst {
            let interval = c.len(u32::MAX as usize).map_err(|e| payload.locate(e))?;
            if interval == 0 {
                return Err(payload.locate(c.error("restart interval 0")));
            }
            let table_len = groups.div_ceil(interval) * 4;
            let groups_end = payload
                .bytes
                .len()
                .checked_sub(table_len)
                .filter(|&end| end >= c.offset());
            let groups_end = groups_end.ok_or_else(|| {
                payload.locate(c.error("the restart table does not fit the block"))
            })?;
            restarts = Restarts {
                interval,
                table: &payload.bytes[groups_end..],
            };
            // The groups end where the table starts: walks stop there.
            let header = c.offset();
            c = Cursor::new(&payload.bytes[..groups_end], 0);
            c.bytes(header).map_err(|e| payload.locate(e))?;
        }
        key.clear();
        Ok(Walker {
            payload,
            meta,
            layout,
            tags: c,
            c,
            groups,
            groups_left: groups,
            key,
            restarts,
            partial: false,
            check_first_key,
            values_left: 0,
            versions_seen: 0,
            started: false,
        })
    }

    /// Before the first `next_group`: moves to the last restart point whose key is at or
    /// below `target` (format 2; format 1 blocks have none and stay at their start), so the
    /// walk to `target` passes at most one restart interval of groups. Restart keys are read
    /// as the walk would read them: a damaged offset or key is an error, never a wrong skip
    /// (the walk from there checks key order and lengths as usual).
    pub(crate) fn skip_to(&mut self, target: &[u8]) -> Result<(), FormatError> {
        debug_assert!(!self.started, "skip_to after the walk began");
        let n = self.restarts.len();
        if n < 2 {
            return Ok(());
        }
        let key_at = |i: usize| -> Result<&'a [u8], FormatError> {
            let offset = self.restarts.offset(i);
            let groups = self.c.buf();
            let mut c = Cursor::new(groups, 0);
            c.bytes(offset)?;
            if c.varint()? != 0 {
                return Err(c.error("a restart point's key shares a prefix"));
            }
            c.len_prefixed()
        };
        // Restart 0 is the block's first group; find the last restart with key <= target.
        let (mut lo, mut hi) = (0, n);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let key = key_at(mid).map_err(|e| self.payload.locate(e))?;
            if key <= target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if lo == 0 {
            return Ok(());
        }
        let offset = self.restarts.offset(lo);
        let groups = self.c.buf();
        let mut c = Cursor::new(groups, 0);
        c.bytes(offset).map_err(|e| self.payload.locate(e))?;
        self.c = c;
        self.groups_left -= lo * self.restarts.interval;
        self.started = true;
        self.partial = true;
        Ok(())
    }

    /// The current group's key (valid after `next_group` returned a group).
    pub(crate) fn key(&self) -> &[u8] {
        self.key
    }

    /// True when the current group is the block's last.
    pub(crate) fn is_last(&self) -> bool {
        self.groups_left == 0
    }

    /// The raw payload, for ranges from [`Walker::value_range`].
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.payload.bytes
    }

    /// Moves to the next group, skipping what is left of the current one; `None` after the
    /// last (with the end-of-block checks done).
    pub(crate) fn next_group(&mut self) -> Result<Option<GroupHead<'a>>, FormatError> {
        self.next_group_inner().map_err(|e| self.payload.locate(e))
    }

    /// The next value of the current group (`None` = tombstone), borrowed from the payload.
    pub(crate) fn value(&mut self) -> Result<Option<&'a [u8]>, FormatError> {
        let bytes = self.payload.bytes;
        Ok(self.value_range()?.map(|r| &bytes[r]))
    }

    /// Like [`Walker::value`], as a range of [`Walker::payload`].
    pub(crate) fn value_range(&mut self) -> Result<Option<Range<usize>>, FormatError> {
        self.value_inner().map_err(|e| self.payload.locate(e))
    }

    /// Skips `n` values of the current group.
    pub(crate) fn skip_values(&mut self, n: usize) -> Result<(), FormatError> {
        for _ in 0..n {
            self.value_range()?;
        }
        Ok(())
    }

    fn value_inner(&mut self) -> Result<Option<Range<usize>>, FormatError> {
        debug_assert!(self.values_left > 0, "read past the group's values");
        self.values_left -= 1;
        let max = self.payload.bytes.len() + 1;
        let tag = match self.layout {
            Layout::Interleaved => self.c.len(max)?,
            Layout::TagsFirst => self.tags.len(max)?,
        };
        if tag == 0 {
            return Ok(None);
        }
        let start = self.c.offset();
        self.c.bytes(tag - 1)?;
        Ok(Some(start..self.c.offset()))
    }

    fn next_group_inner(&mut self) -> Result<Option<GroupHead<'a>>, FormatError> {
        while self.values_left > 0 {
            self.value_inner()?;
        }
        if self.groups_left == 0 {
            self.finish()?;
            return Ok(None);
        }
        self.groups_left -= 1;
        // The index of this group in the block, and whether it is a restart point.
        let group = self.groups - self.groups_left - 1;
        let restart = self.restarts.interval > 0 && group.is_multiple_of(self.restarts.interval);
        let c = &mut self.c;
        let at = c.offset();
        if restart && self.restarts.offset(group / self.restarts.interval) != at {
            return Err(FormatError::new(
                at,
                "restart table disagrees with the groups",
            ));
        }
        let shared = c.varint()?;
        if restart && shared != 0 {
            return Err(FormatError::new(
                at,
                "a restart point's key shares a prefix",
            ));
        }
        let shared = usize::try_from(shared)
            .ok()
            .filter(|&s| s <= self.key.len());
        let shared = shared.ok_or_else(|| {
            FormatError::new(at, "key shares more bytes than the previous key has")
        })?;
        let suffix = c.len_prefixed()?;
        // The new key is key[..shared] + suffix; it follows the previous key exactly when the
        // suffix follows what it replaces.
        if self.started && suffix <= &self.key[shared..] {
            return Err(FormatError::new(at, "keys out of order"));
        }
        self.key.truncate(shared);
        self.key.extend_from_slice(suffix);
        if !self.started {
            self.started = true;
            if self.check_first_key && self.key.as_slice() != self.meta.first_key {
                return Err(FormatError::new(
                    at,
                    "block's first key disagrees with the index",
                ));
            }
        }
        let versions = c.len(self.payload.bytes.len())?;
        if versions == 0 {
            return Err(c.error("a key with no versions"));
        }
        let first_ts = c.varint()?;
        let width = c.u8()?;
        if width > 64 {
            return Err(c.error(format!("timestamp delta width {width} over 64 bits")));
        }
        let packed = c.bytes(bitpack::packed_len(versions - 1, width))?;
        let head = GroupHead {
            versions,
            first_ts,
            width,
            packed,
        };
        if !fits(&head) {
            return Err(c.error("timestamp overflow"));
        }
        if self.layout == Layout::TagsFirst {
            // The tags, then the values: skip the tags so `c` is at the first value.
            self.tags = *c;
            for _ in 0..versions {
                c.varint()?;
            }
        }
        self.values_left = versions;
        self.versions_seen += versions as u64;
        Ok(Some(head))
    }

    fn finish(&self) -> Result<(), FormatError> {
        if !self.c.is_empty() {
            return Err(self.c.error("bytes left after the last key"));
        }
        let counted = self.partial || self.versions_seen == self.meta.versions;
        if self.key.as_slice() != self.meta.last_key || !counted {
            return Err(self
                .c
                .error("block's last key or version count disagrees with the index"));
        }
        Ok(())
    }
}

/// Whether the first timestamp plus all deltas fits in a u64: cheaply from the delta width
/// when it can, else by summing.
fn fits(head: &GroupHead<'_>) -> bool {
    let deltas = (head.versions - 1) as u128;
    let bound = u128::from(head.first_ts) + deltas * u128::from(bitpack::max_value(head.width));
    if bound <= u128::from(u64::MAX) {
        return true;
    }
    (0..head.versions - 1)
        .try_fold(head.first_ts, |ts, i| {
            ts.checked_add(bitpack::get(head.packed, i, head.width))
        })
        .is_some()
}
