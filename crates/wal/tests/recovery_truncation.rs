//! A torn tail (a crash in the middle of a write) is cut off, silently and durably.

mod common;

use std::fs;
use std::path::Path;

use common::{no_sync, open_collect, segment, write_log, Records};
use rand::Rng;

fn random_records(rng: &mut impl Rng, count: usize, max_len: usize) -> Records {
    (1..=count as u64)
        .map(|seq| {
            let mut payload = vec![0u8; rng.random_range(1..=max_len)];
            rng.fill_bytes(&mut payload);
            (seq, payload)
        })
        .collect()
}

/// Writes `bytes` as the log's only segment, reopens it, and checks that exactly `expect`
/// replays, that the file was cut to `valid_len`, and that appending still works.
fn reopen_expect(dir: &Path, bytes: &[u8], expect: &Records, valid_len: u64, ctx: &str) {
    fs::write(segment(dir), bytes).unwrap();
    let (wal, seen) = open_collect(dir, no_sync()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(&seen, expect, "{ctx}");
    assert_eq!(
        fs::metadata(segment(dir)).unwrap().len(),
        valid_len,
        "{ctx}"
    );
    assert_eq!(wal.bytes(), valid_len, "{ctx}");
    let last = expect.last().map_or(0, |r| r.0);
    assert_eq!(wal.acked(), last, "{ctx}");
    wal.append(last + 100, b"after".to_vec()).unwrap();
    wal.close().unwrap();
    let (_wal, seen) = open_collect(dir, no_sync()).unwrap();
    let mut with_new = expect.clone();
    with_new.push((last + 100, b"after".to_vec()));
    assert_eq!(seen, with_new, "{ctx}: after append");
}

#[test]
fn recovery_truncation_every_offset_of_last_record() {
    let mut rng = common::rng("recovery_truncation_every_offset_of_last_record");
    let source = tempfile::tempdir().unwrap();
    let records = random_records(&mut rng, 5, 200);
    let offsets = write_log(source.path(), &records);
    let bytes = fs::read(segment(source.path())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (start, end) = (offsets[4], offsets[5]);
    for cut in start..end {
        reopen_expect(
            dir.path(),
            &bytes[..cut as usize],
            &records[..4].to_vec(),
            start,
            &format!("cut at {cut} (record 5 spans {start}..{end})"),
        );
    }
}

#[test]
fn recovery_truncation_zero_filled_tail() {
    let mut rng = common::rng("recovery_truncation_zero_filled_tail");
    let source = tempfile::tempdir().unwrap();
    let records = random_records(&mut rng, 5, 300);
    let offsets = write_log(source.path(), &records);
    let mut bytes = fs::read(segment(source.path())).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);

    let dir = tempfile::tempdir().unwrap();
    reopen_expect(dir.path(), &bytes, &records, offsets[5], "4 KiB of zeros");

    // Zeros over the second half of the last record, as a file system may leave them.
    let mut bytes = fs::read(segment(source.path())).unwrap();
    let mid = ((offsets[4] + offsets[5]) / 2) as usize;
    bytes[mid..].fill(0);
    bytes.extend_from_slice(&[0u8; 4096]);
    reopen_expect(
        dir.path(),
        &bytes,
        &records[..4].to_vec(),
        offsets[4],
        "zeroed last record",
    );
}

#[test]
fn recovery_truncation_random_cuts() {
    let mut rng = common::rng("recovery_truncation_random_cuts");
    let source = tempfile::tempdir().unwrap();
    let count = rng.random_range(1..40);
    let records = random_records(&mut rng, count, 3_000);
    let offsets = write_log(source.path(), &records);
    let bytes = fs::read(segment(source.path())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    for _ in 0..40 {
        let cut = rng.random_range(0..=bytes.len() as u64);
        // Records wholly before the cut survive.
        let kept = offsets
            .iter()
            .skip(1)
            .take_while(|&&end| end <= cut)
            .count();
        reopen_expect(
            dir.path(),
            &bytes[..cut as usize],
            &records[..kept].to_vec(),
            offsets[kept],
            &format!("cut at {cut} of {}", bytes.len()),
        );
    }
}
