//! The read view: every layer a read consults, published whole behind one epoch-protected
//! pointer (`EpochCell<View>` in the store), so a flush replaces "frozen memtable" by "its
//! extents" in one step and no reader ever sees both or neither.
//!
//! Layers, newest first: the active memtable, the frozen memtables waiting for their flush
//! (each covers a contiguous span of commit timestamps), then the extents. A memtable only
//! holds versions newer than every extent, so a point read stops at the first memtable that has
//! a version old enough; among extents (whose time spans may overlap after compactions) it
//! keeps the newest candidate and stops once no remaining extent can hold a newer one.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use chronokv_extent::ScanStep;
use chronokv_memtable::Memtable;
use chronokv_morton::TableSnapshot;

use crate::extents::LiveExtent;
use crate::key_index::KeyIndex;
use crate::Result;

/// A memtable that no longer takes writes, waiting to be written to extents.
#[derive(Debug)]
pub(crate) struct Frozen {
    pub(crate) memtable: Arc<Memtable>,
    /// Its newest commit timestamp: everything at or below is in it or older layers.
    pub(crate) max_ts: u64,
}

/// One immutable read view.
#[derive(Debug)]
pub(crate) struct View {
    pub(crate) active: Arc<Memtable>,
    /// Newest first.
    pub(crate) frozen: Vec<Arc<Frozen>>,
    /// The interval table: extents by Morton range, for rectangles.
    pub(crate) table: TableSnapshot<LiveExtent>,
    /// The same extents by newest timestamp, newest first, for point reads.
    pub(crate) recency: Vec<Arc<LiveExtent>>,
    /// Which of `recency` can hold a key.
    keys: Arc<KeyIndex>,
}

/// A version copied out of a layer: (timestamp, value or `None` for a tombstone).
pub(crate) type Owned = (u64, Option<Vec<u8>>);

/// An entry of a merged scan batch.
#[derive(Debug)]
pub(crate) struct ScanItem {
    pub(crate) key: Vec<u8>,
    pub(crate) ts: u64,
    pub(crate) value: Option<Vec<u8>>,
}

impl View {
    pub(crate) fn new(
        active: Arc<Memtable>,
        frozen: Vec<Arc<Frozen>>,
        extents: Vec<Arc<LiveExtent>>,
    ) -> View {
        let mut recency = extents.clone();
        recency.sort_by(|a, b| {
            b.info
                .ts_max
                .cmp(&a.info.ts_max)
                .then(b.info.id.cmp(&a.info.id))
        });
        View {
            active,
            frozen,
            table: TableSnapshot::new(extents),
            keys: Arc::new(KeyIndex::new(&recency)),
            recency,
        }
    }

    /// This view with `added` extents in place of `removed` ones and without `flushed`.
    pub(crate) fn replaced(
        &self,
        flushed: Option<&Arc<Frozen>>,
        added: &[Arc<LiveExtent>],
        removed: &[u64],
    ) -> View {
        let frozen = self
            .frozen
            .iter()
            .filter(|f| flushed.is_none_or(|gone| !Arc::ptr_eq(f, gone)))
            .cloned()
            .collect();
        let mut extents: Vec<Arc<LiveExtent>> = self
            .recency
            .iter()
            .filter(|e| !removed.contains(&e.info.id))
            .cloned()
            .collect();
        extents.extend(added.iter().cloned());
        View::new(Arc::clone(&self.active), frozen, extents)
    }

    /// This view with a new active memtable, the old one frozen at `max_ts`.
    pub(crate) fn frozen_at(&self, active: Arc<Memtable>, frozen: Arc<Frozen>) -> View {
        let mut list = Vec::with_capacity(self.frozen.len() + 1);
        list.push(frozen);
        list.extend(self.frozen.iter().cloned());
        View {
            active,
            frozen: list,
            table: self.table.clone(),
            recency: self.recency.clone(),
            keys: Arc::clone(&self.keys),
        }
    }

    /// The memtables, newest first.
    pub(crate) fn memtables(&self) -> impl Iterator<Item = &Memtable> {
        std::iter::once(&*self.active).chain(self.frozen.iter().map(|f| &*f.memtable))
    }

    /// True when reads need only the active memtable (the common in-memory case).
    pub(crate) fn is_single_layer(&self) -> bool {
        self.frozen.is_empty() && self.recency.is_empty()
    }

    /// Runs `f` on the newest version of `key` at or before `at` (a tombstone is
    /// `Some((ts, None))`), or on `None`.
    pub(crate) fn get_with<R>(
        &self,
        key: &[u8],
        at: u64,
        f: impl FnOnce(Option<(u64, Option<&[u8]>)>) -> R,
    ) -> Result<R> {
        let mut f = Some(f);
        for memtable in self.memtables() {
            if memtable.oldest_ts() > at {
                // Nothing this old here (a read far back in time passes every memtable).
                continue;
            }
            let found = memtable.get_at(key, at, |version| {
                version.map(|v| (f.take().expect("called once"))(Some((v.ts(), v.value()))))
            });
            if let Some(result) = found {
                return Ok(result);
            }
        }
        // The extents that can hold the key, newest first, with their time spans.
        let candidates = self.keys.candidates(&self.recency, key);
        let mut best: Option<Owned> = None;
        for (i, candidate) in candidates.iter().enumerate() {
            let best_ts = best.as_ref().map(|(ts, _)| *ts);
            if best_ts.is_some_and(|ts| candidate.ts_max <= ts) {
                break;
            }
            if candidate.ts_min > at {
                continue;
            }
            let extent = &self.recency[candidate.pos as usize];
            let answered = extent.get_with(key, at, |found| {
                let (ts, value) = found?;
                if best_ts.is_some_and(|b| ts <= b) {
                    return None;
                }
                // Could a later candidate (they come by newest timestamp) hold a newer
                // version? With extents partitioned in time the next one already ends before
                // `ts`, so this is one comparison.
                let beaten = candidates[i + 1..]
                    .iter()
                    .take_while(|later| later.ts_max > ts)
                    .any(|later| later.ts_min <= at);
                if beaten {
                    best = Some((ts, value.map(<[u8]>::to_vec)));
                    None
                } else {
                    // The answer: no copy, `f` runs on the extent's bytes.
                    Some((f.take().expect("called once"))(Some((ts, value))))
                }
            })?;
            if let Some(result) = answered {
                return Ok(result);
            }
        }
        let f = f.expect("not called yet");
        Ok(f(best.as_ref().map(|(ts, value)| (*ts, value.as_deref()))))
    }

    /// Versions of `key` with `since <= ts < until`, oldest first.
    pub(crate) fn history(&self, key: &[u8], since: u64, until: u64) -> Result<Vec<Owned>> {
        let mut versions: Vec<Owned> = Vec::new();
        let candidates = self.keys.candidates(&self.recency, key);
        for candidate in candidates.iter().rev() {
            if candidate.ts_max < since || candidate.ts_min >= until {
                continue;
            }
            let extent = &self.recency[candidate.pos as usize];
            extent.history(key, since, until, |ts, value| {
                versions.push((ts, value.map(<[u8]>::to_vec)))
            })?;
        }
        let memtables: Vec<&Memtable> = self.memtables().collect();
        for memtable in memtables.into_iter().rev() {
            let start = versions.len();
            memtable.history(key, |v| {
                if v.ts() < since {
                    return ControlFlow::Break(());
                }
                if v.ts() < until {
                    versions.push((v.ts(), v.value().map(<[u8]>::to_vec)));
                }
                ControlFlow::Continue(())
            });
            versions[start..].reverse();
        }
        // Extents may overlap in time after compactions; memtables follow them in order.
        versions.sort_by_key(|(ts, _)| *ts);
        versions.dedup_by_key(|(ts, _)| *ts);
        Ok(versions)
    }

    /// One batch of a merged range scan at `at`: the newest version of each key within the
    /// bounds (tombstones included), in key order (descending when `reverse`). Each layer
    /// contributes at most `per_layer` keys; the batch is exact up to the returned resume key
    /// (`None` = the range is exhausted, the batch is complete).
    pub(crate) fn scan_batch(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        at: u64,
        per_layer: usize,
    ) -> Result<(Vec<ScanItem>, Option<Vec<u8>>)> {
        let mut merged: BTreeMap<Vec<u8>, Owned> = BTreeMap::new();
        let mut frontier: Option<Vec<u8>> = None;
        let offer =
            |merged: &mut BTreeMap<Vec<u8>, Owned>, key: &[u8], ts: u64, value: Option<&[u8]>| {
                match merged.get_mut(key) {
                    Some(existing) if existing.0 >= ts => {}
                    Some(existing) => *existing = (ts, value.map(<[u8]>::to_vec)),
                    None => {
                        merged.insert(key.to_vec(), (ts, value.map(<[u8]>::to_vec)));
                    }
                }
            };
        let mut note_truncated = |last: Vec<u8>| {
            let tighter = match &frontier {
                None => true,
                Some(current) => (reverse && last > *current) || (!reverse && last < *current),
            };
            if tighter {
                frontier = Some(last);
            }
        };
        for memtable in self.memtables() {
            let mut taken = 0;
            let mut last = None;
            memtable.scan(lower, upper, reverse, at, |key, version| {
                if let Some(v) = version {
                    offer(&mut merged, key, v.ts(), v.value());
                }
                // A key with nothing at or before `at` counts too (see the extents below).
                taken += 1;
                if taken == per_layer {
                    last = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if let Some(last) = last {
                note_truncated(last);
            }
        }
        for extent in &self.recency {
            if extent.info.ts_min > at || !extent.meets_range(lower, upper) {
                continue;
            }
            // Keys passed over count like keys found: a layer whose keys here are all newer
            // than `at` is read a batch at a time like any other, not to its end.
            let mut taken = 0;
            let mut last = None;
            extent.scan(lower, upper, reverse, at, |step| {
                let key = match step {
                    ScanStep::Version { key, ts, value } => {
                        offer(&mut merged, key, ts, value);
                        key
                    }
                    ScanStep::Passed(key) => key,
                };
                taken += 1;
                if taken == per_layer {
                    last = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })?;
            if let Some(last) = last {
                note_truncated(last);
            }
        }
        let within = |key: &[u8]| match &frontier {
            None => true,
            Some(limit) if reverse => key >= limit.as_slice(),
            Some(limit) => key <= limit.as_slice(),
        };
        let into_item = |(key, (ts, value)): (Vec<u8>, Owned)| ScanItem { key, ts, value };
        let items: Vec<ScanItem> = if reverse {
            merged
                .into_iter()
                .rev()
                .filter(|(k, _)| within(k))
                .map(into_item)
                .collect()
        } else {
            merged
                .into_iter()
                .filter(|(k, _)| within(k))
                .map(into_item)
                .collect()
        };
        Ok((items, frontier))
    }

    /// One batch of a rectangle query: every version with a key within the bounds and
    /// `since <= ts <= until_incl`, in (key, ts) order, from at most `per_layer` keys per layer;
    /// exact up to the returned resume key (`None` = exhausted).
    pub(crate) fn changes_batch(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        since: u64,
        until_incl: u64,
        per_layer: usize,
    ) -> Result<(Vec<ScanItem>, Option<Vec<u8>>)> {
        let mut merged: BTreeMap<(Vec<u8>, u64), Option<Vec<u8>>> = BTreeMap::new();
        let mut frontier: Option<Vec<u8>> = None;
        let mut note_truncated = |last: Vec<u8>| {
            if frontier.as_ref().is_none_or(|current| last < *current) {
                frontier = Some(last);
            }
        };
        for memtable in self.memtables() {
            let mut keys = 0;
            let mut last = None;
            memtable.scan_chains(lower, upper, false, |key, _chain| {
                let mut versions: Vec<Owned> = Vec::new();
                memtable.history(key, |v| {
                    if v.ts() < since {
                        return ControlFlow::Break(());
                    }
                    if v.ts() <= until_incl {
                        versions.push((v.ts(), v.value().map(<[u8]>::to_vec)));
                    }
                    ControlFlow::Continue(())
                });
                if versions.is_empty() {
                    return ControlFlow::Continue(());
                }
                for (ts, value) in versions {
                    merged.insert((key.to_vec(), ts), value);
                }
                keys += 1;
                if keys == per_layer {
                    last = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if let Some(last) = last {
                note_truncated(last);
            }
        }
        let (key_lo, key_hi) = (inclusive_floor(lower), inclusive_ceiling(upper));
        for extent in self.table.overlapping(key_lo, key_hi, since, until_incl) {
            let mut keys = 0;
            let mut current: Option<Vec<u8>> = None;
            let mut last = None;
            extent.rect(key_lo, key_hi, since, until_incl, |key, ts, value| {
                if !within_bounds(key, lower, upper) {
                    return ControlFlow::Continue(());
                }
                if current.as_deref() != Some(key) {
                    if keys == per_layer {
                        last = current.take();
                        return ControlFlow::Break(());
                    }
                    keys += 1;
                    current = Some(key.to_vec());
                }
                merged.insert((key.to_vec(), ts), value.map(<[u8]>::to_vec));
                ControlFlow::Continue(())
            })?;
            if let Some(last) = last {
                note_truncated(last);
            }
        }
        let items = merged
            .into_iter()
            .filter(|((key, _), _)| frontier.as_ref().is_none_or(|limit| key <= limit))
            .map(|((key, ts), value)| ScanItem { key, ts, value })
            .collect();
        Ok((items, frontier))
    }

    /// The newest timestamp of `key` in any layer, versions not yet acknowledged included, if
    /// it is newer than `than` (what a transaction's validation asks).
    pub(crate) fn newer_than(&self, key: &[u8], than: u64) -> Result<Option<u64>> {
        for memtable in self.memtables() {
            if let Some(ts) = memtable.get_at(key, u64::MAX, |v| v.map(|v| v.ts())) {
                return Ok((ts > than).then_some(ts));
            }
        }
        let mut newest = None;
        let candidates = self.keys.candidates(&self.recency, key);
        for candidate in candidates.iter().take_while(|c| c.ts_max > than) {
            self.recency[candidate.pos as usize].get_with(key, u64::MAX, |found| {
                if let Some((ts, _)) = found {
                    if ts > than && newest.is_none_or(|n| ts > n) {
                        newest = Some(ts);
                    }
                }
            })?;
        }
        Ok(newest)
    }

    /// A key within the bounds with a version newer than `than` in any layer, if there is one.
    pub(crate) fn range_newer_than(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        than: u64,
    ) -> Result<Option<Vec<u8>>> {
        for memtable in self.memtables() {
            let mut found = None;
            memtable.scan(lower, upper, false, u64::MAX, |key, newest| {
                if newest.is_some_and(|v| v.ts() > than) {
                    found = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if found.is_some() {
                return Ok(found);
            }
        }
        let (key_lo, key_hi) = (inclusive_floor(lower), inclusive_ceiling(upper));
        for extent in self.recency.iter().take_while(|e| e.info.ts_max > than) {
            let mut found = None;
            extent.rect(key_lo, key_hi, than + 1, u64::MAX, |key, _, _| {
                if within_bounds(key, lower, upper) {
                    found = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

/// The smallest key a lower bound admits, as an inclusive bound (an excluded key is admitted
/// by the inclusive bound too, and filtered later).
fn inclusive_floor(bound: Bound<&[u8]>) -> Option<&[u8]> {
    match bound {
        Bound::Included(key) | Bound::Excluded(key) => Some(key),
        Bound::Unbounded => None,
    }
}

fn inclusive_ceiling(bound: Bound<&[u8]>) -> Option<&[u8]> {
    inclusive_floor(bound)
}

pub(crate) fn within_bounds(key: &[u8], lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    above_lower(key, lower) && below_upper(key, upper)
}

/// Whether `key` satisfies the lower bound.
pub(crate) fn above_lower(key: &[u8], lower: Bound<&[u8]>) -> bool {
    match lower {
        Bound::Included(lo) => key >= lo,
        Bound::Excluded(lo) => key > lo,
        Bound::Unbounded => true,
    }
}

/// Whether `key` satisfies the upper bound.
pub(crate) fn below_upper(key: &[u8], upper: Bound<&[u8]>) -> bool {
    match upper {
        Bound::Included(hi) => key <= hi,
        Bound::Excluded(hi) => key < hi,
        Bound::Unbounded => true,
    }
}
