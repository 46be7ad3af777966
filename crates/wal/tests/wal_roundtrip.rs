//! Appending, closing and reopening give back exactly what was appended.

mod common;

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chronokv_wal::{Durability, Wal, WalError, WalOptions, MAX_RECORD_LEN};
use common::{logical_bytes, no_sync, open_collect, segment, Records};
use rand::Rng;

fn varied_records(rng: &mut impl Rng, first_seq: u64, count: usize) -> Records {
    let fixed = [0usize, 1, 19, 20, 21, 4095, 4096, 65_536, 100_000];
    let mut seq = first_seq;
    (0..count)
        .map(|i| {
            let len = if i < fixed.len() {
                fixed[i]
            } else if rng.random_ratio(1, 10) {
                rng.random_range(0..=100_000)
            } else {
                rng.random_range(0..512)
            };
            let mut payload = vec![0u8; len];
            rng.fill_bytes(&mut payload);
            let record = (seq, payload);
            seq += rng.random_range(1..1_000);
            record
        })
        .collect()
}

fn append_all(wal: &Wal, records: &Records) {
    for (seq, payload) in records {
        wal.append(*seq, payload.clone()).expect("append");
    }
}

#[test]
fn wal_roundtrip_varied_sizes() {
    let mut rng = common::rng("wal_roundtrip_varied_sizes");
    let dir = tempfile::tempdir().unwrap();
    let first = varied_records(&mut rng, 1, 60);
    let last_first = first.last().unwrap().0;

    let (wal, seen) = open_collect(dir.path(), WalOptions::default()).unwrap();
    assert!(seen.is_empty());
    assert_eq!(wal.acked(), 0);
    append_all(&wal, &first);
    assert_eq!(wal.wait_acked(last_first).unwrap(), last_first);
    wal.close().unwrap();

    let (wal, seen) = open_collect(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, first);
    assert_eq!(wal.acked(), last_first);
    assert_eq!(wal.bytes(), logical_bytes(&first));

    // Appending after reopen continues the same file.
    let second = varied_records(&mut rng, last_first + 1, 20);
    let last_second = second.last().unwrap().0;
    append_all(&wal, &second);
    wal.wait_acked(last_second).unwrap();
    drop(wal); // Drop closes.

    let (wal, seen) = open_collect(dir.path(), WalOptions::default()).unwrap();
    let all: Records = first.into_iter().chain(second).collect();
    assert_eq!(seen, all);
    assert_eq!(wal.acked(), last_second);
    assert_eq!(wal.bytes(), logical_bytes(&all));
    drop(wal);
    for entry in fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.ends_with(".log"), "unexpected file {name}");
    }
}

#[test]
fn wal_roundtrip_creates_missing_dir() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a").join("b").join("wal");
    let (wal, seen) = open_collect(&dir, WalOptions::default()).unwrap();
    assert!(seen.is_empty());
    assert_eq!(wal.acked(), 0);
    assert_eq!(wal.bytes(), 0);
    assert!(segment(&dir).is_file());
    wal.append(7, b"x".to_vec()).unwrap();
    assert_eq!(wal.wait_acked(7).unwrap(), 7);
    wal.close().unwrap();
    let (_wal, seen) = open_collect(&dir, WalOptions::default()).unwrap();
    assert_eq!(seen, vec![(7, b"x".to_vec())]);
}

#[test]
fn wal_roundtrip_close_drains_unwaited_appends() {
    for durability in [Durability::Sync, Durability::Async, Durability::None] {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            durability,
            ..WalOptions::default()
        };
        let (wal, _) = open_collect(dir.path(), opts.clone()).unwrap();
        let records: Records = (1..=1_000u64)
            .map(|s| (s, s.to_le_bytes().to_vec()))
            .collect();
        append_all(&wal, &records);
        wal.close().unwrap();
        assert_eq!(wal.acked(), 1_000, "{durability:?}");
        let (_wal, seen) = open_collect(dir.path(), opts).unwrap();
        assert_eq!(seen, records, "{durability:?}");
    }
}

#[test]
fn wal_roundtrip_close_keeps_every_accepted_append() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), no_sync()).unwrap();
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(0u64));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (wal, next, accepted, started) = (
                Arc::clone(&wal),
                Arc::clone(&next),
                Arc::clone(&accepted),
                Arc::clone(&started),
            );
            thread::spawn(move || loop {
                let mut next = next.lock().unwrap();
                let seq = *next + 1;
                match wal.append(seq, seq.to_be_bytes().to_vec()) {
                    Ok(()) => {
                        *next = seq;
                        accepted.lock().unwrap().push(seq);
                        // Relaxed: only a hint that appends are flowing.
                        started.store(true, Ordering::Relaxed);
                    }
                    Err(WalError::Closed) => return,
                    Err(e) => panic!("unexpected {e}"),
                }
            })
        })
        .collect();
    // Relaxed: as above.
    while !started.load(Ordering::Relaxed) {
        thread::yield_now();
    }
    thread::sleep(Duration::from_millis(20));
    wal.close().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(!accepted.is_empty());
    assert_eq!(wal.acked(), *accepted.last().unwrap());
    drop(wal);
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    let seen: Vec<u64> = seen.into_iter().map(|(seq, _)| seq).collect();
    assert_eq!(seen, accepted);
}

#[test]
fn wal_roundtrip_rejects_bad_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), WalOptions::default()).unwrap();

    match wal.append(1, vec![0u8; MAX_RECORD_LEN + 1]) {
        Err(WalError::RecordTooLarge { len, max }) => {
            assert_eq!((len, max), (MAX_RECORD_LEN + 1, MAX_RECORD_LEN));
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    assert!(matches!(
        wal.append(0, vec![]),
        Err(WalError::OutOfOrder { seq: 0, last: 0 })
    ));
    wal.append(5, b"five".to_vec()).unwrap();
    assert!(matches!(
        wal.append(5, vec![]),
        Err(WalError::OutOfOrder { seq: 5, last: 5 })
    ));
    assert!(matches!(
        wal.append(3, vec![]),
        Err(WalError::OutOfOrder { seq: 3, last: 5 })
    ));
    assert_eq!(wal.wait_acked(5).unwrap(), 5);

    wal.close().unwrap();
    wal.close().unwrap(); // idempotent
    assert!(matches!(wal.append(6, vec![]), Err(WalError::Closed)));
    assert!(matches!(wal.wait_acked(6), Err(WalError::Closed)));
    assert_eq!(wal.wait_acked(5).unwrap(), 5);

    let (wal, seen) = open_collect(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(seen, vec![(5, b"five".to_vec())]);
    assert!(matches!(
        wal.append(5, vec![]),
        Err(WalError::OutOfOrder { seq: 5, last: 5 })
    ));
}
