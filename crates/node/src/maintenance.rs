//! `flush()` and `compact()`: long-running engine work on a libuv pool thread.

use std::sync::Arc;

use chronokv_engine::{CompactStats, Database};
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
