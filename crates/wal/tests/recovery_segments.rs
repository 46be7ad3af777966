//! Segments are read in index order through their seals, appends go to the last one, and a
//! broken chain of segments is reported.

mod common;

use std::fs;

use chronokv_wal::{encode_segment_header, segment_file_name, WalError, SEGMENT_HEADER_LEN};
use common::{
    assert_zeros_from, build_segment, logical_bytes, no_sync, open_collect, segment_n, Records,
};

fn records(seqs: std::ops::RangeInclusive<u64>) -> Records {
    seqs.map(|seq| (seq, format!("record {seq}").into_bytes()))
        .collect()
}

#[test]
fn recovery_segments_replay_in_order_and_append_to_last() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = build_segment(1, &records(1..=3), true, 1024);
    let (second, second_offsets) = build_segment(2, &records(4..=6), false, 1024);
    // Written out of name order, plus a stray file that is not a segment.
    fs::write(segment_n(dir.path(), 2), &second).unwrap();
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    fs::write(dir.path().join("notes.txt"), b"not a segment").unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=6));
    assert_eq!(wal.acked(), 6);
    assert_eq!(wal.bytes(), logical_bytes(&records(1..=6)));
    wal.append(7, b"record 7".to_vec()).unwrap();
    wal.close().unwrap();

    assert_eq!(fs::read(segment_n(dir.path(), 1)).unwrap(), first);
    let after = fs::read(segment_n(dir.path(), 2)).unwrap();
    assert_eq!(
        after[..second_offsets[3] as usize],
        second[..second_offsets[3] as usize]
    );
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=7));
}

#[test]
fn recovery_segments_damage_before_a_later_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, offsets) = build_segment(1, &records(1..=3), true, 1024);
    let (second, _) = build_segment(2, &records(4..=6), false, 1024);
    // The last record of the first segment is torn, but the next segment holds records
    // written after the first segment was sealed and synced.
    first[offsets[2] as usize + 5..].fill(0);
    let first_path = segment_n(dir.path(), 1);
    fs::write(&first_path, &first).unwrap();
    fs::write(segment_n(dir.path(), 2), &second).unwrap();

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
    let (mut first, offsets) = build_segment(1, &records(1..=3), false, 1024);
    first[offsets[2] as usize + 5..].fill(0);
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    // A later segment whose only content after its header is garbage.
    let later = segment_n(dir.path(), 2);
    let mut garbage = Vec::new();
    encode_segment_header(2, &mut garbage);
    garbage.extend_from_slice(&[0xA5u8; 100]);
    garbage.resize(1024, 0);
    fs::write(&later, &garbage).unwrap();

    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=2));
    assert_eq!(wal.bytes(), logical_bytes(&records(1..=2)));
    let later_now = fs::read(&later).unwrap();
    assert_eq!(later_now.len(), 1024, "kept as a preallocated spare");
    assert_zeros_from(&later_now, SEGMENT_HEADER_LEN as u64, "spare");
    assert_zeros_from(
        &fs::read(segment_n(dir.path(), 1)).unwrap(),
        offsets[2],
        "tail",
    );
    wal.append(3, b"again".to_vec()).unwrap();
    wal.close().unwrap();
    let (_wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    let mut expect = records(1..=2);
    expect.push((3, b"again".to_vec()));
    assert_eq!(seen, expect);
}

#[test]
fn recovery_segments_missing_middle_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = build_segment(1, &records(1..=3), true, 1024);
    let (third, _) = build_segment(3, &records(7..=9), false, 1024);
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    fs::write(segment_n(dir.path(), 3), &third).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { path, reason, .. }) => {
            assert_eq!(path, segment_n(dir.path(), 3));
            assert!(reason.contains("segment 2 is missing"), "{reason}");
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn recovery_segments_sealed_last_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (first, offsets) = build_segment(1, &records(1..=3), true, 1024);
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { offset, reason, .. }) => {
            assert_eq!(offset, offsets[3]);
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn recovery_segments_bad_header_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = build_segment(1, &records(1..=3), false, 1024);
    first[20] ^= 1;
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption {
            offset: 0, reason, ..
        }) => {
            assert!(reason.contains("checksum"), "{reason}")
        }
        other => panic!("expected Corruption, got {other:?}"),
    }

    // A segment whose header names another segment.
    let (other, _) = build_segment(5, &records(1..=3), false, 1024);
    fs::write(segment_n(dir.path(), 1), &other).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { reason, .. }) => {
            assert!(reason.contains("segment 5"), "{reason}")
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
}

#[test]
fn recovery_segments_format_version_1_is_refused() {
    // A version 1 segment: named by its first seq, starting with a 20-byte record header.
    let dir = tempfile::tempdir().unwrap();
    let payload = b"a version 1 commit record payload";
    let mut v1 = Vec::new();
    v1.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v1.extend_from_slice(&1u64.to_le_bytes());
    v1.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let crc = crc32c::crc32c(&v1);
    v1.extend_from_slice(&crc.to_le_bytes());
    v1.extend_from_slice(payload);
    fs::write(segment_n(dir.path(), 1), &v1).unwrap();
    match open_collect(dir.path(), no_sync()) {
        Err(WalError::Corruption { reason, .. }) => {
            assert!(reason.contains("version 1"), "{reason}")
        }
        other => panic!("expected Corruption, got {other:?}"),
    }
    assert_eq!(
        fs::read(segment_n(dir.path(), 1)).unwrap(),
        v1,
        "left as it was"
    );
}

#[test]
fn recovery_segments_leftover_temp_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = build_segment(1, &records(1..=3), false, 1024);
    fs::write(segment_n(dir.path(), 1), &first).unwrap();
    // Index 9, not 2: the helper prepares segment 2 as a spare right after open, under the
    // name `...2.log.tmp`, and may still hold it when the log closes (close abandons it, see
    // lib.rs), so a leftover named after segment 2 could not be told from the helper's own.
    let tmp = dir.path().join(format!("{}.tmp", segment_file_name(9)));
    fs::write(&tmp, [0u8; 100]).unwrap();
    let (wal, seen) = open_collect(dir.path(), no_sync()).unwrap();
    assert_eq!(seen, records(1..=3));
    assert!(
        !tmp.exists(),
        "open left the leftover temp segment in place"
    );
    wal.close().unwrap();
    assert!(!tmp.exists());
}
