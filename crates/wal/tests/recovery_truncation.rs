//! A torn tail (a crash in the middle of a write) is cut off, silently and durably.

mod common;

use std::fs;
use std::path::Path;

use common::{
    assert_zeros_from, logical_bytes, no_sync, open_collect, segment, write_log, Records,
};
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
/// replays, that everything from `valid_len` on was zeroed, and that appending still works.
fn reopen_expect(dir: &Path, bytes: &[u8], expect: &Records, valid_len: u64, ctx: &str) {
    for entry in fs::read_dir(dir).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    fs::write(segment(dir), bytes).unwrap();
    let (wal, seen) = open_collect(dir, no_sync()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(&seen, expect, "{ctx}");
    let now = fs::read(segment(dir)).unwrap();
    assert_eq!(now.len(), bytes.len(), "{ctx}: the file keeps its length");
    assert_eq!(
        now[..valid_len as usize],
        bytes[..valid_len as usize],
        "{ctx}"
    );
    assert_zeros_from(&now, valid_len, ctx);
    assert_eq!(wal.bytes(), logical_bytes(expect), "{ctx}");
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
        // The file cut short (as a file system without preallocation would leave it)...
        reopen_expect(
            dir.path(),
            &bytes[..cut as usize],
            &records[..4].to_vec(),
            start,
            &format!("cut at {cut} (record 5 spans {start}..{end})"),
        );
        // ...and the preallocated file with the rest of the record never written.
        let mut zeroed = bytes.clone();
        zeroed[cut as usize..].fill(0);
        reopen_expect(
            dir.path(),
            &zeroed,
            &records[..4].to_vec(),
            start,
            &format!("zeros from {cut} (record 5 spans {start}..{end})"),
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
    bytes.truncate(offsets[5] as usize);
    bytes.extend_from_slice(&[0u8; 4096]);

    let dir = tempfile::tempdir().unwrap();
    reopen_expect(dir.path(), &bytes, &records, offsets[5], "4 KiB of zeros");

    // Zeros over the second half of the last record, as a file system may leave them.
    let mid = ((offsets[4] + offsets[5]) / 2) as usize;
    bytes[mid..].fill(0);
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
    let end = *offsets.last().unwrap();

    let dir = tempfile::tempdir().unwrap();
    for _ in 0..40 {
        // Anywhere from just after the segment header to the end of the records (a file cut
        // shorter than its header is a damaged segment, not a torn tail).
        let cut = rng.random_range(offsets[0]..=end);
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
            &format!("cut at {cut} of {end}"),
        );
    }
}
