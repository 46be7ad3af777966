//! Checkpoints remove exactly the sealed segments whose records are all at or below the
//! checkpointed seq, never the segment being written, and the log reopens with every record
//! above it.

mod common;

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use chronokv_wal::{CheckpointStats, Durability, Wal, WalError, WalOptions};
use common::{
    logical_bytes, open_collect, segment_contents, segment_indices, segment_n, wait_for_segment,
    FaultStorage, Records,
};
use rand::{Rng, RngCore};

/// Small segments: 7 records of [`payload`] each.
const SEGMENT_BYTES: u64 = 1024;

fn opts(durability: Durability) -> WalOptions {
    WalOptions {
        durability,
        segment_bytes: SEGMENT_BYTES,
        ..WalOptions::default()
    }
}

fn payload(seq: u64) -> Vec<u8> {
    let mut payload = format!("record {seq} ").into_bytes();
    payload.resize(100, b'.');
    payload
}

fn records(seqs: impl IntoIterator<Item = u64>) -> Records {
    seqs.into_iter().map(|seq| (seq, payload(seq))).collect()
}

/// One segment file as found on disk.
#[derive(Debug, Clone)]
struct OnDisk {
    index: u64,
    seqs: Vec<u64>,
    seal: Option<u64>,
    len: u64,
}

fn layout(dir: &Path) -> Vec<OnDisk> {
    segment_indices(dir)
        .into_iter()
        .map(|index| {
            let bytes = fs::read(segment_n(dir, index)).unwrap();
            let (seqs, seal) = segment_contents(&bytes);
            OnDisk {
                index,
                seqs,
                seal,
                len: bytes.len() as u64,
            }
        })
        .collect()
}

/// Appends `seqs` one synced batch each, then waits until the helper has prepared the spare
/// after the last segment, so that the directory no longer changes by itself.
fn append_all(wal: &Wal, dir: &Path, seqs: impl IntoIterator<Item = u64>) {
    for seq in seqs {
        wal.append(seq, payload(seq)).unwrap();
        wal.wait_acked(seq).unwrap();
    }
    let last = *segment_indices(dir).last().unwrap();
    let tail = layout(dir)
        .iter()
        .rfind(|s| !s.seqs.is_empty() || s.seal.is_some())
        .map_or(last, |s| s.index);
    wait_for_segment(dir, tail + 1);
}

/// The segments a checkpoint at `seq` is expected to remove from `before`: the sealed ones
/// with a seal `<= seq`, oldest first, stopping at the first that is not; the newest sealed
/// one only if the next segment holds a record (every test here syncs its records).
fn expected_removed(before: &[OnDisk], seq: u64) -> Vec<OnDisk> {
    let sealed: Vec<&OnDisk> = before.iter().filter(|s| s.seal.is_some()).collect();
    let mut removed = Vec::new();
    for (i, seg) in sealed.iter().enumerate() {
        if seg.seal.unwrap() > seq {
            break;
        }
        let newest = i + 1 == sealed.len();
        if newest {
            let next = before.iter().find(|s| s.index == seg.index + 1).unwrap();
            if next.seqs.is_empty() {
                break;
            }
        }
        removed.push((*seg).clone());
    }
    removed
}

fn indices(segments: &[OnDisk]) -> Vec<u64> {
    segments.iter().map(|s| s.index).collect()
}

#[test]
fn checkpoint_segments_remove_exactly_the_sealed_segments_at_or_below_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    append_all(&wal, dir.path(), 1..=50);
    let before = layout(dir.path());
    let seals: Vec<u64> = before.iter().filter_map(|s| s.seal).collect();
    assert!(seals.len() >= 5, "{before:?}");

    let cut = seals[2];
    let removed = expected_removed(&before, cut);
    assert_eq!(removed.len(), 3);
    let bytes_before = wal.bytes();
    let stats = wal.checkpoint(cut).unwrap();
    assert_eq!(
        stats,
        CheckpointStats {
            segments: 3,
            bytes: removed.iter().map(|s| s.len).sum(),
            record_bytes: logical_bytes(&records(1..=cut)),
        }
    );
    assert_eq!(bytes_before - wal.bytes(), stats.record_bytes);
    let left: Vec<u64> = indices(&before)
        .into_iter()
        .filter(|i| !indices(&removed).contains(i))
        .collect();
    assert_eq!(segment_indices(dir.path()), left);

    // A seq inside the next segment, or the same one again, removes nothing more.
    assert_eq!(
        wal.checkpoint(seals[3] - 1).unwrap(),
        CheckpointStats::default()
    );
    assert_eq!(wal.checkpoint(cut).unwrap(), CheckpointStats::default());
    assert_eq!(segment_indices(dir.path()), left);

    wal.close().unwrap();
    let (wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    assert_eq!(seen, records(cut + 1..=50));
    assert_eq!(wal.bytes(), logical_bytes(&seen));
    assert_eq!(wal.acked(), 50);
}

#[test]
fn checkpoint_segments_reopen_replays_every_record_above_the_checkpoint() {
    for cut in [1, 6, 7, 8, 13, 20, 21, 22, 30, 40, 49, 50] {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
        append_all(&wal, dir.path(), 1..=50);
        let before = layout(dir.path());
        let removed = expected_removed(&before, cut);
        let stats = wal.checkpoint(cut).unwrap();
        assert_eq!(stats.segments, removed.len() as u64, "cut {cut}");
        wal.close().unwrap();

        // Exactly the records of the segments left come back: all those above `cut`, and
        // the ones at or below it that share a segment with them.
        let first = before
            .iter()
            .find(|s| !indices(&removed).contains(&s.index))
            .map(|s| s.seqs[0])
            .unwrap();
        assert!(first <= cut + 1, "cut {cut}: first record left is {first}");
        let (wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
        assert_eq!(seen, records(first..=50), "cut {cut}");

        // The reopened log knows the sealed segments recovery walked through: later
        // checkpoints remove them.
        append_all(&wal, dir.path(), 51..=60);
        let before = layout(dir.path());
        let removed = expected_removed(&before, 55);
        assert_eq!(
            wal.checkpoint(55).unwrap().segments,
            removed.len() as u64,
            "cut {cut}"
        );
        let sealed = before.iter().filter(|s| s.seal.is_some()).count();
        assert_eq!(
            removed.len() as u64 + wal.checkpoint(60).unwrap().segments,
            sealed as u64,
            "cut {cut}: every sealed segment, recovered or not, goes"
        );
        wal.close().unwrap();
        let first = layout(dir.path())[0].seqs[0];
        let (_wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
        assert_eq!(seen, records(first..=60), "cut {cut}");
    }
}

#[test]
fn checkpoint_segments_zero_removes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    append_all(&wal, dir.path(), 1..=40);
    let before = segment_indices(dir.path());
    let bytes = wal.bytes();
    assert_eq!(wal.checkpoint(0).unwrap(), CheckpointStats::default());
    assert_eq!(segment_indices(dir.path()), before);
    assert_eq!(wal.bytes(), bytes);
    wal.close().unwrap();
    let (_wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    assert_eq!(seen, records(1..=40));
}

#[test]
fn checkpoint_segments_never_remove_the_active_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    // Nothing sealed yet: nothing to remove.
    append_all(&wal, dir.path(), 1..=3);
    assert_eq!(
        wal.checkpoint(u64::MAX).unwrap(),
        CheckpointStats::default()
    );

    append_all(&wal, dir.path(), 4..=40);
    let before = layout(dir.path());
    let active = before.iter().rfind(|s| !s.seqs.is_empty()).unwrap().clone();
    assert!(active.seal.is_none());
    let stats = wal.checkpoint(u64::MAX).unwrap();
    assert_eq!(
        stats.segments,
        before.iter().filter(|s| s.seal.is_some()).count() as u64
    );
    let after = layout(dir.path());
    assert_eq!(after[0].index, active.index, "{after:?}");
    assert!(after.iter().all(|s| s.seal.is_none()));
    assert_eq!(wal.bytes(), logical_bytes(&records(active.seqs.clone())));

    // The log goes on: more segments, another checkpoint, a reopen.
    append_all(&wal, dir.path(), 41..=80);
    assert!(wal.checkpoint(u64::MAX).unwrap().segments > 0);
    let active = layout(dir.path())
        .into_iter()
        .rfind(|s| !s.seqs.is_empty())
        .unwrap();
    assert_eq!(layout(dir.path())[0].index, active.index);
    wal.close().unwrap();
    let (wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    assert_eq!(seen, records(active.seqs.clone()));
    assert_eq!(*active.seqs.last().unwrap(), 80);
    assert_eq!(wal.bytes(), logical_bytes(&seen));
}

#[test]
fn checkpoint_segments_keep_the_newest_sealed_until_the_next_is_synced() {
    // Under Durability::None nothing in the segment being written is synced before close, so
    // the sealed segment before it must stay (recovery starts from a durable record).
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::None)).unwrap();
    append_all(&wal, dir.path(), 1..=30);
    let before = layout(dir.path());
    let sealed: Vec<u64> = before
        .iter()
        .filter(|s| s.seal.is_some())
        .map(|s| s.index)
        .collect();
    let stats = wal.checkpoint(u64::MAX).unwrap();
    assert_eq!(stats.segments, sealed.len() as u64 - 1);
    assert_eq!(segment_indices(dir.path())[0], *sealed.last().unwrap());

    // Close syncs the last segment; a checkpoint after close may then remove the sealed one.
    wal.close().unwrap();
    assert_eq!(wal.checkpoint(u64::MAX).unwrap().segments, 1);
    let first = layout(dir.path())[0].clone();
    assert!(first.seal.is_none() && !first.seqs.is_empty(), "{first:?}");
    drop(wal);
    let (_wal, seen) = open_collect(dir.path(), opts(Durability::None)).unwrap();
    assert_eq!(seen, records(first.seqs[0]..=30));
}

#[test]
fn checkpoint_segments_concurrent_appends_lose_nothing() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 400;
    const TOTAL: u64 = THREADS * PER_THREAD;
    let mut rng = common::rng("checkpoint_segments_concurrent_appends_lose_nothing");
    let seed = rng.next_u64();
    let payload = move |seq: u64| -> Vec<u8> {
        let len = (seq ^ seed) % 300;
        (0..len).map(|i| (seq.wrapping_mul(31) ^ i) as u8).collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(
        dir.path(),
        WalOptions {
            segment_bytes: 2048,
            ..opts(Durability::Sync)
        },
    )
    .unwrap();
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(0u64));
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (wal, next) = (Arc::clone(&wal), Arc::clone(&next));
            thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    let seq = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        wal.append(*next, payload(*next)).unwrap();
                        *next
                    };
                    wal.wait_acked(seq).unwrap();
                }
            })
        })
        .collect();
    let checkpointed = Arc::new(AtomicU64::new(0));
    let checkpointer = {
        let (wal, done, checkpointed) = (
            Arc::clone(&wal),
            Arc::clone(&done),
            Arc::clone(&checkpointed),
        );
        let lag = rng.random_range(0..20);
        thread::spawn(move || {
            let mut removed = CheckpointStats::default();
            // Relaxed: a stop flag; the writers are joined before it is set.
            while !done.load(Ordering::Relaxed) {
                let seq = wal.acked().saturating_sub(lag);
                let stats = wal.checkpoint(seq).unwrap();
                // Relaxed: read after this thread is joined.
                checkpointed.fetch_max(seq, Ordering::Relaxed);
                removed.segments += stats.segments;
                removed.record_bytes += stats.record_bytes;
                thread::yield_now();
            }
            removed
        })
    };
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let removed = checkpointer.join().unwrap();
    assert!(removed.segments > 0, "no segment was removed");
    let all: Records = (1..=TOTAL).map(|seq| (seq, payload(seq))).collect();
    assert_eq!(wal.bytes() + removed.record_bytes, logical_bytes(&all));
    wal.close().unwrap();
    drop(wal);

    let (_wal, seen) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    let checkpointed = checkpointed.load(Ordering::Relaxed);
    let first = seen.first().map_or(TOTAL + 1, |r| r.0);
    assert!(
        first <= checkpointed + 1,
        "records {}..{first} are missing (checkpointed up to {checkpointed})",
        checkpointed + 1
    );
    assert_eq!(seen, all[first as usize - 1..].to_vec());
}

#[test]
fn checkpoint_segments_failed_removal_does_not_poison() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FaultStorage::default();
    let faults = Arc::clone(&storage.faults);
    let options = WalOptions {
        storage: Arc::new(storage),
        ..opts(Durability::Sync)
    };
    let (wal, _) = open_collect(dir.path(), options.clone()).unwrap();
    append_all(&wal, dir.path(), 1..=40);
    let before = layout(dir.path());
    let bytes = wal.bytes();

    // Relaxed: a test switch, read by this thread's calls.
    faults.fail_remove.store(true, Ordering::Relaxed);
    match wal.checkpoint(u64::MAX) {
        Err(WalError::Io { op: "remove", .. }) => {}
        other => panic!("expected a failed remove, got {other:?}"),
    }
    faults.fail_remove.store(false, Ordering::Relaxed);
    assert_eq!(wal.bytes(), bytes);
    assert_eq!(segment_indices(dir.path()), indices(&before));

    // The removal lands but the directory sync fails: reported, and retried next time.
    *faults.fail_sync_dir_on.lock().unwrap() = Some(thread::current().id());
    match wal.checkpoint(u64::MAX) {
        Err(WalError::Io { op: "sync_dir", .. }) => {}
        other => panic!("expected a failed sync_dir, got {other:?}"),
    }
    *faults.fail_sync_dir_on.lock().unwrap() = None;
    assert!(!segment_n(dir.path(), before[0].index).exists());
    assert_eq!(wal.bytes(), bytes, "counted once the removal is durable");

    // Not poisoned: appends and checkpoints go on.
    append_all(&wal, dir.path(), 41..=45);
    let removed = expected_removed(&before, u64::MAX);
    let stats = wal.checkpoint(u64::MAX).unwrap();
    assert!(stats.segments >= removed.len() as u64, "{stats:?}");
    for seg in &removed {
        assert!(!segment_n(dir.path(), seg.index).exists(), "{seg:?}");
    }
    wal.close().unwrap();
    let first = layout(dir.path())[0].seqs[0];
    let (_wal, seen) = open_collect(dir.path(), options).unwrap();
    assert_eq!(seen, records(first..=45));
}
