//! Flushing frozen memtables to extents, in the background.
//!
//! # Policy
//! A writer that pushes the active memtable past `memtable_bytes` freezes it (under the
//! sequencer: a new memtable takes the next commit) and wakes the flush thread; the frozen
//! memtable stays readable in the view until its extents replace it. Writers never wait for a
//! flush unless [`MAX_FROZEN`] memtables are already waiting: that is the only back-pressure,
//! and it bounds memory at about `(MAX_FROZEN + 1) x memtable_bytes`.
//!
//! # One flush
//! 1. Wait until the log has acknowledged every commit in the memtable (its versions must never
//!    reach an extent before they are durable in the log).
//! 2. Write its versions, in (key, ts) order, as extents of about `extent_bytes` into regions
//!    the allocator hands out; fdatasync the data file.
//! 3. Under the manifest mutex: write the new manifest (extents added, `checkpoint_seq` = the
//!    memtable's newest timestamp) atomically, then publish the view without the memtable and
//!    with the extents.
//! 4. Checkpoint the log: segments holding only records at or below `checkpoint_seq` go.
//!
//! A crash before step 3 completes leaves the old manifest: the regions written are beyond its
//! `data_end` or on its free list, so they are simply reused, and the log still has every
//! commit. A crash after it replays only the log records above `checkpoint_seq`.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use chronokv_extent::{ExtentWriter, WriterOptions};
use chronokv_memtable::Memtable;

use crate::extents::LiveExtent;
use crate::store::Store;
use crate::{crash, manifest_file, Error, Result};

/// Frozen memtables allowed to wait for their flush before writers wait too.
pub(crate) const MAX_FROZEN: usize = 2;

/// The flush thread's loop: flush the oldest frozen memtable while there is one; sleep until
/// woken otherwise; stop when asked (the log keeps whatever was not flushed).
pub(crate) fn run(store: Arc<Store>) {
    loop {
        {
            let mut state = store.lock_flush();
            loop {
                if state.stop || state.failed.is_some() {
                    return;
                }
                if store.view.with(|v| !v.frozen.is_empty()) {
                    break;
                }
                state = store
                    .flush_cv
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        let result = flush_oldest(&store);
        let mut state = store.lock_flush();
        match result {
            Ok(()) => state.flushes += 1,
            Err(error) => state.failed = Some(error.to_string()),
        }
        store.flush_cv.notify_all();
    }
}

/// Writes the oldest frozen memtable to extents and publishes them; see the module docs.
pub(crate) fn flush_oldest(store: &Store) -> Result<()> {
    let Some(frozen) = store.view.with(|v| v.frozen.last().cloned()) else {
        return Ok(());
    };
    store.wal.wait_acked(frozen.max_ts)?;
    // Blocks never span a jump in time of over a quarter of the memtable's span (see
    // ExtentWriter::cut_at_time_gaps).
    let oldest = frozen.memtable.oldest_ts();
    let time_gap = (oldest <= frozen.max_ts).then(|| (frozen.max_ts - oldest) / 4);
    let written = write_extents(store, time_gap, |emit| {
        for_each_version(&frozen.memtable, emit)
    })?;
    {
        let mut manifest = store.lock_manifest();
        let mut next = manifest.clone();
        next.checkpoint_seq = next.checkpoint_seq.max(frozen.max_ts);
        next.last_ts = next.last_ts.max(frozen.max_ts);
        add_extents(store, &mut next, &written);
        manifest_file::store(&*store.data.storage, &store.dir, &next)?;
        *manifest = next;
        store
            .view
            .update(|view| view.replaced(Some(&frozen), &written, &[]));
    }
    let checkpoint = frozen.max_ts;
    // The replaced view holds the frozen memtable: let the epoch free it now, not after dozens
    // more updates.
    drop(frozen);
    chronokv_morton::collect_garbage();
    crash::point("flush:before-checkpoint");
    // A failed checkpoint leaves old segments behind (replay skips their records); the next
    // flush tries again, so it does not fail this one.
    let _ = store.wal.checkpoint(checkpoint);
    Ok(())
}

/// Records `written` in `next` (the manifest about to be stored).
pub(crate) fn add_extents(
    store: &Store,
    next: &mut chronokv_extent::Manifest,
    written: &[Arc<LiveExtent>],
) {
    next.extents.extend(written.iter().map(|e| e.to_manifest()));
    let reused: Vec<(u64, u64)> = written
        .iter()
        .map(|e| (e.info.extent.offset, e.info.extent.len))
        .collect();
    next.free.retain(|region| !reused.contains(region));
    next.data_end = next.data_end.max(store.data.allocator.end());
    next.next_extent_id = next
        .next_extent_id
        .max(written.iter().map(|e| e.info.id + 1).max().unwrap_or(0));
}

/// Receives versions in strictly increasing (key, ts) order; `None` is a tombstone.
pub(crate) type Emit<'a> = dyn FnMut(&[u8], u64, Option<&[u8]>) -> Result<()> + 'a;

/// Calls `emit(key, ts, value)` for every version of `memtable` in (key, ts) order.
fn for_each_version(memtable: &Memtable, emit: &mut Emit<'_>) -> Result<()> {
    let mut failure = None;
    let mut versions: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
    memtable.scan_chains(Bound::Unbounded, Bound::Unbounded, false, |key, _chain| {
        versions.clear();
        memtable.history(key, |v| {
            // Newest first; a version equal in ts to the one before it was shadowed by it.
            if versions.last().is_none_or(|(ts, _)| *ts != v.ts()) {
                versions.push((v.ts(), v.value().map(<[u8]>::to_vec)));
            }
            ControlFlow::<()>::Continue(())
        });
        for (ts, value) in versions.iter().rev() {
            if let Err(error) = emit(key, *ts, value.as_deref()) {
                failure = Some(error);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    failure.map_or(Ok(()), Err)
}

/// Writes the versions `source` emits (in strictly increasing (key, ts) order) as extents of
/// about `extent_bytes`, syncs them, and opens them for reading. Nothing is published. With
/// `time_gap`, blocks are also cut at jumps in time (ExtentWriter::cut_at_time_gaps).
pub(crate) fn write_extents(
    store: &Store,
    time_gap: Option<u64>,
    source: impl FnOnce(&mut Emit<'_>) -> Result<()>,
) -> Result<Vec<Arc<LiveExtent>>> {
    let data = &store.data;
    let mut file = data
        .storage
        .open(&data.path)
        .map_err(|e| Error::io("open", &data.path, e))?;
    let options = WriterOptions {
        block_bytes: store.tuning.block_bytes,
        compress: true,
    };
    let mut placed: Vec<chronokv_extent::ManifestExtent> = Vec::new();
    let new_writer = || {
        let writer = ExtentWriter::new(options);
        match time_gap {
            Some(gap) => writer.cut_at_time_gaps(gap),
            None => writer,
        }
    };
    let mut writer = new_writer();
    let mut finish =
        |writer: ExtentWriter, file: &mut Box<dyn chronokv_wal::LogFile>| -> Result<()> {
            let Some((bytes, summary)) = writer.finish() else {
                return Ok(());
            };
            let region = data.allocator.allocate(bytes.len() as u64).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "an extent of {} bytes is larger than the largest region",
                    bytes.len()
                ))
            })?;
            file.write_all_at(region.offset, &bytes)
                .map_err(|e| Error::io("write", &data.path, e))?;
            placed.push(chronokv_extent::ManifestExtent {
                id: store.next_id(),
                offset: region.offset,
                len: region.len,
                bytes: bytes.len() as u64,
                z_min: summary.z_min,
                z_max: summary.z_max,
                key_min: summary.key_min,
                key_max: summary.key_max,
                ts_min: summary.ts_min,
                ts_max: summary.ts_max,
                versions: summary.versions,
            });
            Ok(())
        };
    let mut last_key: Vec<u8> = Vec::new();
    source(&mut |key, ts, value| {
        // Cut only between keys, so a key's versions stay in one extent and extents written
        // together never share a key.
        if writer.bytes_so_far() >= store.tuning.extent_bytes as u64 && key != last_key.as_slice() {
            let full = std::mem::replace(&mut writer, new_writer());
            finish(full, &mut file)?;
        }
        if key != last_key.as_slice() {
            last_key.clear();
            last_key.extend_from_slice(key);
        }
        writer.add(key, ts, value).map_err(|e| Error::Poisoned {
            cause: format!("extent writer refused a version: {e}"),
        })
    })?;
    finish(writer, &mut file)?;
    crash::point("flush:extents-written");
    file.sync_data()
        .map_err(|e| Error::io("fdatasync", &data.path, e))?;
    crash::point("flush:extents-synced");
    placed
        .iter()
        .map(|m| LiveExtent::open(&store.data, m).map(Arc::new))
        .collect()
}
