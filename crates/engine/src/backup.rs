//! `backup`: a consistent copy of a database as of a time, made while it stays open.
//!
//! # How
//! The copy is a compaction into another directory. [`Database::backup`]
//! 1. fixes the snapshot time `at` (default: now; never above the visible watermark, never
//!    below the retention horizon) and pins it, so retention cannot collect what the copy
//!    must hold while it is made;
//! 2. opens a fresh database in the target directory (which must not hold one);
//! 3. reads every version with `ts <= at` through a [`ChangesCursor`] over one read view (the
//!    view keeps its memtables and extents alive however the source changes meanwhile) in
//!    (key, ts) order, and writes them with the ordinary extent writer into the target's data
//!    file, cut into extents as a flush would, and syncs it;
//! 4. stores the target's manifest: those extents, the log position and newest timestamp
//!    both `at` (the copy's clock continues above it), and the source's retention horizon
//!    (history before it may be partial in the copy as in the source);
//! 5. closes the target, which syncs its empty log and releases its lock.
//!
//! Writers never wait for a backup: it takes no lock of the source's but the pins' mutex for
//! a moment. The copy holds only live extents (no free regions, no log to replay), so it is
//! often smaller than the source. A backup that fails removes what it created.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::progress::Progress;
use crate::range::{ChangesCursor, ChangesOptions};
use crate::{flush, manifest_file, Database, Error, Options, Result};

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupStats {
    /// The canonical path of the copy.
    pub path: PathBuf,
    /// The copy holds every version with a timestamp at or before this.
    pub at: u64,
    /// Versions copied.
    pub versions: u64,
    /// Extents written.
    pub extents: u64,
    /// Bytes of those extents.
    pub bytes: u64,
}

/// Versions read from the source per batch.
const BATCH: usize = 4096;

impl Database {
    /// Copies the database as of `at` (default: now) into `target`, which must not exist or
    /// must be an empty directory; see the module docs. `progress` counts versions (its
    /// total is the source's version count, which includes versions newer than `at`).
    pub fn backup(
        self: &Arc<Self>,
        target: &Path,
        at: Option<u64>,
        progress: &Progress,
    ) -> Result<BackupStats> {
        let at = self.read_ts(at)?;
        let _pin = self.pin(Some(at))?;
        let existed = check_target(target)?;
        let result = Arc::clone(self).copy_into(target, at, progress);
        if result.is_err() {
            remove_created(target, existed);
        }
        result
    }

    fn copy_into(
        self: Arc<Self>,
        target: &Path,
        at: u64,
        progress: &Progress,
    ) -> Result<BackupStats> {
        let source = self.store();
        progress.set_total(self.stats()?.versions);
        let options = Options {
            storage: Arc::clone(&source.data.storage),
            extent_bytes: source.tuning.extent_bytes,
            block_bytes: source.tuning.block_bytes,
            ..Options::default()
        };
        let copy = Database::open_exclusive(target, &options)?;
        let visible = self.now();
        let mut cursor = ChangesCursor::new(
            // The cursor holds the engine for its lifetime, as a JS cursor does.
            Arc::clone(&self),
            ChangesOptions {
                until: (at < visible).then_some(at + 1),
                ..ChangesOptions::default()
            },
        )?;
        let mut versions = 0u64;
        let written = flush::write_extents(copy.store(), None, |emit| {
            let mut batch: Vec<(Vec<u8>, u64, Option<Vec<u8>>)> = Vec::with_capacity(BATCH);
            loop {
                batch.clear();
                cursor.next_batch(BATCH, |key, ts, value| {
                    batch.push((key.to_vec(), ts, value.map(<[u8]>::to_vec)));
                })?;
                if batch.is_empty() {
                    return Ok(());
                }
                for (key, ts, value) in &batch {
                    emit(key, *ts, value.as_deref())?;
                }
                versions += batch.len() as u64;
                progress.advance(batch.len() as u64);
            }
        })?;
        drop(cursor);
        {
            let store = copy.store();
            let mut manifest = store.lock_manifest();
            let mut next = manifest.clone();
            next.checkpoint_seq = at;
            next.last_ts = at;
            next.retention_horizon = self.retention_horizon();
            flush::add_extents(store, &mut next, &written);
            manifest_file::store(&*store.data.storage, &store.dir, &next)?;
            *manifest = next;
        }
        let stats = BackupStats {
            path: copy.path().to_path_buf(),
            at,
            versions,
            extents: written.len() as u64,
            bytes: written.iter().map(|e| e.bytes).sum(),
        };
        drop(written);
        copy.close()?;
        Ok(stats)
    }
}

/// Refuses a target that holds a database or anything else; returns whether it existed.
fn check_target(target: &Path) -> Result<bool> {
    match fs::read_dir(target) {
        Ok(mut entries) => {
            if target.join("CHRONOKV").exists() {
                return Err(Error::InvalidArgument(format!(
                    "{} already holds a chronokv database; a backup needs a new or empty directory",
                    target.display()
                )));
            }
            if entries.next().is_some() {
                return Err(Error::InvalidArgument(format!(
                    "{} is not empty; a backup needs a new or empty directory",
                    target.display()
                )));
            }
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == ErrorKind::NotADirectory => Err(Error::InvalidArgument(format!(
            "{} is not a directory",
            target.display()
        ))),
        Err(e) => Err(Error::io("open the backup directory", target, e)),
    }
}

/// Best effort: removes what a failed backup left in `target`.
fn remove_created(target: &Path, existed: bool) {
    if !existed {
        let _ = fs::remove_dir_all(target);
        return;
    }
    if let Ok(entries) = fs::read_dir(target) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}
