//! Finding blocks by key without touching the keys themselves on most probes.
//!
//! Keys in one extent usually share a long prefix ("user/000..."), so comparing whole keys
//! means a memcmp through a pointer per probe. Instead each block's first and last key are
//! summarised by a word: the 7 bytes after the prefix every key in the extent shares,
//! zero-padded, read big-endian, then a byte holding how many bytes follow the prefix (8 for
//! "more than 7"). For keys `a`, `b` with that prefix, `word(a) < word(b)` implies `a < b` (and
//! `>` likewise), and equal words with a length byte under 8 mean equal keys; only keys
//! agreeing on 7 bytes past the prefix and longer than that fall back to comparing the keys.
//! The words sit in one dense array of (first, last) pairs, so the gallop after the search
//! reads the cache line the search just read.

use std::cmp::Ordering;
use std::ops::Range;

use crate::index::BlockMeta;

#[derive(Debug, Default)]
pub(crate) struct KeySearch {
    /// Bytes every first and last key in the extent starts with.
    prefix: Vec<u8>,
    /// Per block: (first key's word, last key's word) for the search, and what a read needs
    /// next once it has found the block — its oldest timestamp and where it lies — in the same
    /// cache line, rather than in the block index entry (one more cache miss per read).
    words: Vec<Entry>,
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
        let words: Vec<Entry> = blocks
            .iter()
            .map(|b| Entry {
                words: [rest(&b.first_key), rest(&b.last_key)],
                ts_min: b.ts_min,
                offset: b.offset,
                len: b.len,
            })
            .collect();
        KeySearch { words, prefix }
    }

    /// The blocks whose key bounds contain `key`: a contiguous run, since a key's versions may
    /// continue from one block into the next.
    pub(crate) fn blocks_with_key(&self, blocks: &[BlockMeta], key: &[u8]) -> Range<usize> {
        let Some(rest) = key.strip_prefix(self.prefix.as_slice()) else {
            // Outside the prefix: before or after every key in the extent.
            return 0..0;
        };
        let w = word(rest);
        let cmp = |side: usize, keys: fn(&BlockMeta) -> &[u8], i: usize| match self.words[i].words
            [side]
            .cmp(&w)
        {
            Ordering::Equal if w & 0xff < 8 => Ordering::Equal,
            Ordering::Equal => keys(&blocks[i]).cmp(key),
            decided => decided,
        };
        // First block whose last key is >= key. Words below `w` are keys below `key` and words
        // above it keys above: find the blocks whose last word is `w` or more by words alone,
        // then compare keys only among those whose word equals `w` (none when the word is
        // exact).
        let last = |i: usize| self.words[i].words[LAST];
        let at_least = self.first_at_least(w);
        let start = if w & 0xff < 8 {
            at_least
        } else {
            let equal = gallop_while(at_least, blocks.len(), |i| last(i) == w);
            at_least
                + partition(equal - at_least, |i| {
                    cmp(LAST, |b| &b.last_key, at_least + i) == Ordering::Less
                })
        };
        // Then gallop over the blocks whose first key is <= key: usually none or one beyond
        // the first, many for a key with a long history.
        let within = |i: usize| cmp(FIRST, |b| &b.first_key, i) != Ordering::Greater;
        start..gallop_while(start, blocks.len(), within)
    }
}

/// One block in the search array.
#[derive(Debug, Clone, Copy)]
struct Entry {
    words: [u64; 2],
    ts_min: u64,
    offset: u64,
    len: u64,
}

impl KeySearch {
    /// The first block whose last key's word is `w` or more. Keys in an extent are often
    /// spread evenly over their range (counters, ids, hashes, timestamps), so the first probe
    /// interpolates between the smallest and largest word; the search then gallops away from
    /// it, so a bad guess (skewed keys) costs O(log n) probes like a binary search, and a good
    /// one a probe or two in one or two cache lines instead of a dozen misses.
    fn first_at_least(&self, w: u64) -> usize {
        let n = self.words.len();
        let last = |i: usize| self.words[i].words[LAST];
        if n == 0 || w <= last(0) {
            return 0;
        }
        if w > last(n - 1) {
            return n;
        }
        // last(0) < w <= last(n - 1), so the span is positive and the guess lies in 0..n.
        let (a, b) = (last(0), last(n - 1));
        let guess = (u128::from(w - a) * (n - 1) as u128 / u128::from(b - a)) as usize;
        let (lo, hi) = if last(guess) >= w {
            // The answer is at or before the guess: gallop left to a block below `w`.
            let (mut hi, mut step) = (guess, 1);
            loop {
                if hi < step {
                    break (0, hi);
                }
                let probe = hi - step;
                if last(probe) < w {
                    break (probe + 1, hi);
                }
                hi = probe;
                step *= 2;
            }
        } else {
            // After the guess: gallop right to a block at `w` or above (the last one is).
            let (mut lo, mut step) = (guess + 1, 1);
            loop {
                let probe = lo + step - 1;
                if probe >= n {
                    break (lo, n);
                }
                if last(probe) >= w {
                    break (lo, probe);
                }
                lo = probe + 1;
                step *= 2;
            }
        };
        lo + partition(hi - lo, |i| last(lo + i) < w)
    }

    /// Block `i`'s oldest timestamp.
    pub(crate) fn ts_min(&self, i: usize) -> u64 {
        self.words[i].ts_min
    }

    /// Block `i`'s bytes in the extent: (offset, len).
    pub(crate) fn span(&self, i: usize) -> (u64, u64) {
        (self.words[i].offset, self.words[i].len)
    }
}

const FIRST: usize = 0;
const LAST: usize = 1;

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
        // Hundreds of blocks, unevenly spread keys (interpolation guesses badly), keys that tie on their 8-byte words (a
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
