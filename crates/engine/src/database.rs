//! The database: commits under the sequencer, reads at the acknowledged watermark.

use std::collections::HashMap;
use std::fs::File;
use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chronokv_memtable::{Memtable, Version, WriteToken};
use chronokv_wal::{Wal, WalError, WalOptions};

use crate::clock::Clock;
use crate::limits::{check_key, check_timestamp, check_value};
use crate::{layout, record, Error, Options, Result};

/// One operation of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    /// Store `value` under `key`.
    Put {
        /// The key (1..=4096 bytes).
        key: &'a [u8],
        /// The value (at most 64 MiB).
        value: &'a [u8],
    },
    /// Record a tombstone for `key`; history keeps what was there.
    Delete {
        /// The key (1..=4096 bytes).
        key: &'a [u8],
    },
}

impl<'a> Op<'a> {
    fn key(&self) -> &'a [u8] {
        match *self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }

    fn value(&self) -> Option<&'a [u8]> {
        match *self {
            Op::Put { value, .. } => Some(value),
            Op::Delete { .. } => None,
        }
    }
}

/// Which versions of one key `history` returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryOptions {
    /// Inclusive lower bound on the commit timestamp.
    pub since: Option<u64>,
    /// Exclusive upper bound on the commit timestamp.
    pub until: Option<u64>,
    /// Newest first when true.
    pub reverse: bool,
    /// At most this many versions.
    pub limit: Option<usize>,
}

/// Counters describing a database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseStats {
    /// Distinct keys ever written (deleted ones included).
    pub keys: u64,
    /// Versions of all keys.
    pub versions: u64,
    /// Approximate bytes held by the memtable.
    pub memtable_bytes: u64,
    /// Bytes in the write-ahead log.
    pub wal_bytes: u64,
    /// The newest visible commit timestamp.
    pub now: u64,
}

/// The state only a committer may touch, behind one mutex.
#[derive(Debug)]
struct Sequencer {
    clock: Clock,
    token: WriteToken,
}

/// An open chronokv database. Shared as `Arc<Database>` by every handle of this process.
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    memtable: Arc<Memtable>,
    sequencer: Mutex<Sequencer>,
    wal: Wal,
    read_only: bool,
    closed: AtomicBool,
    /// Holds the directory's advisory lock for as long as the engine is open.
    lock: Mutex<Option<File>>,
}

impl Database {
    /// Opens the database in `dir` for this process: takes the directory lock, replays the log
    /// into a fresh memtable and starts the log flusher. Most callers want [`crate::open`], which
    /// shares one engine between all opens of a directory in this process.
    pub fn open_exclusive(dir: &Path, options: &Options) -> Result<Database> {
        let dir = layout::prepare(dir, options.create_if_missing && !options.read_only)?;
        let lock = layout::lock(&dir)?;
        let (memtable, mut token) = Memtable::new();
        let mut newest = 0;
        let wal_dir = layout::wal_dir(&dir);
        let mut replay = |ts: u64, payload: &[u8]| -> Result<(), WalError> {
            let ops = record::decode(payload).map_err(|reason| WalError::Corruption {
                path: wal_dir.clone(),
                offset: 0,
                reason: format!("commit {ts} passed its checksum but is malformed: {reason}"),
            })?;
            for op in ops {
                token.insert(op.key(), ts, op.value());
            }
            newest = newest.max(ts);
            Ok(())
        };
        let wal_options = WalOptions {
            durability: options.durability,
            storage: Arc::clone(&options.storage),
            ..WalOptions::default()
        };
        let wal = Wal::open(&wal_dir, wal_options, &mut replay)?;
        Ok(Database {
            path: dir,
            memtable,
            sequencer: Mutex::new(Sequencer { clock: Clock::starting_after(newest), token }),
            wal,
            read_only: options.read_only,
            closed: AtomicBool::new(false),
            lock: Mutex::new(Some(lock)),
        })
    }

    /// The canonical path of the database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest visible commit timestamp (0 while the database is empty).
    pub fn now(&self) -> u64 {
        self.wal.acked()
    }

    /// Applies `ops` atomically under one new commit timestamp and returns it. The commit is
    /// neither visible nor acknowledged yet: [`Database::wait_durable`] waits for both.
    /// Later operations on a key shadow earlier ones of the same batch.
    pub fn write(&self, ops: &[Op<'_>]) -> Result<u64> {
        self.write_checked(ops, None)
    }

    /// [`Database::write`] for a transaction that read at `validation.read_ts`: under the
    /// sequencer, before taking a timestamp, checks that no commit after the snapshot wrote a
    /// key this one writes (first committer wins) or, for serializable isolation, a key or a
    /// range it read. On a conflict nothing is written.
    pub fn write_transaction(&self, ops: &[Op<'_>], validation: &Validation<'_>) -> Result<u64> {
        check_timestamp("readTs", validation.read_ts)?;
        if validation.read_ts > self.now() {
            return Err(Error::InvalidArgument(format!(
                "readTs {} is newer than the newest commit {}",
                validation.read_ts,
                self.now()
            )));
        }
        self.write_checked(ops, Some(validation))
    }

    fn write_checked(&self, ops: &[Op<'_>], validation: Option<&Validation<'_>>) -> Result<u64> {
        self.ensure_open()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        for op in ops {
            check_key(op.key())?;
            if let Some(value) = op.value() {
                check_value(value)?;
            }
        }
        if let Some(validation) = validation {
            for key in &validation.read_keys {
                check_key(key)?;
            }
        }
        if ops.is_empty() && validation.is_none_or(|v| v.read_keys.is_empty() && v.read_ranges.is_empty()) {
            return Ok(self.now());
        }
        let ops = last_op_per_key(ops);
        let payload = record::encode(&ops);
        let mut sequencer = self.lock_sequencer()?;
        // Checked again under the sequencer: close() takes it too, so nothing is appended after.
        self.ensure_open()?;
        if let Some(validation) = validation {
            validation.check(&self.memtable, &ops)?;
        }
        if ops.is_empty() {
            // A read-only transaction that validated: nothing to log.
            return Ok(self.now());
        }
        let ts = sequencer.clock.next();
        // Versions go into the memtable before the record is queued: the WAL acknowledges (and
        // so publishes) the timestamp only after the record is written, by which time every
        // version is in place. If the append fails, the versions stay above the watermark,
        // which never passes a failed commit (the log is poisoned or closed for good).
        for op in &ops {
            sequencer.token.insert(op.key(), ts, op.value());
        }
        self.wal.append(ts, payload)?;
        Ok(ts)
    }

    /// Blocks until every commit up to `ts` is durable (under the durability mode) and visible;
    /// returns the acknowledged watermark.
    pub fn wait_durable(&self, ts: u64) -> Result<u64> {
        Ok(self.wal.wait_acked(ts)?)
    }

    /// [`Database::write`] followed by [`Database::wait_durable`].
    pub fn commit(&self, ops: &[Op<'_>]) -> Result<u64> {
        let ts = self.write(ops)?;
        self.wait_durable(ts)?;
        Ok(ts)
    }

    /// The snapshot timestamp a read at `at` uses: never above the visible watermark.
    pub(crate) fn read_ts(&self, at: Option<u64>) -> Result<u64> {
        self.ensure_open()?;
        let visible = self.wal.acked();
        match at {
            Some(at) => {
                check_timestamp("at", at)?;
                Ok(at.min(visible))
            }
            None => Ok(visible),
        }
    }

    /// Runs `f` on the live value of `key` at `at` (default: now) with its commit timestamp, or
    /// on `None` when the key did not exist or was deleted at that time.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        at: Option<u64>,
        f: impl FnOnce(Option<(u64, &[u8])>) -> R,
    ) -> Result<R> {
        check_key(key)?;
        let ts = self.read_ts(at)?;
        Ok(self.memtable.get_at(key, ts, |version| f(live(version))))
    }

    /// The live value of `key` at `at` with its commit timestamp.
    pub fn get(&self, key: &[u8], at: Option<u64>) -> Result<Option<(u64, Vec<u8>)>> {
        self.get_with(key, at, |found| found.map(|(ts, value)| (ts, value.to_vec())))
    }

    /// Calls `f(ts, value)` for each version of `key` selected by `options` (a `None` value is a
    /// delete), oldest first unless `options.reverse`. Only visible versions are reported.
    pub fn history_with(
        &self,
        key: &[u8],
        options: HistoryOptions,
        mut f: impl FnMut(u64, Option<&[u8]>),
    ) -> Result<()> {
        check_key(key)?;
        let visible = self.read_ts(None)?;
        let since = options.since.unwrap_or(0);
        let until = options.until.unwrap_or(u64::MAX);
        check_timestamp("since", since)?;
        if let Some(until) = options.until {
            check_timestamp("until", until)?;
        }
        let limit = options.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(());
        }
        let selected = |v: &Version| v.ts() <= visible && v.ts() >= since && v.ts() < until;
        if options.reverse {
            // The chain yields newest first: report as we walk, each version protected by the
            // memtable's hazard pointers while `f` runs on it.
            let mut reported = 0;
            self.memtable.history(key, |v| {
                if v.ts() < since {
                    return ControlFlow::Break(());
                }
                if selected(v) {
                    f(v.ts(), v.value());
                    reported += 1;
                    if reported == limit {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            });
        } else {
            // Oldest first: a walk cannot hold protection on every version it passed (trimming
            // may free them once it moves on), so copy the selected ones, then report.
            let mut oldest_first: Vec<(u64, Option<Box<[u8]>>)> = Vec::new();
            self.memtable.history(key, |v| {
                if v.ts() < since {
                    return ControlFlow::Break(());
                }
                if selected(v) {
                    oldest_first.push((v.ts(), v.value().map(Box::from)));
                }
                ControlFlow::Continue(())
            });
            oldest_first.reverse();
            for (ts, value) in oldest_first.into_iter().take(limit) {
                f(ts, value.as_deref());
            }
        }
        Ok(())
    }

    /// Current counters.
    pub fn stats(&self) -> Result<DatabaseStats> {
        self.ensure_open()?;
        let memtable = self.memtable.stats();
        Ok(DatabaseStats {
            keys: memtable.keys as u64,
            versions: memtable.versions as u64,
            memtable_bytes: memtable.bytes as u64,
            wal_bytes: self.wal.bytes(),
            now: self.now(),
        })
    }

    /// Drains and syncs the log, then releases the directory lock. Idempotent. Reads and writes
    /// afterwards fail with [`Error::Closed`].
    pub fn close(&self) -> Result<()> {
        let _sequencer = self.lock_sequencer();
        // ORDERING: Release, pairs with the Acquire load in ensure_open; a caller that sees
        // `closed` also sees that no further commit will be appended.
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let result = self.wal.close().map_err(Error::from);
        let mut lock = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = lock.take() {
            // Dropping the file would release the lock too; unlock first so that an error shows.
            let _ = file.unlock();
        }
        result
    }

    pub(crate) fn memtable(&self) -> &Memtable {
        &self.memtable
    }

    pub(crate) fn ensure_open(&self) -> Result<()> {
        // ORDERING: Acquire, pairs with the swap in close().
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn lock_sequencer(&self) -> Result<MutexGuard<'_, Sequencer>> {
        // A panic while holding the sequencer (a bug) may have left a commit half-applied to the
        // memtable: refuse further writes rather than build on it.
        self.sequencer.lock().map_err(|_| Error::Poisoned {
            cause: "a commit panicked while holding the sequencer".into(),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// A key range as (lower, upper) bounds.
pub type KeyRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// What a transaction read, re-checked at commit by [`Database::write_transaction`].
#[derive(Debug, Clone, Default)]
pub struct Validation<'a> {
    /// The snapshot the transaction read from.
    pub read_ts: u64,
    /// Keys read (serializable isolation; empty under snapshot isolation).
    pub read_keys: Vec<&'a [u8]>,
    /// Key ranges scanned (serializable isolation).
    pub read_ranges: Vec<KeyRange<'a>>,
}

impl Validation<'_> {
    /// Runs under the sequencer, so every commit ordered before this one is in the memtable
    /// (acknowledged or still in the log's queue: either way it committed first).
    fn check(&self, memtable: &Memtable, ops: &[Op<'_>]) -> Result<()> {
        // At u64::MAX a read sees every version appended so far, committed ahead of us or not yet
        // acknowledged by the log: both committed first.
        let changed = |key: &[u8]| memtable.get_at(key, u64::MAX, |v| v.is_some_and(|v| v.ts() > self.read_ts));
        let written = ops.iter().map(Op::key);
        if let Some(key) = written.chain(self.read_keys.iter().copied()).find(|key| changed(key)) {
            return Err(Error::Conflict { key: key.to_vec() });
        }
        for (lower, upper) in &self.read_ranges {
            let mut conflict = None;
            memtable.scan(*lower, *upper, false, u64::MAX, |key, newest| {
                if newest.is_some_and(|v| v.ts() > self.read_ts) {
                    conflict = Some(key.to_vec());
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if let Some(key) = conflict {
                return Err(Error::Conflict { key });
            }
        }
        Ok(())
    }
}

/// The value of a version if it is live (not a tombstone), with its timestamp.
pub(crate) fn live(version: Option<&Version>) -> Option<(u64, &[u8])> {
    version.and_then(|v| v.value().map(|value| (v.ts(), value)))
}

/// Keeps only the last operation on each key, in the order those last operations appear.
fn last_op_per_key<'a>(ops: &[Op<'a>]) -> Vec<Op<'a>> {
    if ops.len() == 1 {
        return ops.to_vec();
    }
    let mut last: HashMap<&[u8], usize> = HashMap::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        last.insert(op.key(), i);
    }
    ops.iter().enumerate().filter(|(i, op)| last[op.key()] == *i).map(|(_, op)| *op).collect()
}
