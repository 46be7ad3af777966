//! A failed write or sync poisons the log for good.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chronokv_wal::{Durability, Wal, WalError, WalOptions};
use common::{open_collect, wait_for_segment, FaultStorage};

fn open_faulty(durability: Durability) -> (tempfile::TempDir, FaultStorage, Wal) {
    let dir = tempfile::tempdir().unwrap();
    let storage = FaultStorage::default();
    let opts = WalOptions {
        durability,
        storage: Arc::new(storage.clone()),
        ..WalOptions::default()
    };
    let (wal, _) = open_collect(dir.path(), opts).unwrap();
    // Let the helper finish preparing the next segment, so that the faults the tests switch on
    // hit the flusher only.
    wait_for_segment(dir.path(), 2);
    (dir, storage, wal)
}

fn assert_poisoned<T: std::fmt::Debug>(result: Result<T, WalError>, needle: &str) {
    match result {
        Err(WalError::Poisoned { cause }) => assert!(cause.contains(needle), "cause: {cause}"),
        other => panic!("expected Poisoned, got {other:?}"),
    }
}

#[test]
fn flusher_poisoning_failed_sync() {
    let (_dir, storage, wal) = open_faulty(Durability::Sync);
    wal.append(1, b"one".to_vec()).unwrap();
    assert_eq!(wal.wait_acked(1).unwrap(), 1);

    // Relaxed: the flusher reads it after being woken by the append below.
    storage.faults.fail_sync.store(true, Ordering::Relaxed);
    let wal = Arc::new(wal);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let wal = Arc::clone(&wal);
            thread::spawn(move || wal.wait_acked(2))
        })
        .collect();
    wal.append(2, b"two".to_vec()).unwrap();
    assert_poisoned(wal.wait_acked(2), "injected fdatasync failure");
    for waiter in waiters {
        assert_poisoned(waiter.join().unwrap(), "injected fdatasync failure");
    }
    assert_eq!(wal.acked(), 1, "acked must not advance past a failed sync");
    assert_poisoned(wal.append(3, b"three".to_vec()), "fdatasync");
    assert_poisoned(wal.wait_acked(3), "fdatasync");
    assert_eq!(
        wal.wait_acked(1).unwrap(),
        1,
        "seqs acked before still succeed"
    );

    assert_poisoned(wal.close(), "fdatasync");
    assert_poisoned(wal.close(), "fdatasync");
    assert_eq!(wal.acked(), 1);
    // Relaxed: the flusher has been joined.
    assert_eq!(
        storage.faults.failed_syncs.load(Ordering::Relaxed),
        1,
        "a failed fdatasync is never retried"
    );
    drop(wal); // must not panic
}

#[test]
fn flusher_poisoning_failed_write() {
    let (_dir, storage, wal) = open_faulty(Durability::Sync);
    wal.append(1, b"one".to_vec()).unwrap();
    wal.wait_acked(1).unwrap();
    // Relaxed: see flusher_poisoning_failed_sync.
    storage.faults.fail_write.store(true, Ordering::Relaxed);
    wal.append(2, b"two".to_vec()).unwrap();
    assert_poisoned(wal.wait_acked(2), "injected write failure");
    assert_eq!(wal.acked(), 1);
    assert_poisoned(wal.append(3, vec![]), "write");
    assert_poisoned(wal.close(), "write");
}

#[test]
fn flusher_poisoning_async_failed_sync() {
    let (_dir, storage, wal) = open_faulty(Durability::Async);
    // Relaxed: see flusher_poisoning_failed_sync.
    storage.faults.fail_sync.store(true, Ordering::Relaxed);
    wal.append(1, b"one".to_vec()).unwrap();
    // Async acks after the write, before the (failing) sync.
    assert_eq!(wal.wait_acked(1).unwrap(), 1);
    // The sync follows within the interval and fails; a wait for a seq never appended ends
    // with the poison.
    let started = Instant::now();
    assert_poisoned(wal.wait_acked(2), "injected fdatasync failure");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(wal.acked(), 1);
    assert_poisoned(wal.append(3, vec![]), "fdatasync");
    assert_poisoned(wal.close(), "fdatasync");
}
