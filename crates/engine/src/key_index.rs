//! Which extents can hold a key, found by binary search rather than by asking every extent.
//!
//! A point read used to walk the whole recency list comparing the key with each extent's
//! bounds: after a compaction into 60-odd extents with disjoint key ranges that is 60 key
//! comparisons (and as many again to prove no newer version exists elsewhere) to find the one
//! extent that matters. Here the extents are sorted by their smallest key, with a running
//! maximum of their largest keys: a binary search finds the last extent starting at or before
//! the key, and a walk backwards stops as soon as no earlier extent reaches the key. With
//! disjoint key ranges that is one candidate; with overlapping flushes, one per flush that
//! covers the key.

use smallvec::SmallVec;

use crate::extents::LiveExtent;
use std::sync::Arc;

/// Candidate extents of a point read: positions in the view's recency list (newest first).
pub(crate) type Candidates = SmallVec<[u32; 24]>;

#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    /// Positions in the recency list, by smallest key.
    by_min: Vec<u32>,
    /// For each `by_min[i]`, the position (in the recency list) of the extent with the largest
    /// largest-key among `by_min[..=i]`.
    reach: Vec<u32>,
}

impl KeyIndex {
    pub(crate) fn new(recency: &[Arc<LiveExtent>]) -> KeyIndex {
        let mut by_min: Vec<u32> = (0..recency.len() as u32).collect();
        by_min.sort_by(|&a, &b| {
            recency[a as usize]
                .info
                .key_min
                .cmp(&recency[b as usize].info.key_min)
        });
        let mut reach = Vec::with_capacity(by_min.len());
        let mut best: Option<u32> = None;
        for &pos in &by_min {
            let reaches_further = best.is_none_or(|b| {
                recency[pos as usize].info.key_max > recency[b as usize].info.key_max
            });
            if reaches_further {
                best = Some(pos);
            }
            reach.push(best.expect("set above"));
        }
        KeyIndex { by_min, reach }
    }

    /// The extents whose key bounds contain `key`, as positions in `recency`, ascending (so
    /// newest first).
    pub(crate) fn candidates(&self, recency: &[Arc<LiveExtent>], key: &[u8]) -> Candidates {
        let info = |pos: u32| &recency[pos as usize].info;
        let starts_before = self
            .by_min
            .partition_point(|&pos| &*info(pos).key_min <= key);
        let mut found = Candidates::new();
        for i in (0..starts_before).rev() {
            if &*info(self.reach[i]).key_max < key {
                break;
            }
            let pos = self.by_min[i];
            if &*info(pos).key_max >= key {
                found.push(pos);
            }
        }
        found.sort_unstable();
        found
    }
}
