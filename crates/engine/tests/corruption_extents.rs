//! Damage to the persistent layer's files: every truncation and every byte of the manifest
//! and of the data file (one bit flipped per byte) gives a `Corruption` error naming the file
//! and an offset inside it, at open or at the read that meets the damage — never a panic and
//! never a wrong value.

use std::collections::BTreeMap;
use std::fs;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use chronokv_engine::{
    Database, Durability, Error, HistoryOptions, Op, Options, RangeCursor, RangeOptions,
};

type Model = BTreeMap<Vec<u8>, Vec<(u64, Option<Vec<u8>>)>>;

fn options() -> Options {
    Options {
        durability: Durability::None,
        block_bytes: 256,
        ..Options::default()
    }
}

/// A database whose every version is in extents (the log holds nothing to replay).
fn build(dir: &Path) -> Model {
    let db = Database::open_exclusive(dir, &options()).unwrap();
    let mut model = Model::new();
    for round in 0..3u8 {
        for i in 0..40u32 {
            let key = format!("key:{i:03}").into_bytes();
            let value = (round != 1 || i % 7 != 0)
                .then(|| format!("value {i} in round {round}").into_bytes());
            let op = match &value {
                Some(v) => Op::Put {
                    key: &key,
                    value: v,
                },
                None => Op::Delete { key: &key },
            };
            let ts = db.commit(&[op]).unwrap();
            model.entry(key).or_default().push((ts, value));
        }
        db.flush().unwrap();
    }
    db.close().unwrap();
    model
}

/// Reads everything back; `Err` when a read reported corruption (checked to name `file`).
fn read_all(dir: &Path, model: &Model, file: &Path, len: u64) -> Result<(), String> {
    let check = |e: Error| -> String {
        match &e {
            Error::Corruption { path, offset, .. } if path == file && *offset <= len => {
                e.to_string()
            }
            other => panic!(
                "expected a corruption error naming {} at an offset <= {len}, got {other:?}",
                file.display()
            ),
        }
    };
    let db = Arc::new(Database::open_exclusive(dir, &options()).map_err(check)?);
    let result = (|| {
        for (key, versions) in model {
            let mut seen = Vec::new();
            db.history_with(key, HistoryOptions::default(), |ts, v| {
                seen.push((ts, v.map(<[u8]>::to_vec)))
            })
            .map_err(check)?;
            assert_eq!(
                &seen,
                versions,
                "a damaged file gave a wrong history of {}",
                String::from_utf8_lossy(key)
            );
            for (ts, value) in versions {
                let got = db.get(key, Some(*ts)).map_err(check)?;
                assert_eq!(
                    got.map(|(_, v)| v),
                    value.clone(),
                    "a damaged file gave a wrong value"
                );
            }
        }
        let mut cursor = RangeCursor::new(
            Arc::clone(&db),
            RangeOptions {
                lower: Bound::Unbounded,
                ..RangeOptions::default()
            },
        )
        .map_err(check)?;
        let mut n = 0;
        while cursor.next_batch(64, |_, _, _| n += 1).map_err(check)? > 0 {}
        let live = model
            .values()
            .filter(|v| v.last().is_some_and(|(_, v)| v.is_some()))
            .count();
        assert_eq!(n, live, "a damaged file gave a wrong scan");
        Ok(())
    })();
    db.close().unwrap();
    result
}

fn with_damage(dir: &Path, file: &Path, damage: impl Fn(&mut Vec<u8>), f: impl FnOnce()) {
    let original = fs::read(file).unwrap();
    let mut bytes = original.clone();
    damage(&mut bytes);
    fs::write(file, &bytes).unwrap();
    f();
    fs::write(file, &original).unwrap();
    let _ = dir;
}

#[test]
fn corruption_every_truncation_and_bit_flip_of_the_manifest_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let model = build(dir.path());
    let manifest = fs::canonicalize(dir.path()).unwrap().join("MANIFEST");
    let len = fs::metadata(&manifest).unwrap().len();
    read_all(dir.path(), &model, &manifest, len).expect("the undamaged database reads back");
    for cut in 0..len {
        with_damage(
            dir.path(),
            &manifest,
            |b| b.truncate(cut as usize),
            || {
                assert!(
                    read_all(dir.path(), &model, &manifest, len).is_err(),
                    "a manifest cut at {cut} was accepted"
                );
            },
        );
    }
    for byte in 0..len as usize {
        for bit in 0..8 {
            with_damage(
                dir.path(),
                &manifest,
                |b| b[byte] ^= 1 << bit,
                || {
                    assert!(
                        read_all(dir.path(), &model, &manifest, len).is_err(),
                        "a flip of bit {bit} of byte {byte} was accepted"
                    );
                },
            );
        }
    }
}

#[test]
fn corruption_every_truncation_and_byte_of_the_data_file_fails_or_reads_right() {
    let dir = tempfile::tempdir().unwrap();
    let model = build(dir.path());
    let data = fs::canonicalize(dir.path()).unwrap().join("DATA");
    let len = fs::metadata(&data).unwrap().len();
    read_all(dir.path(), &model, &data, len).expect("the undamaged database reads back");
    let mut detected = 0;
    for cut in (0..len).step_by(7) {
        with_damage(
            dir.path(),
            &data,
            |b| b.truncate(cut as usize),
            || {
                if read_all(dir.path(), &model, &data, len).is_err() {
                    detected += 1;
                }
            },
        );
    }
    assert!(detected > 0);
    // Every byte of every extent is covered by a checksum; the unused tails of their regions
    // are never read.
    let manifest =
        chronokv_extent::Manifest::decode(&fs::read(data.with_file_name("MANIFEST")).unwrap())
            .unwrap();
    let in_extent = |byte: u64| {
        manifest
            .extents
            .iter()
            .any(|e| (e.offset..e.offset + e.bytes).contains(&byte))
    };
    let mut flips_detected = 0;
    for byte in 0..len as usize {
        with_damage(
            dir.path(),
            &data,
            |b| b[byte] ^= 1 << (byte % 8),
            || {
                let detected = read_all(dir.path(), &model, &data, len).is_err();
                assert_eq!(
                    detected,
                    in_extent(byte as u64),
                    "flip in byte {byte}: detected {detected}"
                );
                flips_detected += u64::from(detected);
            },
        );
    }
    eprintln!("data file of {len} bytes: {detected} truncations and {flips_detected} flips detected, the rest read back right");
}
