//! The [`Wal`] handle: open, append, wait, checkpoint, close.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle, Thread};

use crate::checkpoint::{checkpoint, CheckpointStats};
use crate::error::WalError;
use crate::flusher::{Flusher, Pending, Shared};
use crate::format::{MAX_RECORD_LEN, SEGMENT_HEADER_LEN};
use crate::options::{Durability, WalOptions, WalStats};
use crate::recovery::recover;
use crate::segment::{segment_size, Prep};
use crate::storage::Storage;
use crate::sync::{lock, Mutex, Ordering};

/// A write-ahead log with group commit. See the crate docs for the protocol.
pub struct Wal {
    shared: Arc<Shared>,
    /// The flusher thread, to unpark it.
    flusher: Thread,
    /// The flusher and the segment helper threads, taken (and joined) by the first `close`.
    handle: Mutex<Option<(JoinHandle<()>, JoinHandle<()>)>>,
    prep: Arc<Prep>,
    storage: Arc<dyn Storage>,
    /// Serializes checkpoints (held across their I/O; nothing else takes it).
    checkpointing: Mutex<()>,
    dir: PathBuf,
    durability: Durability,
}

// The engine shares one `Wal` between threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
};

impl Wal {
    /// Opens (creating the directory and first segment if missing) the log in `dir`, replays
    /// every intact record in order through `replay(seq, payload)`, cuts a torn tail, and
    /// starts the flusher thread and the segment helper thread.
    ///
    /// Fails with [`WalError::Corruption`] if damage is followed by intact records, with
    /// [`WalError::Io`] if the file system fails, or with whatever `replay` returns. On error
    /// the caller should discard what `replay` already received.
    // The callback type is spelled out on purpose: it is the signature callers write against.
    #[allow(clippy::type_complexity)]
    pub fn open(
        dir: &Path,
        opts: WalOptions,
        replay: &mut dyn FnMut(u64, &[u8]) -> Result<(), WalError>,
    ) -> Result<Wal, WalError> {
        let storage = Arc::clone(&opts.storage);
        let recovered = recover(&*storage, dir, opts.segment_bytes, replay)?;
        let tail_index = recovered.tail.seg.index;
        // Recovery synced the tail: if it holds a record, its first record is durable.
        let first_durable = if recovered.tail.pos > SEGMENT_HEADER_LEN as u64 {
            tail_index
        } else {
            0
        };
        let shared = Arc::new(Shared::new(
            recovered.tail.last_seq,
            recovered.bytes,
            recovered.sealed,
            first_durable,
        ));
        let no_spare = recovered.spares.is_empty();
        let prep = Arc::new(Prep::new(
            Arc::clone(&storage),
            dir.to_owned(),
            recovered.spares,
        ));
        if no_spare {
            prep.request(
                tail_index + 1,
                segment_size(tail_index + 1, opts.segment_bytes),
            );
        }
        let flusher = Flusher::new(
            Arc::clone(&shared),
            Arc::clone(&prep),
            recovered.tail,
            &opts,
        );
        let handle = thread::Builder::new()
            .name("chronokv-wal".to_owned())
            .spawn(move || flusher.run())
            .map_err(|e| WalError::io("spawn flusher for", dir, e))?;
        let flusher = handle.thread().clone();
        let helper = {
            let (prep, shared, flusher) = (Arc::clone(&prep), Arc::clone(&shared), flusher.clone());
            thread::Builder::new()
                .name("chronokv-wal-prep".to_owned())
                .spawn(move || prep.run(&shared, &flusher))
        };
        let helper = match helper {
            Ok(helper) => helper,
            Err(e) => {
                // Stop the flusher before reporting.
                // ORDERING: SeqCst, see `append`.
                shared.closing.store(true, Ordering::SeqCst);
                prep.stop();
                flusher.unpark();
                let _ = handle.join();
                return Err(WalError::io("spawn segment helper for", dir, e));
            }
        };
        Ok(Wal {
            shared,
            flusher,
            handle: Mutex::new(Some((handle, helper))),
            prep,
            storage,
            checkpointing: Mutex::new(()),
            dir: dir.to_owned(),
            durability: opts.durability,
        })
    }

    /// Enqueues one record and wakes the flusher; does not wait for I/O (see
    /// [`Wal::wait_acked`]). `seq` must be greater than every seq appended or recovered before.
    ///
    /// Fails, queueing nothing, with [`WalError::Poisoned`] after any earlier I/O failure,
    /// [`WalError::Closed`] once `close` has begun, [`WalError::RecordTooLarge`] for a payload
    /// over [`MAX_RECORD_LEN`], and [`WalError::OutOfOrder`] for a seq that is not increasing.
    pub fn append(&self, seq: u64, payload: Vec<u8>) -> Result<(), WalError> {
        if payload.len() > MAX_RECORD_LEN {
            return Err(WalError::RecordTooLarge {
                len: payload.len(),
                max: MAX_RECORD_LEN,
            });
        }
        // ORDERING: SeqCst, a store/load pair with `close` + the flusher: we increment
        // `appending` then load `closing`; they store `closing` then load `appending`. In the
        // single SeqCst order one side sees the other, so either this append fails with Closed
        // or the flusher waits for it before its final drain: no record is left behind.
        self.shared.appending.fetch_add(1, Ordering::SeqCst);
        let result = self.enqueue(seq, payload);
        // ORDERING: Release, pairs with the flusher's SeqCst load of `appending`: the push
        // happens before the flusher sees this append finished.
        self.shared.appending.fetch_sub(1, Ordering::Release);
        self.flusher.unpark();
        result
    }

    fn enqueue(&self, seq: u64, payload: Vec<u8>) -> Result<(), WalError> {
        if let Some(cause) = self.shared.poison.get() {
            return Err(WalError::Poisoned {
                cause: cause.clone(),
            });
        }
        // ORDERING: SeqCst, see `append`.
        if self.shared.closing.load(Ordering::SeqCst) {
            return Err(WalError::Closed);
        }
        // Relaxed: the caller serializes appends, so this is only a guard against misuse;
        // read-modify-writes of one location always see its latest value, whatever the order.
        let last = self.shared.last_appended.fetch_max(seq, Ordering::Relaxed);
        if seq <= last {
            return Err(WalError::OutOfOrder { seq, last });
        }
        self.shared.queue.push(Pending { seq, payload });
        Ok(())
    }

    /// Blocks until `acked() >= seq` and returns `acked()`. Fails with [`WalError::Poisoned`]
    /// if the log is poisoned first, or [`WalError::Closed`] if the flusher stopped first
    /// (a seq acked before either still returns `Ok`). Waiting for a seq that is never
    /// appended blocks until the log is closed.
    pub fn wait_acked(&self, seq: u64) -> Result<u64, WalError> {
        let acked = self.acked();
        if acked >= seq {
            return Ok(acked);
        }
        let mut guard = lock(&self.shared.waiters);
        loop {
            // Checked under the lock the flusher takes to notify, after storing what we read.
            let acked = self.acked();
            if acked >= seq {
                return Ok(acked);
            }
            if let Some(cause) = self.shared.poison.get() {
                return Err(WalError::Poisoned {
                    cause: cause.clone(),
                });
            }
            // ORDERING: Acquire, pairs with the Release store in the flusher's exit guard.
            if self.shared.stopped.load(Ordering::Acquire) {
                return Err(WalError::Closed);
            }
            guard = self
                .shared
                .waiters_cv
                .wait(guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Highest seq acknowledged under the durability mode; after open, the highest recovered
    /// seq (0 if none; when checkpoints left only a segment sealed empty, the seq its seal
    /// names). Only moves forward, and only after the record is written (and synced under
    /// [`Durability::Sync`]).
    pub fn acked(&self) -> u64 {
        // ORDERING: Acquire, pairs with the flusher's Release store after the write (and sync).
        self.shared.acked.load(Ordering::Acquire)
    }

    /// Logical size of the log: bytes of the commit records (headers and payloads) recovered
    /// plus those written since, minus those in segments removed by [`Wal::checkpoint`].
    /// Segment headers, seals and preallocated space are not counted.
    pub fn bytes(&self) -> u64 {
        // Relaxed: an informational figure; no memory is published through it.
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// Removes, oldest first, the sealed segments whose every record has a seq `<= seq`: the
    /// caller has made those records durable elsewhere and never needs them replayed again.
    /// Returns what was removed. See the crate docs, Checkpoints.
    ///
    /// Never removes the segment the flusher writes into or a spare after it, and keeps the
    /// newest sealed segment until a record in the segment after it is synced (recovery needs
    /// a durable record to start from). A later [`Wal::open`] replays every record `> seq`,
    /// and may replay some records `<= seq` too (the caller skips them).
    ///
    /// Safe to call from any thread while appends and the flusher run; concurrent checkpoints
    /// are serialized. It works on a poisoned or closed log too (sealed segments are durable).
    ///
    /// Fails with [`WalError::Io`] if removing a segment or syncing the directory fails. The
    /// log stays consistent and usable (the failure does not poison it): the segments removed
    /// before the failure are gone, the rest stay, and a later checkpoint retries.
    pub fn checkpoint(&self, seq: u64) -> Result<CheckpointStats, WalError> {
        let _serialized = lock(&self.checkpointing);
        checkpoint(&self.shared, &*self.storage, &self.dir, seq)
    }

    /// Flusher counters: syncs, batches, records.
    pub fn stats(&self) -> WalStats {
        self.shared.stats()
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The durability mode the log was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Drains everything queued, writes and `fdatasync`s it (in every durability mode), stops
    /// and joins the flusher and the segment helper. Idempotent; concurrent callers all return after the flusher has
    /// stopped. Fails with [`WalError::Poisoned`] if the log is poisoned (then some appended
    /// records may not be durable). `Drop` calls it.
    pub fn close(&self) -> Result<(), WalError> {
        // ORDERING: SeqCst, see `append`.
        self.shared.closing.store(true, Ordering::SeqCst);
        self.flusher.unpark();
        {
            // Held while joining so a concurrent close returns only after the flusher stopped.
            let mut handle = lock(&self.handle);
            if let Some((flusher, helper)) = handle.take() {
                // A panic in either thread poisoned the log in its exit guard; reported below.
                let _ = flusher.join();
                // The flusher no longer needs spares: a segment half prepared is abandoned.
                self.prep.stop();
                let _ = helper.join();
            }
        }
        match self.shared.poison.get() {
            Some(cause) => Err(WalError::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // Errors were already reported to every waiter; a destructor cannot report more.
        let _ = self.close();
    }
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("durability", &self.durability)
            .field("acked", &self.acked())
            .field("bytes", &self.bytes())
            .field("poisoned", &self.shared.poison.get())
            .finish_non_exhaustive()
    }
}
