//! `check`: verify every checksum of a database directory without changing anything.
//!
//! What is read, in order:
//! 1. the format marker `CHRONOKV`;
//! 2. `MANIFEST` (its crc32c and structure);
//! 3. every extent the manifest lists, read from `DATA` (opened read-only; no memory map,
//!    nothing cached): its footer and index (each with its crc32c), then every block in
//!    full (crc32c, decompression, every key group, the end-of-block checks against the index),
//!    and its version count against the manifest's;
//! 4. every segment of the write-ahead log (chronokv-wal's `verify_log`), each commit record's
//!    payload decoded as a commit.
//!
//! Every problem is collected with its file and byte offset; the walk never stops at the first.
//! Nothing is created, written or removed. The directory's lock is taken for the duration, so
//! a database another process has open gives [`Error::Locked`] (as does one this process has
//! open: the lock is per open file, not per process) and no flusher writes while it is read.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chronokv_extent::{ExtentReader, Manifest};
use chronokv_wal::{verify_log, FsStorage};

use crate::extents::DATA;
use crate::progress::Progress;
use crate::{layout, manifest_file, record, Error, Result};

/// One thing wrong in a database directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The damaged file.
    pub file: PathBuf,
    /// Byte offset of the damage in that file.
    pub offset: u64,
    /// What check failed.
    pub message: String,
}

/// What [`check`] read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Files read (marker, manifest, data file, log segments).
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Extents the manifest lists.
    pub extents: u64,
    /// Blocks checked.
    pub blocks: u64,
    /// Versions in the blocks that passed.
    pub versions: u64,
    /// Log segments checked.
    pub wal_segments: u64,
    /// Intact commit records in the log.
    pub wal_records: u64,
    /// Everything wrong; empty for a healthy database.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    fn problem(&mut self, file: &Path, offset: u64, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            offset,
            message: message.into(),
        });
    }
}

/// Checks the database in `dir`; see the module docs. `progress` counts bytes. Fails (rather
/// than reporting a problem) when `dir` is not a database, is locked, or cannot be read.
pub fn check(dir: &Path, progress: &Progress) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let dir = match layout::prepare(dir, false) {
        Ok(dir) => dir,
        Err(Error::Corruption {
            path,
            offset,
            reason,
        }) => {
            report.problem(&path, offset, reason);
            dir.canonicalize()
                .map_err(|e| Error::io("resolve the path", dir, e))?
        }
        Err(other) => return Err(other),
    };
    report.files += 1;
    let _lock = layout::lock(&dir)?;

    let wal_dir = layout::wal_dir(&dir);
    let wal_bytes = list_bytes(&wal_dir)?;
    let manifest_path = manifest_file::path(&dir);
    let manifest = read_manifest(&manifest_path, &mut report)?;
    let extent_bytes: u64 = manifest.extents.iter().map(|e| e.bytes).sum();
    progress.set_total(wal_bytes + extent_bytes + report.bytes);
    progress.advance(report.bytes);

    check_extents(&dir.join(DATA), &manifest, &mut report, progress)?;

    let log = verify_log(
        &FsStorage,
        &wal_dir,
        &mut |_, payload| record::decode(payload).map(|_| ()),
        &mut |n| progress.advance(n),
    )?;
    report.files += log.segments;
    report.bytes += log.bytes;
    report.wal_segments = log.segments;
    report.wal_records = log.records;
    for p in log.problems {
        report.problem(&p.path, p.offset, p.reason);
    }
    Ok(report)
}

/// Total size of the log segments (for the progress total).
fn list_bytes(wal_dir: &Path) -> Result<u64> {
    let entries = match std::fs::read_dir(wal_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("list", wal_dir, e)),
    };
    Ok(entries
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum())
}

/// The manifest, or an empty one when there is none or it is damaged (reported).
fn read_manifest(path: &Path, report: &mut CheckReport) -> Result<Manifest> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        // A database that never flushed has no manifest.
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Manifest::default()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    report.files += 1;
    report.bytes += bytes.len() as u64;
    match Manifest::decode(&bytes) {
        Ok(manifest) => Ok(manifest),
        Err(e) => {
            report.problem(
                path,
                e.offset,
                format!("{} (the extents it lists cannot be checked)", e.reason),
            );
            Ok(Manifest::default())
        }
    }
}

fn check_extents(
    path: &Path,
    manifest: &Manifest,
    report: &mut CheckReport,
    progress: &Progress,
) -> Result<()> {
    if manifest.extents.is_empty() {
        return Ok(());
    }
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let message = format!(
                "the data file is missing, but the manifest lists {} extents",
                manifest.extents.len()
            );
            report.problem(path, 0, message);
            return Ok(());
        }
        Err(e) => return Err(Error::io("open", path, e)),
    };
    report.files += 1;
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    for extent in &manifest.extents {
        report.extents += 1;
        let end = extent.offset.saturating_add(extent.bytes);
        if end > len {
            let message = format!(
                "extent {} ({} bytes) lies past the end of the file ({len} bytes)",
                extent.id, extent.bytes
            );
            report.problem(path, extent.offset, message);
            progress.advance(extent.bytes);
            continue;
        }
        let mut bytes = vec![0u8; usize::try_from(extent.bytes).unwrap_or(usize::MAX)];
        // Plain reads of a file opened read-only: nothing is mapped, cached or written.
        file.seek(SeekFrom::Start(extent.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| Error::io("read", path, e))?;
        report.bytes += extent.bytes;
        let reader = match ExtentReader::open(bytes) {
            Ok(reader) => reader,
            Err(e) => {
                let message = format!(
                    "extent {}: {} (its blocks cannot be found)",
                    extent.id, e.reason
                );
                report.problem(path, extent.offset + e.offset, message);
                progress.advance(extent.bytes);
                continue;
            }
        };
        let mut versions = 0;
        let mut damaged = false;
        for i in 0..reader.blocks().len() {
            report.blocks += 1;
            match reader.verify_block(i) {
                Ok(n) => versions += n,
                Err(e) => {
                    damaged = true;
                    let message = format!("extent {} block {i}: {}", extent.id, e.reason);
                    report.problem(path, extent.offset + e.offset, message);
                }
            }
            progress.advance(reader.blocks()[i].len);
        }
        // The index and footer.
        progress.advance(extent.bytes - reader.blocks().iter().map(|b| b.len).sum::<u64>());
        report.versions += versions;
        if !damaged && versions != extent.versions {
            let message = format!(
                "extent {} holds {versions} versions, but the manifest says {}",
                extent.id, extent.versions
            );
            report.problem(path, extent.offset, message);
        }
    }
    Ok(())
}
