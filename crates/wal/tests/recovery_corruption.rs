//! Damage to synced data followed by intact records is reported, never skipped.

mod common;

use std::fs;

use chronokv_wal::{encode_record, WalError};
use common::{
    assert_zeros_from, build_segment, no_sync, open_collect, segment, write_log, Records,
};
use rand::{Rng, RngCore};

#[test]
fn recovery_corruption_every_bit_of_middle_record() {
    let mut rng = common::rng("recovery_corruption_every_bit_of_middle_record");
    let source = tempfile::tempdir().unwrap();
    let records: Records = (1..=5u64)
        .map(|seq| {
            let mut payload = vec![0u8; rng.random_range(1..=64)];
            rng.fill_bytes(&mut payload);
            (seq, payload)
        })
        .collect();
    let offsets = write_log(source.path(), &records);
    let bytes = fs::read(segment(source.path())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = segment(dir.path());
    let (start, end) = (offsets[2], offsets[3]);
    for byte in start..end {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[byte as usize] ^= 1 << bit;
            fs::write(&path, &damaged).unwrap();
            let ctx = format!("bit {bit} of byte {byte} (record 3 spans {start}..{end})");
            match open_collect(dir.path(), no_sync()) {
                Err(WalError::Corruption {
                    path: p, offset, ..
                }) => {
                    assert_eq!(p, path, "{ctx}");
                    assert_eq!(offset, start, "{ctx}");
                }
                Err(e) => panic!("{ctx}: expected Corruption, got {e}"),
                Ok(_) => panic!("{ctx}: expected Corruption, opened"),
            }
            // The damaged file is left as it was for the operator.
            assert_eq!(fs::read(&path).unwrap(), damaged, "{ctx}");
        }
    }
}

#[test]
fn recovery_corruption_seq_not_increasing() {
    let dir = tempfile::tempdir().unwrap();
    let records: Records = [(1u64, "a"), (2, "b"), (2, "again"), (4, "d")]
        .into_iter()
        .map(|(seq, p)| (seq, p.as_bytes().to_vec()))
        .collect();
    let (bytes, offsets) = build_segment(1, &records, false, 4096);
    fs::write(segment(dir.path()), &bytes).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { offset, reason, .. }) => {
            assert_eq!(offset, offsets[2]);
            assert!(reason.contains("seq 2"), "{reason}");
        }
        other => panic!("expected Corruption, got {other:?}"),
    }

    // The same record as the last one is a torn tail (e.g. a stale rewrite): cut.
    let (bytes, offsets) = build_segment(1, &records[..3].to_vec(), false, 4096);
    fs::write(segment(dir.path()), &bytes).unwrap();
    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, vec![(1, b"a".to_vec()), (2, b"b".to_vec())]);
    assert_eq!(wal.bytes(), offsets[2] - offsets[0]);
    drop(wal);
    assert_zeros_from(
        &fs::read(segment(dir.path())).unwrap(),
        offsets[2],
        "cut record",
    );
}

#[test]
fn recovery_corruption_synced_record_zeroed_before_later_records() {
    // Records 1..=5 each synced on their own; record 3 later reads back as zeros (a lost
    // sector of synced data): the later records prove it had been synced.
    let dir = tempfile::tempdir().unwrap();
    let records: Records = (1..=5u64).map(|seq| (seq, vec![seq as u8; 700])).collect();
    let (mut bytes, offsets) = build_segment(1, &records, false, 8192);
    bytes[offsets[2] as usize..offsets[3] as usize].fill(0);
    fs::write(segment(dir.path()), &bytes).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { offset, reason, .. }) => {
            assert_eq!(offset, offsets[2]);
            assert!(reason.contains("synced up to seq 3"), "{reason}");
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
    assert_eq!(
        fs::read(segment(dir.path())).unwrap(),
        bytes,
        "left as it was"
    );

    // The same hole when the later records never claimed a sync past seq 2 (one unsynced
    // batch, persisted out of order) is a torn tail: records 4 and 5 were never acknowledged.
    let mut bytes = Vec::new();
    chronokv_wal::encode_segment_header(1, &mut bytes);
    let mut offsets = Vec::new();
    for (seq, payload) in &records {
        offsets.push(bytes.len() as u64);
        encode_record(*seq, (*seq - 1).min(2), payload, &mut bytes).unwrap();
    }
    offsets.push(bytes.len() as u64);
    bytes[offsets[2] as usize..offsets[3] as usize].fill(0);
    bytes.resize(8192, 0);
    fs::write(segment(dir.path()), &bytes).unwrap();
    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records[..2].to_vec());
    assert_eq!(wal.acked(), 2);
    wal.append(3, b"new three".to_vec()).unwrap();
    wal.close().unwrap();
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    let mut expect = records[..2].to_vec();
    expect.push((3, b"new three".to_vec()));
    assert_eq!(seen, expect, "the old records 4 and 5 must not come back");
}

#[test]
fn recovery_corruption_random_garbage_in_middle() {
    let mut rng = common::rng("recovery_corruption_random_garbage_in_middle");
    let source = tempfile::tempdir().unwrap();
    let records: Records = (1..=20u64)
        .map(|seq| {
            let mut payload = vec![0u8; rng.random_range(0..=2_000)];
            rng.fill_bytes(&mut payload);
            (seq, payload)
        })
        .collect();
    let offsets = write_log(source.path(), &records);
    let bytes = fs::read(segment(source.path())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    for _ in 0..50 {
        // (the offsets index records from 0: record `victim` has seq victim + 1)
        // Damage somewhere inside records 1..=18, leaving record 20 intact.
        let victim = rng.random_range(0..18);
        let (start, end) = (offsets[victim], offsets[victim + 1]);
        let at = rng.random_range(start..end) as usize;
        let len = rng.random_range(1..=(end as usize - at).min(64));
        let mut damaged = bytes.clone();
        let before = damaged[at..at + len].to_vec();
        rng.fill_bytes(&mut damaged[at..at + len]);
        if damaged[at..at + len] == before[..] {
            continue;
        }
        fs::write(segment(dir.path()), &damaged).unwrap();
        match open_collect(dir.path(), no_sync()) {
            Err(WalError::Corruption { offset, .. }) => assert_eq!(offset, start),
            other => panic!("damage at {at}+{len} in record {victim}: got {other:?}"),
        }
    }
}
