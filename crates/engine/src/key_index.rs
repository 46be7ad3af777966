//! Which extents can hold a key, found by one binary search rather than by asking every extent.
//!
//! Flushes of a load that sweeps the key space again and again (round after round of versions)
//! leave many extents with overlapping key ranges: 102 of them after the 1M-key x 20-version
//! bench, about 20 covering any one key. Walking them (sorted by smallest key, comparing each
//! one's bounds) cost more per point read than the block search itself. Instead the extents'
//! bounds cut the key space into slots, and each slot lists the extents covering it, newest
//! first, with their time spans inline: a read binary-searches the bounds once, then prunes by
//! time without touching the extents.
//!
//! A slot is either one bound itself or the keys strictly between two neighbouring bounds, so
//! inclusive bounds need no successor key. The lists can grow quadratically in the number of
//! extents when all of them span all keys (many unmerged flushes of random keys); past
//! [`MAX_SLOT_ENTRIES`] the index keeps only the extents sorted by smallest key and walks them,
//! the older and slower way that takes linear space.

use std::ops::Deref;
use std::sync::Arc;

use chronokv_morton::ExtentInfo;

use crate::extents::LiveExtent;

/// What the index needs of an extent: its bounds (a trait so tests can index bare bounds).
pub(crate) trait Bounded {
    fn info(&self) -> &ExtentInfo;
}

impl Bounded for Arc<LiveExtent> {
    fn info(&self) -> &ExtentInfo {
        &self.info
    }
}

/// Slot entries beyond which the index falls back to walking (24 bytes each: 6 MiB).
const MAX_SLOT_ENTRIES: usize = 1 << 18;

/// An extent that can hold a key: its place in the view's recency list (newest first) and its
/// time span, so a read can skip it by time without touching it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) pos: u32,
    pub(crate) ts_min: u64,
    pub(crate) ts_max: u64,
}

impl Candidate {
    fn of(recency: &[impl Bounded], pos: u32) -> Candidate {
        let info = recency[pos as usize].info();
        Candidate {
            pos,
            ts_min: info.ts_min,
            ts_max: info.ts_max,
        }
    }
}

/// The candidates of one key, newest first: a slot's list, or one walked up.
#[derive(Debug)]
pub(crate) enum Candidates<'a> {
    Slot(&'a [Candidate]),
    Walked(Vec<Candidate>),
}

impl Deref for Candidates<'_> {
    type Target = [Candidate];
    fn deref(&self) -> &[Candidate] {
        match self {
            Candidates::Slot(list) => list,
            Candidates::Walked(list) => list,
        }
    }
}

#[derive(Debug)]
pub(crate) enum KeyIndex {
    Slots(Slots),
    Walk(Walk),
}

impl KeyIndex {
    /// The index of `recency` (the view's extents, newest first).
    pub(crate) fn new(recency: &[impl Bounded]) -> KeyIndex {
        Slots::new(recency).map_or_else(|| KeyIndex::Walk(Walk::new(recency)), KeyIndex::Slots)
    }

    /// The extents whose key bounds contain `key`, newest first.
    pub(crate) fn candidates<'a>(&'a self, recency: &[impl Bounded], key: &[u8]) -> Candidates<'a> {
        match self {
            KeyIndex::Slots(slots) => Candidates::Slot(slots.candidates(key)),
            KeyIndex::Walk(walk) => Candidates::Walked(walk.candidates(recency, key)),
        }
    }
}

/// Distinct bounds, and per slot the extents covering it.
#[derive(Debug)]
pub(crate) struct Slots {
    /// The distinct smallest and largest keys of all extents, ascending, end to end in one
    /// buffer (one cache-friendly array for the binary search); bound `i` is
    /// `bounds[spans[i].0..spans[i].1]`.
    bounds: Vec<u8>,
    spans: Vec<(u32, u32)>,
    /// Slot `2i + 1` is bound `i` itself, slot `2i` the keys strictly between bounds `i - 1`
    /// and `i` (slot 0: before the first; slot `2m`: after the last). Slot `s` lists
    /// `entries[starts[s]..starts[s + 1]]`, newest first.
    starts: Vec<u32>,
    entries: Vec<Candidate>,
}

impl Slots {
    /// `None` when the lists would exceed [`MAX_SLOT_ENTRIES`].
    fn new(recency: &[impl Bounded]) -> Option<Slots> {
        let mut sorted: Vec<&[u8]> = recency
            .iter()
            .flat_map(|e| [&*e.info().key_min, &*e.info().key_max])
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let index_of = |key: &[u8]| sorted.binary_search(&key).expect("every bound is listed");
        // Each extent covers the slots from its smallest key's to its largest key's.
        let spans: Vec<(usize, usize)> = recency
            .iter()
            .map(|e| {
                let (lo, hi) = (index_of(&e.info().key_min), index_of(&e.info().key_max));
                (2 * lo + 1, 2 * hi + 1)
            })
            .collect();
        let total: usize = spans.iter().map(|(lo, hi)| hi - lo + 1).sum();
        if total > MAX_SLOT_ENTRIES {
            return None;
        }
        let slots = 2 * sorted.len() + 1;
        // How many extents start and stop covering at each slot, then a running sum.
        let mut changes = vec![0i64; slots + 1];
        for &(lo, hi) in &spans {
            changes[lo] += 1;
            changes[hi + 1] -= 1;
        }
        let mut covering = 0i64;
        let mut starts = Vec::with_capacity(slots + 1);
        let mut next = 0u32;
        for change in &changes[..slots] {
            covering += change;
            starts.push(next);
            next += covering as u32;
        }
        starts.push(next);
        // Filled in recency order, so every slot lists its extents newest first.
        let mut fill: Vec<u32> = starts[..slots].to_vec();
        let blank = Candidate {
            pos: 0,
            ts_min: 0,
            ts_max: 0,
        };
        let mut entries = vec![blank; total];
        for (pos, &(lo, hi)) in spans.iter().enumerate() {
            let candidate = Candidate::of(recency, pos as u32);
            for cursor in &mut fill[lo..=hi] {
                entries[*cursor as usize] = candidate;
                *cursor += 1;
            }
        }
        let mut bounds = Vec::with_capacity(sorted.iter().map(|k| k.len()).sum());
        let mut spans = Vec::with_capacity(sorted.len());
        for key in &sorted {
            let start = bounds.len() as u32;
            bounds.extend_from_slice(key);
            spans.push((start, bounds.len() as u32));
        }
        Some(Slots {
            bounds,
            spans,
            starts,
            entries,
        })
    }

    fn bound(&self, (start, end): (u32, u32)) -> &[u8] {
        &self.bounds[start as usize..end as usize]
    }

    fn candidates(&self, key: &[u8]) -> &[Candidate] {
        let below = self.spans.partition_point(|&span| self.bound(span) < key);
        let slot = match self.spans.get(below) {
            Some(&span) if self.bound(span) == key => 2 * below + 1,
            _ => 2 * below,
        };
        &self.entries[self.starts[slot] as usize..self.starts[slot + 1] as usize]
    }
}

/// The fallback: extents sorted by smallest key, with a running maximum of their largest keys.
/// A binary search finds the last extent starting at or before the key, and a walk backwards
/// stops as soon as no earlier extent reaches the key.
#[derive(Debug)]
pub(crate) struct Walk {
    /// Positions in the recency list, by smallest key.
    by_min: Vec<u32>,
    /// For each `by_min[i]`, the position (in the recency list) of the extent with the largest
    /// largest-key among `by_min[..=i]`.
    reach: Vec<u32>,
}

impl Walk {
    fn new(recency: &[impl Bounded]) -> Walk {
        let mut by_min: Vec<u32> = (0..recency.len() as u32).collect();
        by_min.sort_by(|&a, &b| {
            recency[a as usize]
                .info()
                .key_min
                .cmp(&recency[b as usize].info().key_min)
        });
        let mut reach = Vec::with_capacity(by_min.len());
        let mut best: Option<u32> = None;
        for &pos in &by_min {
            let reaches_further = best.is_none_or(|b| {
                recency[pos as usize].info().key_max > recency[b as usize].info().key_max
            });
            if reaches_further {
                best = Some(pos);
            }
            reach.push(best.expect("set above"));
        }
        Walk { by_min, reach }
    }

    fn candidates(&self, recency: &[impl Bounded], key: &[u8]) -> Vec<Candidate> {
        let info = |pos: u32| recency[pos as usize].info();
        let starts_before = self
            .by_min
            .partition_point(|&pos| &*info(pos).key_min <= key);
        let mut found = Vec::new();
        for i in (0..starts_before).rev() {
            if &*info(self.reach[i]).key_max < key {
                break;
            }
            let pos = self.by_min[i];
            if &*info(pos).key_max >= key {
                found.push(Candidate::of(recency, pos));
            }
        }
        found.sort_unstable_by_key(|c| c.pos);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chronokv_morton::Extent;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    impl Bounded for ExtentInfo {
        fn info(&self) -> &ExtentInfo {
            self
        }
    }

    fn key(n: u16) -> Vec<u8> {
        let [a, b] = n.to_be_bytes();
        vec![b'k', a, b]
    }

    fn extent(id: u64, lo: u16, hi: u16, ts: (u64, u64)) -> ExtentInfo {
        ExtentInfo {
            id,
            extent: Extent {
                offset: 0,
                len: 4096,
            },
            z_min: 0,
            z_max: 0,
            key_min: key(lo).into(),
            key_max: key(hi).into(),
            ts_min: ts.0,
            ts_max: ts.1,
        }
    }

    /// What the index must answer: every extent whose bounds hold the key, newest first.
    fn brute_force(recency: &[ExtentInfo], key: &[u8]) -> Vec<Candidate> {
        (0..recency.len() as u32)
            .filter(|&pos| {
                let info = &recency[pos as usize];
                *info.key_min <= *key && key <= &*info.key_max
            })
            .map(|pos| Candidate::of(recency, pos))
            .collect()
    }

    fn seed() -> u64 {
        let seed = std::env::var("CHRONOKV_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("key_index: seed {seed} (replay with CHRONOKV_SEED={seed})");
        seed
    }

    #[test]
    fn slots_and_walk_agree_with_brute_force_on_random_extents() {
        let mut rng = SmallRng::seed_from_u64(seed());
        for round in 0..300 {
            let n = rng.random_range(0..40);
            let recency: Vec<ExtentInfo> = (0..n)
                .map(|i| {
                    // Narrow byte ranges, so bounds often coincide and keys often equal them.
                    let a = rng.random_range(0..32u16);
                    let b = rng.random_range(0..32u16);
                    extent(i, a.min(b), a.max(b), (i, i + 5))
                })
                .collect();
            let (slots, walk) = (Slots::new(&recency).expect("small"), Walk::new(&recency));
            // Every bound, every gap between, and keys before, after and between bounds' bytes.
            let keys = (0..34u16).map(key).chain([
                vec![b'k'],
                vec![b'j', 9],
                vec![b'k', 0, 3, 0],
                vec![b'l'],
            ]);
            for key in keys {
                let want = brute_force(&recency, &key);
                assert_eq!(
                    slots.candidates(&key),
                    want.as_slice(),
                    "round {round}, slots, key {key:?}"
                );
                assert_eq!(
                    walk.candidates(&recency, &key).as_slice(),
                    want.as_slice(),
                    "round {round}, walk, key {key:?}"
                );
            }
        }
    }

    #[test]
    fn slot_lists_past_the_limit_fall_back_to_walking() {
        // 600 extents with distinct bounds all spanning the middle: about 600 x 1,200 entries.
        let recency: Vec<ExtentInfo> = (0..600)
            .map(|i| extent(i, i as u16, 5000 + i as u16, (i, i)))
            .collect();
        let index = KeyIndex::new(&recency);
        assert!(matches!(index, KeyIndex::Walk(_)));
        let key = key(1000);
        assert_eq!(
            &*index.candidates(&recency, &key),
            brute_force(&recency, &key).as_slice()
        );
        let few = &recency[..20];
        assert!(matches!(KeyIndex::new(few), KeyIndex::Slots(_)));
        assert!(KeyIndex::new(&recency[..0])
            .candidates(&recency[..0], &key)
            .is_empty());
    }
}
