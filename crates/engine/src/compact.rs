//! Compaction: merge every extent into new ones, applying the retention policy.
//!
//! The inputs are the extents of the current view (flushes may add newer ones meanwhile; they
//! are left alone). Their versions are merged in (key, ts) order one key range at a time —
//! ranges cut at block boundaries so each holds about [`CHUNK_VERSIONS`] versions — and written
//! as new extents of about `extent_bytes`. Under the manifest mutex the new manifest (outputs
//! in, inputs out and on the free list, the new retention horizon) is stored atomically and the
//! matching view published; the inputs are then retired, and their regions return to the
//! allocator (and their disk blocks to the file system) when the last view holding them goes.
//!
//! # Retention
//! With `retention = { max_age, min_versions }` the horizon `H` is raised to `now - max_age`,
//! but never past the oldest open snapshot or transaction (see `pins`). For each key, the
//! versions kept are: every version newer than `H`; the newest version at or before `H` (the
//! one a read at `H` sees), unless it is a tombstone with nothing older kept; and in any case
//! the newest `min_versions`. So every read at a time `>= H` is exactly what it was. Reads at
//! a time before `H` are refused with an invalid-argument error naming the horizon; `history`
//! and `changes` return the versions that remain.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::extents::LiveExtent;
use crate::store::Store;
use crate::{crash, flush, manifest_file, Result};

/// How long `compact` waits for readers of the replaced view to move on before returning.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

/// About this many versions are merged in memory at a time.
const CHUNK_VERSIONS: u64 = 64 * 1024;

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactStats {
    /// Extents merged.
    pub extents_in: usize,
    /// Extents written.
    pub extents_out: usize,
    /// Versions read.
    pub versions_in: u64,
    /// Versions written (the difference was collected by retention).
    pub versions_out: u64,
    /// The retention horizon after the compaction (0 = none).
    pub horizon: u64,
}

/// Merges every extent of the current view; see the module docs.
pub(crate) fn compact(store: &Store, now: u64) -> Result<CompactStats> {
    let _one_at_a_time = store
        .compaction
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let inputs: Vec<Arc<LiveExtent>> = store.view.with(|v| v.recency.clone());
    let retention = store.tuning.retention;
    let horizon = match retention {
        Some(r) => store.pins.advance(now.saturating_sub(r.max_age_us)),
        None => store.pins.horizon(),
    };
    let min_versions = retention.map_or(usize::MAX, |r| r.min_versions.max(1));
    let mut stats = CompactStats {
        extents_in: inputs.len(),
        horizon,
        ..CompactStats::default()
    };
    if inputs.is_empty() || (inputs.len() == 1 && retention.is_none()) {
        return Ok(stats);
    }
    stats.versions_in = inputs.iter().map(|e| e.versions).sum();
    let boundaries = chunk_boundaries(&inputs);
    let mut versions_out = 0;
    let written = flush::write_extents(store, None, |emit| {
        let mut chunk: Vec<(Vec<u8>, u64, Option<Vec<u8>>)> = Vec::new();
        for window in boundaries.windows(2) {
            let (lo, hi) = (window[0].as_deref(), window[1].as_deref());
            chunk.clear();
            for extent in &inputs {
                if hi.is_some_and(|hi| &*extent.info.key_min >= hi)
                    || lo.is_some_and(|lo| &*extent.info.key_max < lo)
                {
                    continue;
                }
                extent.rect(lo, hi, 0, u64::MAX, |key, ts, value| {
                    if hi.is_some_and(|hi| key >= hi) {
                        return ControlFlow::Break(());
                    }
                    chunk.push((key.to_vec(), ts, value.map(<[u8]>::to_vec)));
                    ControlFlow::Continue(())
                })?;
            }
            chunk.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            chunk.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            let mut start = 0;
            while start < chunk.len() {
                let end = start
                    + chunk[start..]
                        .iter()
                        .take_while(|v| v.0 == chunk[start].0)
                        .count();
                let key_versions = &chunk[start..end];
                for i in kept(
                    key_versions.iter().map(|v| (v.1, v.2.is_none())),
                    horizon,
                    min_versions,
                ) {
                    let (key, ts, value) = &key_versions[i];
                    emit(key, *ts, value.as_deref())?;
                    versions_out += 1;
                }
                start = end;
            }
        }
        Ok(())
    })?;
    crash::point("compact:extents-written");
    stats.extents_out = written.len();
    stats.versions_out = versions_out;
    {
        let mut manifest = store.lock_manifest();
        let mut next = manifest.clone();
        let removed: Vec<u64> = inputs.iter().map(|e| e.info.id).collect();
        next.extents.retain(|e| !removed.contains(&e.id));
        next.free.extend(
            inputs
                .iter()
                .map(|e| (e.info.extent.offset, e.info.extent.len)),
        );
        next.retention_horizon = next.retention_horizon.max(horizon);
        flush::add_extents(store, &mut next, &written);
        manifest_file::store(&*store.data.storage, &store.dir, &next)?;
        *manifest = next;
        store
            .view
            .update(|view| view.replaced(None, &written, &removed));
    }
    crash::point("compact:before-release");
    for extent in &inputs {
        extent.retire();
    }
    // Our own references go now; the replaced view goes with the epoch. Give the epoch a
    // moment so that compact() returns with the disk space back in the common case; a cursor
    // still iterating an old view keeps its extents (and their regions) until it is dropped.
    drop(inputs);
    let deadline = Instant::now() + RELEASE_WAIT;
    loop {
        chronokv_morton::collect_garbage();
        // ORDERING: Relaxed: a gauge, see `LiveExtent::retire`.
        if store.data.retired_pending.load(Ordering::Relaxed) == 0 || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // ORDERING: Relaxed (both): statistics only.
    store.compactions.fetch_add(1, Ordering::Relaxed);
    store
        .versions_collected
        .fetch_add(stats.versions_in - versions_out, Ordering::Relaxed);
    Ok(stats)
}

/// Key-range boundaries `[None, k1, k2, ..., None]` (None = unbounded) cutting the inputs into
/// ranges of about [`CHUNK_VERSIONS`] versions, at block first keys.
fn chunk_boundaries(inputs: &[Arc<LiveExtent>]) -> Vec<Option<Vec<u8>>> {
    let mut starts: Vec<(&[u8], u64)> = inputs.iter().flat_map(|e| e.block_starts()).collect();
    starts.sort_unstable();
    let mut boundaries = vec![None];
    let mut seen = BTreeSet::new();
    let mut pending = 0;
    for (key, versions) in starts {
        if pending >= CHUNK_VERSIONS && seen.insert(key) {
            boundaries.push(Some(key.to_vec()));
            pending = 0;
        }
        pending += versions;
    }
    boundaries.push(None);
    boundaries
}

/// Indices of the versions of one key (ascending (ts, is_tombstone)) that retention keeps.
pub(crate) fn kept(
    versions: impl ExactSizeIterator<Item = (u64, bool)> + Clone,
    horizon: u64,
    min_versions: usize,
) -> Vec<usize> {
    let n = versions.len();
    let protected_from = n.saturating_sub(min_versions);
    // The version a read at the horizon sees: the newest at or before it.
    let visible_at_horizon = versions
        .clone()
        .enumerate()
        .filter(|(_, (ts, _))| *ts <= horizon)
        .map(|(i, _)| i)
        .last();
    let mut kept: Vec<usize> = (0..n)
        .filter(|&i| i >= protected_from || visible_at_horizon.is_none_or(|v| i >= v))
        .collect();
    // A tombstone that is the oldest version kept shadows nothing: drop it too.
    if let (Some(&first), Some(v)) = (kept.first(), visible_at_horizon) {
        let is_tombstone = versions.clone().nth(first).is_some_and(|(_, dead)| dead);
        if first == v && first < protected_from && is_tombstone {
            kept.remove(0);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::kept;

    fn run(versions: &[(u64, bool)], horizon: u64, min: usize) -> Vec<usize> {
        kept(versions.iter().copied(), horizon, min)
    }

    #[test]
    fn retention_keeps_what_reads_inside_the_window_see() {
        let v = [(10, false), (20, false), (30, false), (40, false)];
        assert_eq!(
            run(&v, 25, 1),
            vec![1, 2, 3],
            "20 is what a read at 25 sees"
        );
        assert_eq!(run(&v, 20, 1), vec![1, 2, 3]);
        assert_eq!(
            run(&v, 5, 1),
            vec![0, 1, 2, 3],
            "nothing before the horizon"
        );
        assert_eq!(run(&v, 100, 1), vec![3]);
        assert_eq!(
            run(&v, 100, 3),
            vec![1, 2, 3],
            "min_versions keeps the newest three"
        );
        assert_eq!(run(&v, 0, usize::MAX), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_tombstone_with_nothing_older_is_collected() {
        let v = [(10, false), (20, true), (30, false)];
        assert_eq!(run(&v, 25, 1), vec![2]);
        assert_eq!(run(&v, 25, 2), vec![1, 2], "protected by min_versions");
        let dead = [(10, false), (20, true)];
        assert_eq!(
            run(&dead, 25, 1),
            vec![1],
            "the newest version stays, even a tombstone"
        );
    }
}
