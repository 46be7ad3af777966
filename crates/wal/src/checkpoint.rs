//! Checkpointing: removing the oldest sealed segments once the engine no longer needs their
//! records (see the crate docs, Checkpoints).

use std::collections::VecDeque;
use std::io;
use std::path::Path;

use crate::error::WalError;
use crate::flusher::Shared;
use crate::format::segment_file_name;
use crate::storage::Storage;
use crate::sync::{lock, Ordering};

/// A sealed segment, as the log remembers it for checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SealedSegment {
    pub index: u64,
    /// Its seal's seq: the seq of the last commit record in it or before it.
    pub last_seq: u64,
    /// Bytes of the commit records in it, as [`Wal::bytes`](crate::Wal::bytes) counts them.
    pub record_bytes: u64,
    /// The file's length.
    pub file_bytes: u64,
}

/// The sealed segments still on disk, oldest first. The flusher pushes at the back as it
/// seals; only [`checkpoint`] pops at the front.
pub(crate) type Sealed = VecDeque<SealedSegment>;

/// What one [`Wal::checkpoint`](crate::Wal::checkpoint) removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckpointStats {
    /// Segment files removed.
    pub segments: u64,
    /// Their total length on disk: the space given back to the file system.
    pub bytes: u64,
    /// Bytes of the commit records they held: how much [`Wal::bytes`](crate::Wal::bytes)
    /// dropped.
    pub record_bytes: u64,
}

/// Removes, oldest first, every sealed segment whose seal's seq is at most `seq`, except the
/// newest sealed segment while the segment after it does not begin with a durable record.
/// The caller serializes checkpoints (only this function pops from `shared.sealed`).
pub(crate) fn checkpoint(
    shared: &Shared,
    storage: &dyn Storage,
    dir: &Path,
    seq: u64,
) -> Result<CheckpointStats, WalError> {
    let mut stats = CheckpointStats::default();
    while let Some(seg) = next_removable(shared, seq) {
        remove_durably(storage, dir, seg.index)?;
        let popped = lock(&shared.sealed).pop_front();
        debug_assert_eq!(popped, Some(seg), "checkpoints are serialized");
        // Relaxed: an informational figure. It never underflows: the flusher added these bytes
        // before it pushed the segment, under the lock taken above (see `Flusher::rotate`).
        shared.bytes.fetch_sub(seg.record_bytes, Ordering::Relaxed);
        stats.segments += 1;
        stats.bytes += seg.file_bytes;
        stats.record_bytes += seg.record_bytes;
    }
    Ok(stats)
}

/// The oldest sealed segment, if a checkpoint at `seq` may remove it.
///
/// Recovery starts from the first segment left, and tells a torn tail from damage by
/// comparing the `synced` field of later records with the last good seq (see the crate docs,
/// Recovery). A sealed segment was synced whole, so if it comes first its records give that
/// baseline. The segment after the newest sealed one is the flusher's: if its first record may
/// still be lost, a power loss could leave it starting with a hole followed by intact records
/// whose `synced` names seqs of the removed segments, which recovery would have to call
/// corruption. So the newest sealed segment stays until the flusher has synced a record into
/// the segment after it.
fn next_removable(shared: &Shared, seq: u64) -> Option<SealedSegment> {
    let sealed = lock(&shared.sealed);
    let oldest = *sealed.front()?;
    if oldest.last_seq > seq {
        return None;
    }
    if sealed.len() == 1 {
        // ORDERING: Acquire, pairs with the Release in `Flusher::sync`: a value above `oldest`
        // means the sync of the next segment's first record has completed.
        let durable = shared.first_durable.load(Ordering::Acquire);
        if durable <= oldest.index {
            return None;
        }
    }
    Some(oldest)
}

/// Removes segment `index` and syncs the directory.
///
/// Removals are made oldest first, one directory sync each. POSIX does not order unsynced
/// directory operations: removing segments 1 and 2 and then losing power can leave 2 gone and
/// 1 present, a gap recovery refuses (a missing segment in the middle of the log may have held
/// acknowledged records). With a sync after every removal at most one removal is undecided at
/// any time, and whichever way it goes the segments left are numbered without a gap.
/// Checkpoints are rare; the extra syncs do not matter.
///
/// A file already gone was removed by an earlier checkpoint whose directory sync failed; the
/// sync is retried.
fn remove_durably(storage: &dyn Storage, dir: &Path, index: u64) -> Result<(), WalError> {
    let path = dir.join(segment_file_name(index));
    match storage.remove(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WalError::io("remove", &path, e)),
    }
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("sync_dir", dir, e))
}
