//! `check` on damaged files: every problem is reported with its file and offset, in one run,
//! without a panic and without changing a byte; a database held by an engine is refused.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chronokv_engine::{check, Database, Durability, Error, Op, Options, Progress};
use chronokv_extent::{ExtentReader, Manifest};

fn options() -> Options {
    Options {
        durability: Durability::None,
        block_bytes: 256,
        ..Options::default()
    }
}

/// Extents from two flushes, plus commits only in the log.
fn build(dir: &Path) -> PathBuf {
    let db = Database::open_exclusive(dir, &options()).unwrap();
    for round in 0..3u32 {
        for i in 0..60u32 {
            let key = format!("key:{i:03}").into_bytes();
            let value = format!("value {i} of round {round}").into_bytes();
            db.commit(&[Op::Put {
                key: &key,
                value: &value,
            }])
            .unwrap();
        }
        if round < 2 {
            db.flush().unwrap();
        }
    }
    db.commit(&[Op::Delete { key: b"key:007" }]).unwrap();
    db.close().unwrap();
    fs::canonicalize(dir).unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walk(dir) {
        files.insert(entry.clone(), fs::read(&entry).unwrap());
    }
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn segment_one(dir: &Path) -> PathBuf {
    dir.join("wal").join("00000000000000000001.log")
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x20;
    fs::write(path, bytes).unwrap();
}

#[test]
fn check_a_healthy_database_has_no_problems_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = build(dir.path());
    let before = snapshot(&dir);
    let progress = Progress::new();
    let report = check(&dir, &progress).unwrap();
    assert_eq!(report.problems, vec![]);
    assert_eq!(report.extents, 2);
    assert!(report.blocks > 2, "{report:?}");
    assert_eq!(report.versions, 120);
    assert!(report.wal_records >= 61, "{report:?}");
    assert_eq!(progress.done(), progress.total());
    assert_eq!(progress.done(), report.bytes);
    assert_eq!(snapshot(&dir), before, "check changed a file");
}

#[test]
fn check_reports_every_damaged_block_and_log_record_by_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let dir = build(dir.path());
    let manifest = Manifest::decode(&fs::read(dir.join("MANIFEST")).unwrap()).unwrap();
    let data = dir.join("DATA");
    let bytes = fs::read(&data).unwrap();
    // Damage the middle of the second block of each extent.
    let mut expected = Vec::new();
    for extent in &manifest.extents {
        let start = extent.offset as usize;
        let reader = ExtentReader::open(&bytes[start..start + extent.bytes as usize]).unwrap();
        let block = &reader.blocks()[1];
        flip(&data, extent.offset + block.offset + block.len / 2);
        expected.push((data.clone(), extent.offset + block.offset));
    }
    // And the payload of the third commit record of the log (the first records are in
    // extents already, but the log still has them).
    let segment = segment_one(&dir);
    let log = fs::read(&segment).unwrap();
    let mut offset = 32usize;
    for _ in 0..2 {
        let len = u32::from_le_bytes(log[offset..offset + 4].try_into().unwrap()) as usize;
        offset += 32 + len;
    }
    flip(&segment, offset as u64 + 32 + 3);
    expected.push((segment.clone(), offset as u64));
    let before = snapshot(&dir);

    let report = check(&dir, &Progress::new()).unwrap();
    let found: Vec<(PathBuf, u64)> = report
        .problems
        .iter()
        .map(|p| (p.file.clone(), p.offset))
        .collect();
    assert_eq!(found, expected, "{:#?}", report.problems);
    assert!(
        report.problems[0].message.contains("block 1"),
        "{:#?}",
        report.problems
    );
    assert!(report.problems[2].message.contains("payload checksum"));
    assert_eq!(snapshot(&dir), before, "check changed a file");
}

#[test]
fn check_reports_a_damaged_manifest_and_a_truncated_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = build(dir.path());
    let manifest = dir.join("MANIFEST");
    flip(&manifest, 30);
    let report = check(&dir, &Progress::new()).unwrap();
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    assert_eq!(report.problems[0].file, manifest);
    flip(&manifest, 30);

    let data = dir.join("DATA");
    let len = fs::metadata(&data).unwrap().len();
    let file = fs::OpenOptions::new().write(true).open(&data).unwrap();
    file.set_len(len / 2).unwrap();
    let report = check(&dir, &Progress::new()).unwrap();
    assert!(!report.problems.is_empty());
    assert!(
        report.problems.iter().all(|p| p.file == data),
        "{:#?}",
        report.problems
    );
    assert!(report
        .problems
        .iter()
        .any(|p| p.message.contains("past the end")));
}

#[test]
fn check_survives_bit_flips_anywhere_in_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = build(dir.path());
    let data = dir.join("DATA");
    let clean = fs::read(&data).unwrap();
    let manifest = Manifest::decode(&fs::read(dir.join("MANIFEST")).unwrap()).unwrap();
    let used: Vec<(u64, u64)> = manifest
        .extents
        .iter()
        .map(|e| (e.offset, e.bytes))
        .collect();
    for at in (0..clean.len()).step_by(7) {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x04;
        fs::write(&data, &bytes).unwrap();
        let report = check(&dir, &Progress::new()).unwrap();
        let inside = used
            .iter()
            .any(|&(o, n)| (at as u64) >= o && (at as u64) < o + n);
        assert_eq!(
            !report.problems.is_empty(),
            inside,
            "flip at {at}: {:#?}",
            report.problems
        );
        for p in &report.problems {
            assert_eq!(p.file, data);
            assert!(p.offset < clean.len() as u64);
        }
    }
}

#[test]
fn check_refuses_a_database_that_is_open_and_a_directory_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let dir = build(dir.path());
    let db = Database::open_exclusive(&dir, &options()).unwrap();
    assert!(matches!(
        check(&dir, &Progress::new()),
        Err(Error::Locked { .. })
    ));
    db.close().unwrap();
    assert!(check(&dir, &Progress::new()).unwrap().problems.is_empty());

    let empty = tempfile::tempdir().unwrap();
    assert!(check(empty.path(), &Progress::new()).is_err());
    assert!(check(&empty.path().join("missing"), &Progress::new()).is_err());
    assert!(
        !empty.path().join("missing").exists(),
        "check created a directory"
    );
}
