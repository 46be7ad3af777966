//! When each durability mode syncs.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use chronokv_wal::{Durability, WalOptions};
use common::open_collect;

fn opts(durability: Durability) -> WalOptions {
    WalOptions {
        durability,
        ..WalOptions::default()
    }
}

#[test]
fn flusher_durability_sync_syncs_every_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync)).unwrap();
    for seq in 1..=10 {
        wal.append(seq, vec![0; 10]).unwrap();
        wal.wait_acked(seq).unwrap();
        let stats = wal.stats();
        assert_eq!(stats.syncs, stats.batches);
    }
    wal.close().unwrap();
    let stats = wal.stats();
    assert_eq!(stats.syncs, stats.batches, "nothing left to sync on close");
}

#[test]
fn flusher_durability_async_syncs_soon_after() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Async)).unwrap();
    wal.append(1, vec![0; 10]).unwrap();
    wal.wait_acked(1).unwrap();
    let written = Instant::now();
    while wal.stats().syncs == 0 {
        assert!(
            written.elapsed() < Duration::from_secs(2),
            "no fdatasync 2 s after an async write"
        );
        thread::sleep(Duration::from_millis(1));
    }
    eprintln!(
        "async sync followed the write after {:?}",
        written.elapsed()
    );
    // Nothing written since: no more syncs.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(wal.stats().syncs, 1);
    wal.close().unwrap();
    assert_eq!(wal.stats().syncs, 1);
}

#[test]
fn flusher_durability_none_syncs_only_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::None)).unwrap();
    for seq in 1..=20 {
        wal.append(seq, vec![0; 10]).unwrap();
    }
    wal.wait_acked(20).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(wal.stats().syncs, 0);
    wal.close().unwrap();
    assert_eq!(wal.stats().syncs, 1);
    let (_wal, seen) = open_collect(dir.path(), opts(Durability::None)).unwrap();
    assert_eq!(seen.len(), 20);
}
