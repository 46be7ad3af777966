//! The async half of a write: waiting for the log to acknowledge it, off the JS thread.

use std::sync::Arc;

use chronokv_engine::Database;
use napi::bindgen_prelude::*;

use crate::convert::ts_to_js;
use crate::errors::{for_task, from_engine, guard};
use napi::Result;

/// Waits on a libuv pool thread until the WAL acknowledges `ts`. The wait lasts at most one
/// group commit (one write and fdatasync), and the facade keeps at most one in flight per
/// database, so it never ties up the pool.
pub struct WaitDurable {
    db: Arc<Database>,
    ts: u64,
}

impl WaitDurable {
    pub fn new(db: Arc<Database>, ts: u64) -> Self {
        WaitDurable { db, ts }
    }
}

impl Task for WaitDurable {
    type Output = u64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<u64> {
        guard(|| self.db.wait_durable(self.ts).map_err(from_engine)).map_err(for_task)
    }

    fn resolve(&mut self, _env: Env, acked: u64) -> Result<f64> {
        Ok(ts_to_js(acked))
    }
}
