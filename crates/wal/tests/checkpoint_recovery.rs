//! Recovery of logs whose oldest segments a checkpoint removed: the first segment left may
//! have any index, a first segment sealed empty gives the baseline seq, and a gap between the
//! segments left is still corruption.

mod common;

use std::fs;

use chronokv_wal::{encode_record, encode_seal, encode_segment_header, WalError};
use common::{build_segment, logical_bytes, no_sync, open_collect, segment_n, Records};

fn records(seqs: std::ops::RangeInclusive<u64>) -> Records {
    seqs.map(|seq| (seq, format!("record {seq}").into_bytes()))
        .collect()
}

/// Segment `index` holding only a seal that names `seq` (passed over by a large record).
fn sealed_empty(index: u64, seq: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_segment_header(index, &mut bytes);
    encode_seal(seq, seq, &mut bytes);
    bytes.resize(1024, 0);
    bytes
}

#[test]
fn checkpoint_recovery_log_may_start_after_segment_1() {
    let dir = tempfile::tempdir().unwrap();
    let (third, _) = build_segment(3, &records(15..=17), true, 1024);
    let (fourth, _) = build_segment(4, &records(18..=19), false, 1024);
    fs::write(segment_n(dir.path(), 3), third).unwrap();
    fs::write(segment_n(dir.path(), 4), fourth).unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(15..=19));
    assert_eq!(wal.acked(), 19);
    assert_eq!(wal.bytes(), logical_bytes(&records(15..=19)));
    wal.append(20, b"record 20".to_vec()).unwrap();
    wal.close().unwrap();
    drop(wal);
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(15..=20));
}

#[test]
fn checkpoint_recovery_first_segment_sealed_empty_gives_the_baseline() {
    // A crash between removing segment 2 (records up to 14) and segment 3 (sealed empty, its
    // seal naming 14). Segment 4's first record 15 was written but never synced and is lost;
    // record 16 survived and claims that the log was synced up to 14: a torn tail, since 14
    // is the seq before this log starts.
    let dir = tempfile::tempdir().unwrap();
    fs::write(segment_n(dir.path(), 3), sealed_empty(3, 14)).unwrap();
    let mut fourth = Vec::new();
    encode_segment_header(4, &mut fourth);
    let hole = fourth.len();
    encode_record(15, 14, b"record 15", &mut fourth).unwrap();
    fourth[hole..].fill(0);
    encode_record(16, 14, b"record 16", &mut fourth).unwrap();
    fourth.resize(1024, 0);
    fs::write(segment_n(dir.path(), 4), &fourth).unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert!(seen.is_empty());
    assert_eq!(wal.acked(), 14, "the seal's seq is the log's last seq");
    assert_eq!(wal.bytes(), 0);
    match wal.append(14, b"again".to_vec()) {
        Err(WalError::OutOfOrder { seq: 14, last: 14 }) => {}
        other => panic!("expected OutOfOrder, got {other:?}"),
    }
    wal.append(15, b"new 15".to_vec()).unwrap();
    wal.close().unwrap();
    drop(wal);
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, vec![(15, b"new 15".to_vec())]);
}

#[test]
fn checkpoint_recovery_damage_after_the_baseline_is_still_corruption() {
    // As above, but record 16 claims that record 15 had been synced: its loss is damage.
    let dir = tempfile::tempdir().unwrap();
    fs::write(segment_n(dir.path(), 3), sealed_empty(3, 14)).unwrap();
    let mut fourth = Vec::new();
    encode_segment_header(4, &mut fourth);
    let hole = fourth.len();
    encode_record(15, 14, b"record 15", &mut fourth).unwrap();
    fourth[hole..].fill(0);
    encode_record(16, 15, b"record 16", &mut fourth).unwrap();
    fourth.resize(1024, 0);
    fs::write(segment_n(dir.path(), 4), &fourth).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { path, offset, .. }) => {
            assert_eq!(path, segment_n(dir.path(), 4));
            assert_eq!(offset, hole as u64);
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn checkpoint_recovery_gap_between_segments_left_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (third, _) = build_segment(3, &records(15..=17), true, 1024);
    let (fifth, _) = build_segment(5, &records(18..=19), false, 1024);
    fs::write(segment_n(dir.path(), 3), third).unwrap();
    fs::write(segment_n(dir.path(), 5), fifth).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { path, reason, .. }) => {
            assert_eq!(path, segment_n(dir.path(), 5));
            assert!(reason.contains("segment 4 is missing"), "{reason}");
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn checkpoint_recovery_seal_mismatch_after_the_first_record_is_still_checked() {
    // Only a first segment's leading seal is taken as it is; a seal after records must still
    // name the last of them.
    let dir = tempfile::tempdir().unwrap();
    let mut third = Vec::new();
    encode_segment_header(3, &mut third);
    encode_record(15, 14, b"record 15", &mut third).unwrap();
    encode_seal(99, 15, &mut third);
    third.resize(1024, 0);
    fs::write(segment_n(dir.path(), 3), &third).unwrap();
    let (fourth, _) = build_segment(4, &records(16..=17), false, 1024);
    fs::write(segment_n(dir.path(), 4), fourth).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { path, .. }) => assert_eq!(path, segment_n(dir.path(), 3)),
        other => panic!("expected Corruption, got {other:?}"),
    }
}
