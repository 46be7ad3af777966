//! A golden extent: its bytes are stable, and every truncation and bit flip is caught.

mod common;

use std::ops::{Bound, ControlFlow};

use chronokv_extent::{ExtentReader, FormatError, ReadStats, WriterOptions};
use common::{build, random_model, Row};

/// What this crate's writer produces (format 2).
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/extent-v2.bin");
/// What the format-1 writer produced from the same model, still read.
const GOLDEN_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/extent-v1.bin");
/// The golden model written by the format-2 writer before it sized restart intervals by bytes
/// (every block at interval 8): still format 2, still read.
const GOLDEN_V2_INTERVAL_8: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/extent-v2-interval-8.bin"
);

/// Every committed golden extent, for the damage tests: (name, bytes).
fn goldens() -> Vec<(&'static str, Vec<u8>)> {
    [("v1", GOLDEN_V1), ("v2", GOLDEN)]
        .into_iter()
        .map(|(name, path)| {
            (
                name,
                std::fs::read(path).expect("the golden extents are committed"),
            )
        })
        .collect()
}

fn golden_model() -> common::Model {
    random_model(20_261_122, 5)
}

fn golden_rows() -> Vec<Row> {
    golden_model()
        .into_iter()
        .flat_map(|(k, h)| h.into_iter().map(move |(ts, v)| (k.clone(), ts, v)))
        .collect()
}

/// Reads everything an extent holds, so every block is decoded and checked, through every
/// reading path.
fn read_all(bytes: &[u8]) -> Result<Vec<Row>, FormatError> {
    let reader = ExtentReader::open(bytes)?;
    let stats = ReadStats::default();
    let mut all = Vec::new();
    reader.rect(None, None, 0, u64::MAX, &stats, |k, ts, v| {
        all.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
        ControlFlow::Continue(())
    })?;
    let mut versions = Vec::new();
    reader.versions(&stats, |k, ts, v| {
        versions.push((k.to_vec(), ts, v.map(<[u8]>::to_vec)));
        ControlFlow::Continue(())
    })?;
    assert_eq!(
        versions, all,
        "versions() and rect() disagree on an extent that read"
    );
    for reverse in [false, true] {
        reader.scan(
            Bound::Unbounded,
            Bound::Unbounded,
            reverse,
            u64::MAX,
            &stats,
            |_, _, _| ControlFlow::Continue(()),
        )?;
    }
    Ok(all)
}

/// A damaged extent either fails to open or answers each point read with an error or with
/// the true answer: never a wrong value.
fn point_reads_are_right_or_fail(bytes: &[u8], rows: &[Row], what: &str) {
    let Ok(reader) = ExtentReader::open(bytes) else {
        return;
    };
    let stats = ReadStats::default();
    for (key, ts, value) in rows {
        let got = reader.get_with(key, *ts, &stats, |found| {
            found.map(|(ts, v)| (ts, v.map(<[u8]>::to_vec)))
        });
        if let Ok(got) = got {
            assert_eq!(
                got,
                Some((*ts, value.clone())),
                "{what}: get {key:?} at {ts}"
            );
        }
    }
}

#[test]
fn extent_corruption_golden_file_is_what_the_writer_produces() {
    let (bytes, _) = build(
        &golden_model(),
        WriterOptions {
            block_bytes: 256,
            compress: true,
        },
    );
    if std::env::var_os("CHRONOKV_WRITE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &bytes).unwrap();
    }
    let golden = std::fs::read(GOLDEN).expect("the golden extent is committed");
    assert_eq!(
        bytes, golden,
        "the writer's output changed: if the format changed, bump FORMAT_VERSION and keep \
         reading v1 and v2; if only the writer's choices did, keep the old file as a reading test \
         and regenerate with CHRONOKV_WRITE_GOLDEN=1"
    );
    assert_eq!(read_all(&golden).unwrap(), golden_rows());
    let reader = ExtentReader::open(&golden).unwrap();
    assert!(reader.blocks().len() >= 4);
    // The corruption tests below cover both codecs: byte 0 of a block is 0 (raw) or 1 (lz4).
    let codecs: std::collections::BTreeSet<u8> = reader
        .blocks()
        .iter()
        .map(|b| golden[b.offset as usize])
        .collect();
    assert_eq!(
        codecs,
        [0, 1].into(),
        "the golden extent should hold raw and lz4 blocks"
    );
}

#[test]
fn extent_corruption_format_1_extents_still_read() {
    let v1 = std::fs::read(GOLDEN_V1).expect("the format-1 golden extent is committed");
    assert_eq!(
        &v1[v1.len() - 24..v1.len() - 20],
        &1u32.to_le_bytes(),
        "footer format"
    );
    assert_eq!(read_all(&v1).unwrap(), golden_rows());
    point_reads_are_right_or_fail(&v1, &golden_rows(), "format 1");
}

#[test]
fn extent_corruption_format_2_extents_with_fixed_restart_intervals_still_read() {
    let old =
        std::fs::read(GOLDEN_V2_INTERVAL_8).expect("the interval-8 golden extent is committed");
    let new = std::fs::read(GOLDEN).expect("the golden extent is committed");
    assert_ne!(
        old, new,
        "the two format-2 goldens should differ in their restart intervals"
    );
    assert_eq!(read_all(&old).unwrap(), golden_rows());
    point_reads_are_right_or_fail(&old, &golden_rows(), "format 2, interval 8");
}

#[test]
fn extent_corruption_every_truncation_fails_with_an_offset() {
    for (version, golden) in goldens() {
        eprintln!("golden extent {version}");
        for len in 0..golden.len() {
            let err = read_all(&golden[..len]).expect_err("a truncated extent must not read");
            assert!(
                err.offset <= len as u64,
                "offset {} beyond the {len} bytes",
                err.offset
            );
        }
    }
}

#[test]
fn extent_corruption_every_bit_flip_fails_with_the_offset_of_its_part() {
    for (version, golden) in goldens() {
        eprintln!("golden extent {version}");
        let rows = golden_rows();
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
                let part_start = match blocks
                    .iter()
                    .find(|b| (b.offset..b.offset + b.len).contains(&(byte as u64)))
                {
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
                // Point reads of versions the damaged block may hold (other blocks read as before).
                if let Some(block) = blocks
                    .iter()
                    .find(|b| (b.offset..b.offset + b.len).contains(&(byte as u64)))
                {
                    let near: Vec<Row> = rows
                        .iter()
                        .filter(|(k, ts, _)| {
                            (&block.first_key..=&block.last_key).contains(&k)
                                && (block.ts_min..=block.ts_max).contains(ts)
                        })
                        .cloned()
                        .collect();
                    point_reads_are_right_or_fail(
                        &damaged,
                        &near,
                        &format!("flip at {byte}.{bit}"),
                    );
                }
            }
        }
    }
}

/// Rewrites a block's crc32c after damaging it, as a writer bug or a forged file would: the
/// structural checks alone must then catch what they can, name a byte inside the block, and
/// never panic.
#[test]
fn extent_corruption_forged_blocks_fail_inside_the_block_or_read_consistently() {
    for compress in [false, true] {
        let (bytes, _) = build(
            &golden_model(),
            WriterOptions {
                block_bytes: 256,
                compress,
            },
        );
        let blocks = ExtentReader::open(&bytes).unwrap().blocks().to_vec();
        let mut caught = 0;
        for block in &blocks {
            let (start, end) = (block.offset as usize, (block.offset + block.len) as usize);
            // Past the codec byte and the raw length, up to the crc; one bit per byte, rotating
            // (every bit of every byte would take half a minute).
            for byte in start + 5..end - 4 {
                let bit = byte % 8;
                let mut forged = bytes.clone();
                forged[byte] ^= 1 << bit;
                let crc = crc32c::crc32c(&forged[start..end - 4]);
                forged[end - 4..end].copy_from_slice(&crc.to_le_bytes());
                if let Err(err) = read_all(&forged) {
                    caught += 1;
                    assert!(
                        (start as u64..end as u64).contains(&err.offset),
                        "compress {compress}, flip {byte}.{bit}: error at {} ({}) outside block {start}..{end}",
                        err.offset,
                        err.reason
                    );
                }
            }
        }
        assert!(
            caught > 0,
            "no forged block was caught (compress {compress})"
        );
    }
}

/// Like the forged blocks, for the index: a damaged index whose crc32c was rewritten must not
/// make any read panic, and every error names a byte inside the extent. (Reads may disagree
/// with each other here: the index they prune by is itself forged.)
#[test]
fn extent_corruption_forged_index_never_panics() {
    for (version, golden) in goldens() {
        eprintln!("golden extent {version}");
        let rows = golden_rows();
        let reader = ExtentReader::open(&golden).unwrap();
        let index_start = reader
            .blocks()
            .last()
            .map_or(0, |b| (b.offset + b.len) as usize);
        let crc_at = golden.len() - 32 - 4;
        let mut opened = 0;
        // One bit per byte, rotating, and point reads of every fifth version: enough to reach
        // every field of the index, in seconds.
        for byte in index_start..crc_at {
            let bit = byte % 8;
            let mut forged = golden.clone();
            forged[byte] ^= 1 << bit;
            let crc = crc32c::crc32c(&forged[index_start..crc_at]);
            forged[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
            let within = |result: Result<(), FormatError>| {
                if let Err(err) = result {
                    assert!(
                        err.offset <= golden.len() as u64,
                        "flip {byte}.{bit}: {err}"
                    );
                }
            };
            let reader = match ExtentReader::open(forged.as_slice()) {
                Ok(reader) => reader,
                Err(err) => {
                    within(Err(err));
                    continue;
                }
            };
            opened += 1;
            let stats = ReadStats::default();
            let any = |_: &[u8], _: u64, _: Option<&[u8]>| ControlFlow::Continue(());
            within(reader.versions(&stats, any));
            within(reader.rect(None, None, 0, u64::MAX, &stats, any));
            for reverse in [false, true] {
                within(reader.scan(
                    Bound::Unbounded,
                    Bound::Unbounded,
                    reverse,
                    u64::MAX,
                    &stats,
                    any,
                ));
            }
            for (key, ts, _) in rows.iter().step_by(5) {
                within(reader.get_with(key, *ts, &stats, |_| ()));
                within(reader.history(key, 0, u64::MAX, &stats, |_, _| ()));
            }
        }
        assert!(opened > 0, "every forged index was refused at open");
    }
}
