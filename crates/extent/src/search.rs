//! Finding blocks by key without touching the keys themselves on most probes.
//!
//! Keys in one extent usually share a long prefix ("user/000..."), so comparing whole keys
//! means a memcmp through a pointer per probe. Instead each block's first and last key are
//! summarised by the 8 bytes after the prefix every key in the extent shares, zero-padded,
//! read big-endian: a dense array a binary search mostly answers from cache. For keys `a`, `b`
//! with that prefix, `word(a) < word(b)` implies `a < b` (and `>` likewise); equal words fall
//! back to comparing the keys.

use std::cmp::Ordering;
use std::ops::Range;

use crate::index::BlockMeta;

#[derive(Debug, Default)]
pub(crate) struct KeySearch {
    /// Bytes every first and last key in the extent starts with.
    prefix: Vec<u8>,
    first: Vec<u64>,
    last: Vec<u64>,
}

impl KeySearch {
    pub(crate) fn new(blocks: &[BlockMeta]) -> Self {
        let (Some(head), Some(tail)) = (blocks.first(), blocks.last()) else {
            return KeySearch::default();
        };
        // Keys ascend, so the prefix of the smallest and largest key is everyone's.
        let shared = head
            .first_key
            .iter()
            .zip(&tail.last_key)
            .take_while(|(a, b)| a == b)
            .count();
        let prefix = head.first_key[..shared].to_vec();
        // index::decode checked that blocks are in key order, so every key has the prefix.
        let rest = |key: &[u8]| word(key.get(shared..).unwrap_or_default());
        KeySearch {
            first: blocks.iter().map(|b| rest(&b.first_key)).collect(),
            last: blocks.iter().map(|b| rest(&b.last_key)).collect(),
            prefix,
        }
    }

    /// The blocks whose key bounds contain `key`: a contiguous run, since a key's versions may
    /// continue from one block into the next.
    pub(crate) fn blocks_with_key(&self, blocks: &[BlockMeta], key: &[u8]) -> Range<usize> {
        let Some(rest) = key.strip_prefix(self.prefix.as_slice()) else {
            // Outside the prefix: before or after every key in the extent.
            return 0..0;
        };
        let w = word(rest);
        let cmp = |words: &[u64], keys: fn(&BlockMeta) -> &[u8], i: usize| match words[i].cmp(&w) {
            Ordering::Equal => keys(&blocks[i]).cmp(key),
            decided => decided,
        };
        // First block whose last key is >= key.
        let start = partition(blocks.len(), |i| {
            cmp(&self.last, |b| &b.last_key, i) == Ordering::Less
        });
        // Then gallop over the blocks whose first key is <= key: usually none or one beyond
        // the first, many for a key with a long history.
        let within = |i: usize| cmp(&self.first, |b| &b.first_key, i) != Ordering::Greater;
        let (mut lo, mut step) = (start, 1);
        while lo + step <= blocks.len() && within(lo + step - 1) {
            lo += step;
            step *= 2;
        }
        let hi = (lo + step).min(blocks.len());
        start..lo + partition(hi - lo, |i| within(lo + i))
    }
}

/// The first 8 bytes of `rest`, zero-padded, big-endian.
fn word(rest: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = rest.len().min(8);
    bytes[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(bytes)
}

/// The first index in `0..n` where `pred` turns false (`pred` true then false, like
/// `slice::partition_point`).
fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(first: &str, last: &str) -> BlockMeta {
        BlockMeta {
            offset: 0,
            len: 0,
            first_key: first.into(),
            last_key: last.into(),
            ts_min: 0,
            ts_max: 0,
            z_min: 0,
            z_max: 0,
            versions: 1,
        }
    }

    #[test]
    fn search_finds_the_same_runs_as_comparing_keys() {
        let bounds = [
            ("user/0000000000a", "user/0000000000a"),
            ("user/0000000000a", "user/0000000000c"),
            ("user/0000000000c", "user/0000000000c"),
            ("user/0000000000c", "user/0000000000c"),
            ("user/0000000000c", "user/0000000000c\0"),
            ("user/0000000000d", "user/00000000010"),
            ("user/00000000011", "user/00000000011"),
            ("user/00000000012", "user/000000000zz"),
        ];
        let blocks: Vec<BlockMeta> = bounds.iter().map(|(a, b)| meta(a, b)).collect();
        let search = KeySearch::new(&blocks);
        assert_eq!(search.prefix, b"user/000000000");
        let probes = [
            "",
            "a",
            "user/",
            "user/0000000000",
            "user/0000000000a",
            "user/0000000000b",
            "user/0000000000c",
            "user/0000000000c\0",
            "user/0000000000c\0\0",
            "user/0000000000d",
            "user/0000000000e",
            "user/00000000010",
            "user/000000000100",
            "user/00000000011",
            "user/000000000zz",
            "user/000000000zzz",
            "user/1",
            "zzz",
        ];
        for probe in probes {
            let key = probe.as_bytes();
            let start = blocks.partition_point(|b| b.last_key.as_slice() < key);
            let end = start + blocks[start..].partition_point(|b| b.first_key.as_slice() <= key);
            let want = if start == end { 0..0 } else { start..end };
            let got = search.blocks_with_key(&blocks, key);
            let got = if got.is_empty() { 0..0 } else { got };
            assert_eq!(got, want, "{probe:?}");
        }
        assert_eq!(KeySearch::new(&[]).blocks_with_key(&[], b"k"), 0..0);
    }

    #[test]
    fn search_over_blocks_out_of_order_does_not_panic() {
        // index::decode refuses such an index; the search stays safe without that check.
        let blocks = [
            meta("user/1", "user/1"),
            meta("u", "u"),
            meta("user/9", "user/9"),
        ];
        let search = KeySearch::new(&blocks);
        for probe in ["", "u", "user/1", "user/5", "zz"] {
            let _ = search.blocks_with_key(&blocks, probe.as_bytes());
        }
    }
}
