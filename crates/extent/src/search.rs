//! Finding blocks by key without touching the keys themselves on most probes.
//!
//! Keys in one extent usually share a long prefix ("user/000..."), so comparing whole keys
//! means a memcmp through a pointer per probe. Instead each block's first and last key are
//! summarised by a word: the 7 bytes after the prefix every key in the extent shares,
//! zero-padded, read big-endian, then a byte holding how many bytes follow the prefix (8 for
//! "more than 7"). For keys `a`, `b` with that prefix, `word(a) < word(b)` implies `a < b` (and
//! `>` likewise), and equal words with a length byte under 8 mean equal keys; only keys
//! agreeing on 7 bytes past the prefix and longer than that fall back to comparing the keys.
//!
//! The last words sit in one dense array, 8 per cache line, and every [`FANOUT`]th of them
//! again in a small array of fences: a search goes through the fences (a few KiB per extent,
//! warm in cache across reads) and then through one group of [`FANOUT`] last words (two cache
//! lines), so a point read misses the cache about twice here whatever the keys look like.
//! (Interpolating between the smallest and largest word, tried first, guesses badly on
//! decimal keys such as "key:000123": their words are far from evenly spread, and the gallop
//! that repaired a bad guess cost a dozen misses.)

use std::cmp::Ordering;
use std::ops::Range;

use crate::index::BlockMeta;

/// Last words per fence: two cache lines of them.
const FANOUT: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct KeySearch {
    /// Bytes every first and last key in the extent starts with.
    prefix: Vec<u8>,
    /// Per block, its last key's word.
    lasts: Vec<u64>,
    /// `lasts[(j + 1) * FANOUT - 1]` for each full group `j` of [`FANOUT`] blocks: the largest
    /// last word of the group.
    fences: Vec<u64>,
    /// Per block, what a read needs once it has found the block: its first key's word (to
    /// find where a key's run of blocks ends), oldest timestamp and where it lies, in half a
    /// cache line rather than in the block index entry.
    entries: Vec<Entry>,
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
        let lasts: Vec<u64> = blocks.iter().map(|b| rest(&b.last_key)).collect();
        let fences = lasts
            .chunks_exact(FANOUT)
            .map(|group| group[FANOUT - 1])
            .collect();
        let entries = blocks
            .iter()
            .map(|b| Entry {
                first: rest(&b.first_key),
                ts_min: b.ts_min,
                offset: b.offset,
                len: b.len,
            })
            .collect();
        KeySearch {
            prefix,
            lasts,
            fences,
            entries,
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
        let n = self.lasts.len().min(blocks.len());
        let last = |i: usize| self.lasts[i];
        // A block bound's word against `w`, then (on a tie of inexact words) its key.
        let tie_break = |bound: u64, bound_key: &[u8]| match bound.cmp(&w) {
            Ordering::Equal if w & 0xff < 8 => Ordering::Equal,
            Ordering::Equal => bound_key.cmp(key),
            decided => decided,
        };
        // First block whose last key is >= key. Words below `w` are keys below `key` and words
        // above it keys above: find the blocks whose last word is `w` or more by words alone,
        // then compare keys only among those whose word equals `w` (none when the word is
        // exact).
        let at_least = self.first_at_least(w).min(n);
        let start = if w & 0xff < 8 {
            at_least
        } else {
            let equal = gallop_while(at_least, n, |i| last(i) == w);
            at_least
                + partition(equal - at_least, |i| {
                    tie_break(last(at_least + i), &blocks[at_least + i].last_key) == Ordering::Less
                })
        };
        // Then gallop over the blocks whose first key is <= key: usually none or one beyond
        // the first, many for a key with a long history.
        let within =
            |i: usize| tie_break(self.entries[i].first, &blocks[i].first_key) != Ordering::Greater;
        start..gallop_while(start, n, within)
    }
}

/// One block's entry: see [`KeySearch::entries`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    first: u64,
    ts_min: u64,
    offset: u64,
    len: u64,
}

impl KeySearch {
    /// The first block whose last key's word is `w` or more: the first group whose fence is
    /// `w` or more, then within that group (or the partial group after the last fence).
    fn first_at_least(&self, w: u64) -> usize {
        let group = partition(self.fences.len(), |j| self.fences[j] < w);
        let lo = group * FANOUT;
        let hi = (lo + FANOUT).min(self.lasts.len());
        lo + partition(hi - lo, |i| self.lasts[lo + i] < w)
    }

    /// Block `i`'s oldest timestamp.
    pub(crate) fn ts_min(&self, i: usize) -> u64 {
        self.entries[i].ts_min
    }

    /// Block `i`'s bytes in the extent: (offset, len).
    pub(crate) fn span(&self, i: usize) -> (u64, u64) {
        (self.entries[i].offset, self.entries[i].len)
    }
}

/// The first 7 bytes of `rest`, zero-padded, big-endian, then its length capped at 8.
fn word(rest: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = rest.len().min(7);
    bytes[..n].copy_from_slice(&rest[..n]);
    bytes[7] = rest.len().min(8) as u8;
    u64::from_be_bytes(bytes)
}

/// The first index from `from` (up to `n`) where `pred` turns false, galloping.
fn gallop_while(from: usize, n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut step) = (from, 1);
    while lo + step <= n && pred(lo + step - 1) {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(n);
    lo + partition(hi - lo, |i| pred(lo + i))
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
    fn search_over_many_blocks_matches_comparing_keys() {
        // Hundreds of blocks (many fence groups), unevenly spread keys, keys that tie on their 8-byte words (a
        // long run of 'x' after the shared prefix), keys whose versions span many blocks.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut keys: Vec<String> = (0..700)
            .map(|_| match next(3) {
                0 => format!("p/{:04}", next(3000)),
                1 => format!("p/xxxxxxxxxx{:03}", next(300)),
                _ => format!("p/{:04}", next(3000) / 100 * 100),
            })
            .collect();
        keys.sort();
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let last = (i + next(4) as usize).min(keys.len() - 1);
            blocks.push(meta(&keys[i], &keys[last]));
            // The next block may start with this block's last key (its versions continue).
            i = if next(3) == 0 { last } else { last + 1 };
        }
        let search = KeySearch::new(&blocks);
        let mut probes: Vec<String> = keys.clone();
        probes.extend((0..3100).map(|n| format!("p/{n:04}")));
        probes.extend(["", "p", "p/", "p/xxxxxxxxxx", "p/xxxxxxxxxxx", "q"].map(String::from));
        for probe in &probes {
            let key = probe.as_bytes();
            let start = blocks.partition_point(|b| b.last_key.as_slice() < key);
            let end = start + blocks[start..].partition_point(|b| b.first_key.as_slice() <= key);
            let want = if start == end { 0..0 } else { start..end };
            let got = search.blocks_with_key(&blocks, key);
            let got = if got.is_empty() { 0..0 } else { got };
            assert_eq!(got, want, "{probe:?} over {} blocks", blocks.len());
        }
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
