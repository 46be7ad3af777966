//! Rotation: records flow through sealed, preallocated segments; a record larger than a
//! segment gets a segment of its own; the next segment is prepared ahead.

mod common;

use std::fs;
use std::sync::{Arc, Mutex};
use std::thread;

use chronokv_wal::{Durability, WalOptions, SEGMENT_HEADER_LEN};
use common::{logical_bytes, open_collect, segment_n, wait_for_segment, Records};
use rand::{Rng, RngCore};

fn opts(durability: Durability, segment_bytes: u64) -> WalOptions {
    WalOptions {
        durability,
        segment_bytes,
        ..WalOptions::default()
    }
}

#[test]
fn wal_rotation_many_segments_round_trip() {
    let mut rng = common::rng("wal_rotation_many_segments_round_trip");
    let dir = tempfile::tempdir().unwrap();
    let segment_bytes = 1024;
    let records: Records = (1..=300u64)
        .map(|seq| {
            let len = if rng.random_ratio(1, 30) {
                rng.random_range(1_000..5_000) // larger than a segment
            } else {
                rng.random_range(0..200)
            };
            let mut payload = vec![0u8; len];
            rng.fill_bytes(&mut payload);
            (seq, payload)
        })
        .collect();

    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync, segment_bytes)).unwrap();
    for (seq, payload) in &records[..150] {
        wal.append(*seq, payload.clone()).unwrap();
        if rng.random_ratio(1, 3) {
            wal.wait_acked(*seq).unwrap();
        }
    }
    wal.close().unwrap();
    let (wal, seen) = open_collect(dir.path(), opts(Durability::Sync, segment_bytes)).unwrap();
    assert_eq!(seen, records[..150].to_vec());
    for (seq, payload) in &records[150..] {
        wal.append(*seq, payload.clone()).unwrap();
    }
    wal.wait_acked(300).unwrap();
    assert_eq!(wal.bytes(), logical_bytes(&records));
    wal.close().unwrap();

    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() > 20, "expected many segments: {names:?}");
    assert!(names.iter().all(|n| n.ends_with(".log")), "{names:?}");
    for name in &names {
        let len = fs::metadata(dir.path().join(name)).unwrap().len();
        assert!(
            len >= segment_bytes,
            "{name} is {len} bytes: not preallocated"
        );
    }
    let (_wal, seen) = open_collect(dir.path(), opts(Durability::Sync, segment_bytes)).unwrap();
    assert_eq!(seen, records);
}

#[test]
fn wal_rotation_concurrent_writers() {
    const THREADS: u64 = 6;
    const PER_THREAD: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync, 2048)).unwrap();
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wal, next) = (Arc::clone(&wal), Arc::clone(&next));
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let seq = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        let payload = vec![t as u8; (i as usize * 7) % 300];
                        wal.append(*next, payload).unwrap();
                        *next
                    };
                    wal.wait_acked(seq).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = wal.stats();
    eprintln!("{stats:?}");
    drop(wal);
    let (_wal, seen) = open_collect(dir.path(), opts(Durability::Sync, 2048)).unwrap();
    assert_eq!(seen.len() as u64, THREADS * PER_THREAD);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, (seq, _))| *seq == i as u64 + 1));
}

#[test]
fn wal_rotation_next_segment_is_prepared_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::Sync, 4096)).unwrap();
    // Segment 2 is prepared right after open, before anything is written.
    wait_for_segment(dir.path(), 2);
    // Filling segment 1 moves the log into segment 2, and segment 3 is then prepared.
    for seq in 1..=40 {
        wal.append(seq, vec![7; 100]).unwrap();
        wal.wait_acked(seq).unwrap();
    }
    wait_for_segment(dir.path(), 3);
    let second = fs::read(segment_n(dir.path(), 2)).unwrap();
    assert_eq!(second.len(), 4096);
    assert!(
        second[SEGMENT_HEADER_LEN..].iter().any(|&b| b != 0),
        "segment 2 is in use"
    );
    wal.close().unwrap();
}

#[test]
fn wal_rotation_segment_sizes_grow_to_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open_collect(dir.path(), opts(Durability::None, 64 << 20)).unwrap();
    wait_for_segment(dir.path(), 2);
    wal.close().unwrap();
    assert_eq!(
        fs::metadata(segment_n(dir.path(), 1)).unwrap().len(),
        1 << 20
    );
    assert_eq!(
        fs::metadata(segment_n(dir.path(), 2)).unwrap().len(),
        2 << 20
    );
}
