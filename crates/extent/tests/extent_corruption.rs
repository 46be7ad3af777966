//! A golden extent: its bytes are stable, and every truncation and bit flip is caught.

mod common;

use std::ops::ControlFlow;

use chronokv_extent::{ExtentReader, FormatError, ReadStats, WriterOptions};
use common::{build, random_model};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/extent-v1.bin");

fn golden_model() -> common::Model {
    random_model(20_261_122, 5)
}

/// Reads everything an extent holds, so every block is decoded and checked.
fn read_all(bytes: &[u8]) -> Result<Vec<common::Row>, FormatError> {
    let reader = ExtentReader::open(bytes)?;
    let mut all = Vec::new();
    reader.rect(None, None, 0, u64::MAX, &ReadStats::default(), |k, ts, v| all.push((k.to_vec(), ts, v.map(<[u8]>::to_vec))))?;
    reader.scan(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded, u64::MAX, &ReadStats::default(), |_, _, _| ControlFlow::Continue(()))?;
    Ok(all)
}

#[test]
fn extent_corruption_golden_file_is_what_the_writer_produces() {
    let (bytes, _) = build(&golden_model(), WriterOptions { block_bytes: 256, compress: true });
    if std::env::var_os("CHRONOKV_WRITE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &bytes).unwrap();
    }
    let golden = std::fs::read(GOLDEN).expect("the golden extent is committed");
    assert_eq!(bytes, golden, "format v1 changed: bump FORMAT_VERSION and keep reading v1");
    let want: Vec<_> = golden_model()
        .into_iter()
        .flat_map(|(k, h)| h.into_iter().map(move |(ts, v)| (k.clone(), ts, v)))
        .collect();
    assert_eq!(read_all(&golden).unwrap(), want);
    assert!(ExtentReader::open(&golden).unwrap().blocks().len() >= 4);
}

#[test]
fn extent_corruption_every_truncation_fails_with_an_offset() {
    let golden = std::fs::read(GOLDEN).unwrap();
    for len in 0..golden.len() {
        let err = read_all(&golden[..len]).expect_err("a truncated extent must not read");
        assert!(err.offset <= len as u64, "offset {} beyond the {len} bytes", err.offset);
    }
}

#[test]
fn extent_corruption_every_bit_flip_fails_with_the_offset_of_its_part() {
    let golden = std::fs::read(GOLDEN).unwrap();
    let reader = ExtentReader::open(&golden).unwrap();
    let blocks = reader.blocks().to_vec();
    let index_start = blocks.last().map_or(0, |b| b.offset + b.len);
    for byte in 0..golden.len() {
        for bit in 0..8 {
            let mut damaged = golden.clone();
            damaged[byte] ^= 1 << bit;
            let err = read_all(&damaged).expect_err("a flipped bit must not read");
            // The error names the start of the part that holds the damage: its block, the index
            // or the footer.
            let part_start = match blocks.iter().find(|b| (b.offset..b.offset + b.len).contains(&(byte as u64))) {
                Some(block) => block.offset,
                None if (byte as u64) < golden.len() as u64 - 32 => index_start,
                None => golden.len() as u64 - 32,
            };
            assert!(
                err.offset >= part_start.min(index_start) && err.offset <= golden.len() as u64,
                "flip at {byte}.{bit}: error at {} ({}), part starts at {part_start}",
                err.offset,
                err.reason
            );
        }
    }
}
