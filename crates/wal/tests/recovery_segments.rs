//! Segments are read in name order and appends go to the last one.

mod common;

use std::fs;

use chronokv_wal::{encode_record, segment_file_name, WalError};
use common::{no_sync, open_collect, Records};

fn encode(records: &Records) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for (seq, payload) in records {
        offsets.push(bytes.len() as u64);
        encode_record(*seq, payload, &mut bytes).unwrap();
    }
    (bytes, offsets)
}

fn records(seqs: std::ops::RangeInclusive<u64>) -> Records {
    seqs.map(|seq| (seq, format!("record {seq}").into_bytes()))
        .collect()
}

#[test]
fn recovery_segments_replay_in_order_and_append_to_last() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = encode(&records(1..=3));
    let (second, _) = encode(&records(4..=6));
    // Written out of name order, plus a stray file that is not a segment.
    fs::write(dir.path().join(segment_file_name(4)), &second).unwrap();
    fs::write(dir.path().join(segment_file_name(1)), &first).unwrap();
    fs::write(dir.path().join("notes.txt"), b"not a segment").unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=6));
    assert_eq!(wal.acked(), 6);
    assert_eq!(wal.bytes(), (first.len() + second.len()) as u64);
    wal.append(7, b"record 7".to_vec()).unwrap();
    wal.close().unwrap();

    assert_eq!(
        fs::read(dir.path().join(segment_file_name(1))).unwrap(),
        first
    );
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=7));
}

#[test]
fn recovery_segments_damage_before_a_later_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, offsets) = encode(&records(1..=3));
    let (second, _) = encode(&records(4..=6));
    // The last record of the first segment is torn, but the next segment holds valid records.
    first.truncate(offsets[2] as usize + 5);
    let first_path = dir.path().join(segment_file_name(1));
    fs::write(&first_path, &first).unwrap();
    fs::write(dir.path().join(segment_file_name(4)), &second).unwrap();

    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { path, offset, .. }) => {
            assert_eq!(path, first_path);
            assert_eq!(offset, offsets[2]);
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn recovery_segments_torn_tail_empties_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, offsets) = encode(&records(1..=3));
    first.truncate(offsets[2] as usize + 5);
    fs::write(dir.path().join(segment_file_name(1)), &first).unwrap();
    // A later segment whose only content is garbage.
    let later = dir.path().join(segment_file_name(4));
    fs::write(&later, [0xA5u8; 100]).unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=2));
    assert_eq!(wal.bytes(), offsets[2]);
    assert_eq!(fs::metadata(&later).unwrap().len(), 0);
    wal.append(3, b"again".to_vec()).unwrap();
    wal.close().unwrap();
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    let mut expect = records(1..=2);
    expect.push((3, b"again".to_vec()));
    assert_eq!(seen, expect);
}
