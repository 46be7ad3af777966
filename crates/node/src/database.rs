//! `NativeDatabase`: one handle on a (possibly shared) engine.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use chronokv_engine::{
    self as engine, ChangesCursor, ChangesOptions, HistoryOptions, Op, RangeCursor, RangeOptions,
    Retention,
};
use napi::bindgen_prelude::{AsyncTask, Buffer, BufferSlice, External};
use napi::Env;
use napi_derive::napi;

use crate::changes::NativeChangesCursor;
use crate::convert::{bound, count, durability, ops, optional_timestamp, timestamp, ts_to_js};
use crate::errors::{from_engine, from_napi, guard, Result};
use crate::maintenance::{Backup, Compact, Flush};
use crate::pin::NativeSnapshotPin;
use crate::progress::NativeProgress;
use crate::range::NativeRangeCursor;
use crate::wait::WaitDurable;

#[napi(object)]
pub struct NativeOpenOptions {
    pub durability: String,
    pub create_if_missing: bool,
    pub read_only: bool,
    /// Bytes; absent = the engine's default.
    pub memtable_bytes: Option<f64>,
    /// Retention window in milliseconds; absent = keep every version.
    pub retention_max_age_ms: Option<f64>,
    pub retention_min_versions: Option<f64>,
}

#[napi(object)]
pub struct NativeChangesOptions {
    pub gte: Option<Buffer>,
    pub lt: Option<Buffer>,
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub limit: Option<f64>,
}

#[napi(object)]
pub struct NativeEntry {
    pub ts: f64,
    pub value: Buffer,
}

#[napi(object)]
pub struct NativeHistoryOptions {
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub reverse: bool,
    pub limit: Option<f64>,
}

#[napi(object)]
pub struct NativeRangeOptions {
    pub gt: Option<Buffer>,
    pub gte: Option<Buffer>,
    pub lt: Option<Buffer>,
    pub lte: Option<Buffer>,
    pub reverse: bool,
    pub limit: Option<f64>,
    pub at: Option<f64>,
}

#[napi(object)]
pub struct NativeStats {
    pub keys: f64,
    pub versions: f64,
    pub memtable_bytes: f64,
    pub memtables: f64,
    pub extents: f64,
    pub extent_blocks: f64,
    pub extent_bytes: f64,
    pub data_file_bytes: f64,
    pub blocks_read: f64,
    pub blocks_skipped: f64,
    pub flushes: f64,
    pub compactions: f64,
    pub versions_collected: f64,
    pub retention_horizon: f64,
    pub pins: f64,
    pub wal_bytes: f64,
    pub now: f64,
}

#[napi]
pub struct NativeDatabase {
    handle: Arc<engine::Handle>,
}

#[napi]
impl NativeDatabase {
    /// Opens the database at `path`, or joins the engine this process already has open there.
    #[napi(factory)]
    pub fn open(path: String, options: NativeOpenOptions) -> Result<NativeDatabase> {
        guard(|| {
            let defaults = engine::Options::default();
            let retention = match options.retention_max_age_ms {
                Some(ms) => Some(Retention {
                    max_age_us: timestamp("retention.maxAgeMs", ms)?.saturating_mul(1000),
                    min_versions: options
                        .retention_min_versions
                        .map(|n| count("retention.minVersions", n))
                        .transpose()?
                        .unwrap_or(1),
                }),
                None => None,
            };
            let options = engine::Options {
                durability: durability(&options.durability)?,
                create_if_missing: options.create_if_missing,
                read_only: options.read_only,
                memtable_bytes: options
                    .memtable_bytes
                    .map(|b| count("memtableBytes", b))
                    .transpose()?
                    .unwrap_or(defaults.memtable_bytes),
                retention,
                ..defaults
            };
            let handle = engine::open(Path::new(&path), &options).map_err(from_engine)?;
            Ok(NativeDatabase {
                handle: Arc::new(handle),
            })
        })
    }

    /// The handle the hot-path free functions (getInto, hasKey, putValue, deleteKey) take.
    /// Closing this object closes the handle for them too.
    #[napi]
    pub fn handle(&self) -> External<Arc<engine::Handle>> {
        External::new(Arc::clone(&self.handle))
    }

    /// Newest live value with ts <= min(at, now()), or null.
    #[napi]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        key: BufferSlice,
        at: Option<f64>,
    ) -> Result<Option<BufferSlice<'env>>> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            db.get_with(&key, at, |found| {
                found
                    .map(|(_, value)| BufferSlice::copy_from(env, value))
                    .transpose()
            })
            .map_err(from_engine)?
            .map_err(from_napi)
        })
    }

    #[napi]
    pub fn get_entry(&self, key: BufferSlice, at: Option<f64>) -> Result<Option<NativeEntry>> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            db.get_with(&key, at, |found| {
                found.map(|(ts, value)| NativeEntry {
                    ts: ts_to_js(ts),
                    value: value.to_vec().into(),
                })
            })
            .map_err(from_engine)
        })
    }

    #[napi]
    pub fn has(&self, key: BufferSlice, at: Option<f64>) -> Result<bool> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            db.get_with(&key, at, |found| found.is_some())
                .map_err(from_engine)
        })
    }

    #[napi]
    pub fn get_many(&self, keys: Vec<Buffer>, at: Option<f64>) -> Result<Vec<Option<Buffer>>> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            // One snapshot for all keys: fix `at` at the current watermark first.
            let at = Some(at.unwrap_or_else(|| db.now()).min(db.now()));
            keys.iter()
                .map(|key| {
                    db.get_with(key, at, |found| {
                        found.map(|(_, value)| value.to_vec().into())
                    })
                    .map_err(from_engine)
                })
                .collect()
        })
    }

    /// Logs and applies a put; returns its commit timestamp (visible once waitDurable resolves).
    #[napi]
    pub fn put(&self, key: BufferSlice, value: BufferSlice) -> Result<f64> {
        guard(|| {
            self.write(&[Op::Put {
                key: &key,
                value: &value,
            }])
        })
    }

    #[napi]
    pub fn delete(&self, key: BufferSlice) -> Result<f64> {
        guard(|| self.write(&[Op::Delete { key: &key }]))
    }

    /// Atomic batch; values[i] === null deletes keys[i].
    #[napi]
    pub fn batch(&self, keys: Vec<Buffer>, values: Vec<Option<Buffer>>) -> Result<f64> {
        guard(|| {
            let ops = ops("batch", &keys, &values)?;
            self.write(&ops)
        })
    }

    /// An atomic batch committed at timestamp `ts`, which must be newer than every commit so
    /// far (for import); values[i] === null deletes keys[i]. Returns `ts`.
    #[napi]
    pub fn write_at(&self, ts: f64, keys: Vec<Buffer>, values: Vec<Option<Buffer>>) -> Result<f64> {
        guard(|| {
            let ts = timestamp("ts", ts)?;
            let ops = ops("batch", &keys, &values)?;
            let db = self.handle.writable().map_err(from_engine)?;
            db.write_at(ts, &ops).map(ts_to_js).map_err(from_engine)
        })
    }

    /// Resolves with the acknowledged watermark once every commit up to `ts` is durable.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn wait_durable(&self, ts: f64) -> Result<AsyncTask<WaitDurable>> {
        guard(|| {
            let ts = timestamp("ts", ts)?;
            let db = self.handle.db().map_err(from_engine)?;
            Ok(AsyncTask::new(WaitDurable::new(db.clone(), ts)))
        })
    }

    /// The newest visible commit timestamp; 0 for an empty database.
    #[napi]
    pub fn now(&self) -> Result<f64> {
        guard(|| Ok(ts_to_js(self.handle.db().map_err(from_engine)?.now())))
    }

    /// Versions of one key with since <= ts < until and ts <= now(), packed into one Buffer:
    /// per version `ts:f64 LE | value_len:i32 LE | value`, with value_len -1 for a tombstone.
    #[napi]
    pub fn history(&self, key: BufferSlice, options: NativeHistoryOptions) -> Result<Buffer> {
        guard(|| {
            let options = HistoryOptions {
                since: optional_timestamp("since", options.since)?,
                until: optional_timestamp("until", options.until)?,
                reverse: options.reverse,
                limit: options.limit.map(|l| count("limit", l)).transpose()?,
            };
            let db = self.handle.db().map_err(from_engine)?;
            let mut out = Vec::new();
            db.history_with(&key, options, |ts, value| {
                out.extend_from_slice(&ts_to_js(ts).to_le_bytes());
                match value {
                    // Values are at most 64 MiB, so the length fits an i32.
                    Some(v) => {
                        out.extend_from_slice(&(v.len() as i32).to_le_bytes());
                        out.extend_from_slice(v);
                    }
                    None => out.extend_from_slice(&(-1i32).to_le_bytes()),
                }
            })
            .map_err(from_engine)?;
            Ok(out.into())
        })
    }

    /// A cursor over live entries at one snapshot, in key byte order.
    #[napi]
    pub fn range(&self, options: NativeRangeOptions) -> Result<NativeRangeCursor> {
        guard(|| {
            let lower = bound("gt", options.gt, "gte", options.gte)?;
            let upper = bound("lt", options.lt, "lte", options.lte)?;
            let options = RangeOptions {
                lower,
                upper,
                reverse: options.reverse,
                limit: options.limit.map(|l| count("limit", l)).transpose()?,
                at: optional_timestamp("at", options.at)?,
            };
            let db = self.handle.db().map_err(from_engine)?;
            let cursor = RangeCursor::new(db.clone(), options).map_err(from_engine)?;
            Ok(NativeRangeCursor::new(cursor))
        })
    }

    /// A cursor over every version with a key in [gte, lt) and since <= ts < until.
    #[napi]
    pub fn changes(&self, options: NativeChangesOptions) -> Result<NativeChangesCursor> {
        guard(|| {
            let options = ChangesOptions {
                lower: options
                    .gte
                    .map_or(Bound::Unbounded, |k| Bound::Included(k.to_vec())),
                upper: options
                    .lt
                    .map_or(Bound::Unbounded, |k| Bound::Excluded(k.to_vec())),
                since: optional_timestamp("since", options.since)?,
                until: optional_timestamp("until", options.until)?,
                limit: options.limit.map(|l| count("limit", l)).transpose()?,
            };
            let db = self.handle.db().map_err(from_engine)?;
            let cursor = ChangesCursor::new(db.clone(), options).map_err(from_engine)?;
            Ok(NativeChangesCursor::new(cursor))
        })
    }

    /// Pins `at` (default: now) against retention until the pin is released.
    #[napi]
    pub fn pin(&self, at: Option<f64>) -> Result<NativeSnapshotPin> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            Ok(NativeSnapshotPin::new(db.pin(at).map_err(from_engine)?))
        })
    }

    /// Writes every memtable to extents.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn flush(&self) -> Result<AsyncTask<Flush>> {
        guard(|| {
            Ok(AsyncTask::new(Flush::new(
                self.handle.writable().map_err(from_engine)?.clone(),
            )))
        })
    }

    /// Flushes, merges every extent and applies retention.
    #[napi(ts_return_type = "Promise<NativeCompactStats>")]
    pub fn compact(&self) -> Result<AsyncTask<Compact>> {
        guard(|| {
            Ok(AsyncTask::new(Compact::new(
                self.handle.writable().map_err(from_engine)?.clone(),
            )))
        })
    }

    /// Copies the database as of `at` (default: now) into `dir`, which must be new or empty.
    #[napi(ts_return_type = "Promise<NativeBackupStats>")]
    pub fn backup(
        &self,
        dir: String,
        at: Option<f64>,
        progress: &NativeProgress,
    ) -> Result<AsyncTask<Backup>> {
        guard(|| {
            let at = optional_timestamp("at", at)?;
            let db = self.handle.db().map_err(from_engine)?;
            Ok(AsyncTask::new(Backup::new(
                db.clone(),
                dir.into(),
                at,
                progress.shared(),
            )))
        })
    }

    #[napi]
    pub fn stats(&self) -> Result<NativeStats> {
        guard(|| {
            let s = self
                .handle
                .db()
                .map_err(from_engine)?
                .stats()
                .map_err(from_engine)?;
            Ok(NativeStats {
                keys: s.keys as f64,
                versions: s.versions as f64,
                memtable_bytes: s.memtable_bytes as f64,
                memtables: s.memtables as f64,
                extents: s.extents as f64,
                extent_blocks: s.extent_blocks as f64,
                extent_bytes: s.extent_bytes as f64,
                data_file_bytes: s.data_file_bytes as f64,
                blocks_read: s.blocks_read as f64,
                blocks_skipped: s.blocks_skipped as f64,
                flushes: s.flushes as f64,
                compactions: s.compactions as f64,
                versions_collected: s.versions_collected as f64,
                retention_horizon: ts_to_js(s.retention_horizon),
                pins: s.pins as f64,
                wal_bytes: s.wal_bytes as f64,
                now: ts_to_js(s.now),
            })
        })
    }

    /// Releases this handle; the last handle in the process closes the engine. Idempotent.
    #[napi]
    pub fn close(&self) -> Result<()> {
        guard(|| self.handle.close().map_err(from_engine))
    }
}

impl NativeDatabase {
    fn write(&self, ops: &[Op<'_>]) -> Result<f64> {
        let db = self.handle.writable().map_err(from_engine)?;
        db.write(ops).map(ts_to_js).map_err(from_engine)
    }
}
