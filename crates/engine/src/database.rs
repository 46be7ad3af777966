//! The database: commits under the sequencer, reads at the acknowledged watermark.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use chronokv_memtable::{Memtable, WriteToken};
use chronokv_morton::EpochCell;
use chronokv_wal::{Wal, WalError, WalOptions};

use crate::clock::{wall_clock_micros, Clock};
use crate::compact::{self, CompactStats};
use crate::extents::{DataFile, LiveExtent};
use crate::flush::{self, MAX_FROZEN};
use crate::limits::{check_key, check_timestamp, check_value};
use crate::pins::{check_against, Pins, SnapshotPin};
use crate::store::{FlushState, Store, Tuning};
use crate::view::{Frozen, View};
use crate::{layout, manifest_file, record, Error, Options, Result};

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
    /// Distinct keys in the memtables (active and frozen, counted per memtable; deleted ones
    /// included). Keys only in extents are not counted: that would need a full scan.
    pub keys: u64,
    /// Versions of all keys, in memtables and extents.
    pub versions: u64,
    /// Approximate bytes held by the memtables (active and frozen).
    pub memtable_bytes: u64,
    /// Memtables: the active one plus those frozen and waiting for their flush.
    pub memtables: u64,
    /// Live extents.
    pub extents: u64,
    /// Blocks in the live extents.
    pub extent_blocks: u64,
    /// Bytes of the live extents.
    pub extent_bytes: u64,
    /// Allocated size of the data file (live extents, free regions and holes).
    pub data_file_bytes: u64,
    /// Extent blocks decoded by reads since open.
    pub blocks_read: u64,
    /// Extent blocks ruled out by their bounds since open.
    pub blocks_skipped: u64,
    /// Flushes completed since open.
    pub flushes: u64,
    /// Compactions completed since open.
    pub compactions: u64,
    /// Versions collected by retention since open.
    pub versions_collected: u64,
    /// Reads before this timestamp are refused: versions before it may have been collected
    /// (0 = none collected).
    pub retention_horizon: u64,
    /// Open snapshot and transaction pins.
    pub pins: u64,
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
    store: Arc<Store>,
    sequencer: Mutex<Sequencer>,
    wal: Arc<Wal>,
    /// Everything at or below the manifest's checkpoint is in extents, visible even before the
    /// log acknowledges a newer commit.
    floor: u64,
    read_only: bool,
    closed: AtomicBool,
    /// Holds the directory's advisory lock for as long as the engine is open.
    lock: Mutex<Option<File>>,
    /// The background flush thread, joined by `close`.
    flusher: Mutex<Option<JoinHandle<()>>>,
}

impl Database {
    /// Opens the database in `dir` for this process: takes the directory lock, loads the
    /// manifest and maps its extents, replays the log records the extents do not cover into a
    /// fresh memtable, and starts the log flusher and the extent flusher. Most callers want
    /// [`crate::open`], which shares one engine between all opens of a directory in this process.
    pub fn open_exclusive(dir: &Path, options: &Options) -> Result<Database> {
        let dir = layout::prepare(dir, options.create_if_missing && !options.read_only)?;
        let lock = layout::lock(&dir)?;
        let storage = Arc::clone(&options.storage);
        // A no-op on the real file system (`prepare` made it); a simulated one learns of it.
        storage
            .create_dir_all(&dir)
            .map_err(|e| Error::io("create the directory", &dir, e))?;
        let manifest = manifest_file::load(&*storage, &dir)?;
        let data = Arc::new(DataFile::open(
            Arc::clone(&storage),
            &dir,
            manifest.data_end,
            manifest
                .extents
                .iter()
                .map(|e| e.offset + e.bytes)
                .max()
                .unwrap_or(0),
            &manifest.free,
            options.read_only,
        )?);
        let extents = manifest
            .extents
            .iter()
            .map(|m| LiveExtent::open(&data, m).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let (memtable, mut token) = Memtable::new();
        let checkpoint = manifest.checkpoint_seq;
        let mut newest = manifest.last_ts.max(checkpoint);
        let wal_dir = layout::wal_dir(&dir);
        let mut replay = |ts: u64, payload: &[u8]| -> Result<(), WalError> {
            if ts <= checkpoint {
                // Already in the extents (the log was not yet checkpointed past it).
                return Ok(());
            }
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
            storage: Arc::clone(&storage),
            segment_bytes: options.wal_segment_bytes,
            ..WalOptions::default()
        };
        let wal = Arc::new(Wal::open(&wal_dir, wal_options, &mut replay)?);
        let pins = Pins::new(manifest.retention_horizon);
        let store = Arc::new(Store {
            dir: dir.clone(),
            data,
            view: EpochCell::new(View::new(memtable, Vec::new(), extents)),
            next_extent_id: AtomicU64::new(manifest.next_extent_id.max(1)),
            manifest: Mutex::new(manifest),
            wal: Arc::clone(&wal),
            pins,
            tuning: Tuning {
                memtable_bytes: options.memtable_bytes.max(1),
                extent_bytes: options.extent_bytes.max(4096),
                block_bytes: options.block_bytes.max(64),
                retention: options.retention,
            },
            flush: Mutex::new(FlushState::default()),
            flush_cv: Condvar::new(),
            compaction: Mutex::new(()),
            compactions: AtomicU64::new(0),
            versions_collected: AtomicU64::new(0),
        });
        let flusher = if options.read_only {
            None
        } else {
            let store = Arc::clone(&store);
            let handle = std::thread::Builder::new()
                .name("chronokv-flush".to_owned())
                .spawn(move || flush::run(store))
                .map_err(|e| Error::io("spawn the flush thread for", &dir, e))?;
            Some(handle)
        };
        Ok(Database {
            path: dir,
            store,
            sequencer: Mutex::new(Sequencer {
                clock: Clock::starting_after(newest),
                token,
            }),
            wal,
            floor: checkpoint,
            read_only: options.read_only,
            closed: AtomicBool::new(false),
            lock: Mutex::new(Some(lock)),
            flusher: Mutex::new(flusher),
        })
    }

    /// The canonical path of the database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest visible commit timestamp (0 while the database is empty).
    pub fn now(&self) -> u64 {
        self.wal.acked().max(self.floor)
    }

    /// Applies `ops` atomically under one new commit timestamp and returns it. The commit is
    /// neither visible nor acknowledged yet: [`Database::wait_durable`] waits for both.
    /// Later operations on a key shadow earlier ones of the same batch.
    pub fn write(&self, ops: &[Op<'_>]) -> Result<u64> {
        self.write_checked(ops, None, None)
    }

    /// [`Database::write`] at a given commit timestamp instead of a fresh one, for restoring
    /// exported history (`chronokv import`). `ts` must be greater than every timestamp this
    /// database has issued, imported or recovered (history only grows at its end); otherwise
    /// nothing is written and the error names `ts` and that newest timestamp. Afterwards the
    /// clock never issues a timestamp at or below `ts`. Durable and visible through
    /// [`Database::wait_durable`], like any write. Versions that share a timestamp must come in
    /// one call: they commit atomically, as a batch does.
    pub fn write_at(&self, ts: u64, ops: &[Op<'_>]) -> Result<u64> {
        check_timestamp("ts", ts)?;
        if ops.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "a write at ts {ts} needs at least one operation"
            )));
        }
        self.write_checked(ops, None, Some(ts))
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
        self.write_checked(ops, Some(validation), None)
    }

    fn write_checked(
        &self,
        ops: &[Op<'_>],
        validation: Option<&Validation<'_>>,
        at: Option<u64>,
    ) -> Result<u64> {
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
        if ops.is_empty()
            && validation.is_none_or(|v| v.read_keys.is_empty() && v.read_ranges.is_empty())
        {
            return Ok(self.now());
        }
        let ops = last_op_per_key(ops);
        let payload = record::encode(&ops);
        let mut sequencer = self.lock_sequencer()?;
        // Checked again under the sequencer: close() takes it too, so nothing is appended after.
        self.ensure_open()?;
        if let Some(ts) = at {
            let newest = sequencer.clock.last();
            if ts <= newest {
                return Err(Error::InvalidArgument(format!(
                    "ts {ts} is not after the newest commit {newest}: versions written at a given ts must be newer than everything in the database"
                )));
            }
        }
        if !ops.is_empty()
            && sequencer.token.memtable().stats().bytes >= self.store.tuning.memtable_bytes
        {
            // Before this commit takes a timestamp: a failure here (the flusher failed) leaves
            // nothing half-written.
            self.freeze(&mut sequencer)?;
        }
        if let Some(validation) = validation {
            self.store.view.with(|view| validation.check(view, &ops))?;
        }
        if ops.is_empty() {
            // A read-only transaction that validated: nothing to log.
            return Ok(self.now());
        }
        let ts = match at {
            Some(ts) => {
                // Checked above: ts is after everything issued, so the clock moves forward.
                sequencer.clock = Clock::starting_after(ts);
                ts
            }
            None => sequencer.clock.next(),
        };
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

    /// Freezes the active memtable (a new one takes the next commits) and wakes the flush
    /// thread. Waits first if [`MAX_FROZEN`] memtables already wait for their flush: the
    /// writers' only back-pressure.
    fn freeze(&self, sequencer: &mut Sequencer) -> Result<()> {
        self.store.wait_for_room(MAX_FROZEN)?;
        let (memtable, token) = Memtable::new();
        let old = std::mem::replace(&mut sequencer.token, token);
        let frozen = Arc::new(Frozen {
            memtable: Arc::clone(old.memtable()),
            max_ts: sequencer.clock.last(),
        });
        self.store
            .view
            .update(|view| view.frozen_at(Arc::clone(&memtable), Arc::clone(&frozen)));
        self.store.wake_flusher();
        Ok(())
    }

    /// Writes every memtable to extents: freezes the active one (if it holds anything) and
    /// waits until no frozen memtable is left.
    pub fn flush(&self) -> Result<()> {
        self.ensure_open()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        {
            let mut sequencer = self.lock_sequencer()?;
            self.ensure_open()?;
            if sequencer.token.memtable().stats().versions > 0 {
                self.freeze(&mut sequencer)?;
            }
        }
        self.store.wait_flushed()
    }

    /// Flushes, then merges every extent into new ones, applying the retention policy (see
    /// `compact`'s module docs).
    pub fn compact(&self) -> Result<CompactStats> {
        self.flush()?;
        let now = wall_clock_micros().max(self.now());
        compact::compact(&self.store, now)
    }

    /// [`Database::compact`] as if the time were `now` (microseconds): for tests of retention.
    #[doc(hidden)]
    pub fn compact_as_of(&self, now: u64) -> Result<CompactStats> {
        self.flush()?;
        compact::compact(&self.store, now)
    }

    /// Keeps every version visible at `at` (default: now) from being collected until the pin
    /// is dropped. Fails if `at` is older than the retention horizon.
    pub fn pin(&self, at: Option<u64>) -> Result<SnapshotPin> {
        let ts = self.read_ts(at)?;
        self.store.pins.pin(ts)
    }

    /// The retention horizon: reads before it are refused.
    pub fn retention_horizon(&self) -> u64 {
        self.store.pins.horizon()
    }

    /// The snapshot timestamp a read at `at` uses: never above the visible watermark, never
    /// below the retention horizon.
    pub(crate) fn read_ts(&self, at: Option<u64>) -> Result<u64> {
        self.ensure_open()?;
        let visible = self.now();
        match at {
            Some(at) => {
                check_timestamp("at", at)?;
                let at = at.min(visible);
                check_against(self.store.pins.horizon(), "a read", at)?;
                Ok(at)
            }
            None => Ok(visible),
        }
    }

    /// The persistent layer (for backups and checks).
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The current read view (kept alive, with every layer it lists, while the `Arc` is held).
    pub(crate) fn view(&self) -> Arc<View> {
        self.store.view.load()
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
        self.store
            .view
            .with(|view| view.get_with(key, ts, |found| f(live(found))))
    }

    /// The live value of `key` at `at` with its commit timestamp.
    pub fn get(&self, key: &[u8], at: Option<u64>) -> Result<Option<(u64, Vec<u8>)>> {
        self.get_with(key, at, |found| {
            found.map(|(ts, value)| (ts, value.to_vec()))
        })
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
        let until = until.min(visible.saturating_add(1));
        let mut versions = self.view().history(key, since, until)?;
        if options.reverse {
            versions.reverse();
        }
        for (ts, value) in versions.into_iter().take(limit) {
            f(ts, value.as_deref());
        }
        Ok(())
    }

    /// Current counters.
    pub fn stats(&self) -> Result<DatabaseStats> {
        self.ensure_open()?;
        let view = self.view();
        let mut stats = DatabaseStats {
            memtables: 1 + view.frozen.len() as u64,
            extents: view.recency.len() as u64,
            data_file_bytes: self.store.data.allocator.end(),
            // ORDERING: Relaxed (all counters here): statistics only.
            blocks_read: self.store.data.stats.blocks_read.load(Ordering::Relaxed),
            blocks_skipped: self.store.data.stats.blocks_skipped.load(Ordering::Relaxed),
            flushes: self.store.lock_flush().flushes,
            compactions: self.store.compactions.load(Ordering::Relaxed),
            versions_collected: self.store.versions_collected.load(Ordering::Relaxed),
            retention_horizon: self.store.pins.horizon(),
            pins: self.store.pins.count() as u64,
            wal_bytes: self.wal.bytes(),
            now: self.now(),
            ..DatabaseStats::default()
        };
        for memtable in view.memtables() {
            let m = memtable.stats();
            stats.keys += m.keys as u64;
            stats.versions += m.versions as u64;
            stats.memtable_bytes += m.bytes as u64;
        }
        for extent in &view.recency {
            stats.versions += extent.versions;
            stats.extent_blocks += extent.blocks() as u64;
            stats.extent_bytes += extent.bytes;
        }
        Ok(stats)
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
        {
            let mut state = self.store.lock_flush();
            state.stop = true;
            self.store.flush_cv.notify_all();
        }
        let flusher = self
            .flusher
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(flusher) = flusher {
            // A flush in progress completes first; memtables not yet flushed stay in the log.
            let _ = flusher.join();
        }
        // Compactions hold this; after it, none is running and none will retire extents.
        drop(
            self.store
                .compaction
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        self.store.data.close();
        let result = self.wal.close().map_err(Error::from);
        let mut lock = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = lock.take() {
            // Dropping the file would release the lock too; unlock first so that an error shows.
            let _ = file.unlock();
        }
        result
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
    /// Runs under the sequencer, so every commit ordered before this one is in the view's
    /// memtables or extents (acknowledged or still in the log's queue: either way it committed
    /// first).
    fn check(&self, view: &View, ops: &[Op<'_>]) -> Result<()> {
        let written = ops.iter().map(Op::key);
        for key in written.chain(self.read_keys.iter().copied()) {
            if view.newer_than(key, self.read_ts)?.is_some() {
                return Err(Error::Conflict { key: key.to_vec() });
            }
        }
        for (lower, upper) in &self.read_ranges {
            if let Some(key) = view.range_newer_than(*lower, *upper, self.read_ts)? {
                return Err(Error::Conflict { key });
            }
        }
        Ok(())
    }
}

/// The value of a version if it is live (not a tombstone), with its timestamp.
pub(crate) fn live(version: Option<(u64, Option<&[u8]>)>) -> Option<(u64, &[u8])> {
    version.and_then(|(ts, value)| value.map(|value| (ts, value)))
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
    ops.iter()
        .enumerate()
        .filter(|(i, op)| last[op.key()] == *i)
        .map(|(_, op)| *op)
        .collect()
}
