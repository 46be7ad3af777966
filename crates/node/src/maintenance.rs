//! `flush()`, `compact()` and `backup()`: long-running engine work on a libuv pool thread.

use std::sync::Arc;

use chronokv_engine::{BackupStats, CompactStats, Database};
use napi::bindgen_prelude::*;
use napi::Result;
use napi_derive::napi;

use crate::errors::{for_task, from_engine, guard};

/// What `compact()` did.
#[napi(object)]
pub struct NativeCompactStats {
    pub extents_in: f64,
    pub extents_out: f64,
    pub versions_in: f64,
    pub versions_out: f64,
    pub horizon: f64,
}

/// Freezes the active memtable and waits until every memtable is in extents.
pub struct Flush {
    db: Arc<Database>,
}

impl Flush {
    pub fn new(db: Arc<Database>) -> Self {
        Flush { db }
    }
}

impl Task for Flush {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        guard(|| self.db.flush().map_err(from_engine)).map_err(for_task)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Flushes, then merges every extent and applies retention.
pub struct Compact {
    db: Arc<Database>,
}

impl Compact {
    pub fn new(db: Arc<Database>) -> Self {
        Compact { db }
    }
}

impl Task for Compact {
    type Output = CompactStats;
    type JsValue = NativeCompactStats;

    fn compute(&mut self) -> Result<CompactStats> {
        guard(|| self.db.compact().map_err(from_engine)).map_err(for_task)
    }

    fn resolve(&mut self, _env: Env, stats: CompactStats) -> Result<NativeCompactStats> {
        Ok(NativeCompactStats {
            extents_in: stats.extents_in as f64,
            extents_out: stats.extents_out as f64,
            versions_in: stats.versions_in as f64,
            versions_out: stats.versions_out as f64,
            horizon: stats.horizon as f64,
        })
    }
}

/// What `backup()` copied.
#[napi(object)]
pub struct NativeBackupStats {
    pub path: String,
    pub at: f64,
    pub versions: f64,
    pub extents: f64,
    pub bytes: f64,
}

/// Copies the database as of a time into a fresh directory; see `Database::backup`.
pub struct Backup {
    db: Arc<Database>,
    target: std::path::PathBuf,
    at: Option<u64>,
    progress: Arc<chronokv_engine::Progress>,
}

impl Backup {
    pub fn new(
        db: Arc<Database>,
        target: std::path::PathBuf,
        at: Option<u64>,
        progress: Arc<chronokv_engine::Progress>,
    ) -> Self {
        Backup {
            db,
            target,
            at,
            progress,
        }
    }
}

impl Task for Backup {
    type Output = BackupStats;
    type JsValue = NativeBackupStats;

    fn compute(&mut self) -> Result<BackupStats> {
        guard(|| {
            self.db
                .backup(&self.target, self.at, &self.progress)
                .map_err(from_engine)
        })
        .map_err(for_task)
    }

    fn resolve(&mut self, _env: Env, stats: BackupStats) -> Result<NativeBackupStats> {
        Ok(NativeBackupStats {
            path: stats.path.display().to_string(),
            at: stats.at as f64,
            versions: stats.versions as f64,
            extents: stats.extents as f64,
            bytes: stats.bytes as f64,
        })
    }
}
