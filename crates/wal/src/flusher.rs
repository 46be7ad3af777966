//! The state appenders, waiters and the flusher share, and the flusher thread itself.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_queue::SegQueue;

use crate::checkpoint::{Sealed, SealedSegment};
use crate::format::{encode_record, encode_seal, HEADER_LEN, SEGMENT_HEADER_LEN};
use crate::options::{Durability, WalOptions, WalStats};
use crate::segment::{segment_size, Prep, Segment};
use crate::sync::{lock, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, OnceLock, Ordering};

/// Capacity the flusher's buffer starts with and shrinks back to after a large batch.
const BUF_INITIAL: usize = 64 << 10;
/// A buffer that grew beyond this is released after its batch.
const BUF_KEEP: usize = 4 << 20;

/// A record waiting in the queue.
#[derive(Debug)]
pub(crate) struct Pending {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// Everything the [`Wal`](crate::Wal) handle and the flusher thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub queue: SegQueue<Pending>,
    /// Highest acknowledged seq. Written only by the flusher.
    pub acked: AtomicU64,
    /// Highest seq accepted by `append`, to reject out-of-order appends.
    pub last_appended: AtomicU64,
    /// Set once by `close`; appends fail from then on and the flusher drains and exits.
    pub closing: AtomicBool,
    /// Appends between their `closing` check and their push (see `Wal::append`).
    pub appending: AtomicUsize,
    /// Set by the flusher thread as it exits, for any reason.
    pub stopped: AtomicBool,
    /// The first write or sync failure; once set the log is poisoned for good.
    pub poison: OnceLock<String>,
    /// Waiters sleep on `waiters_cv` under this lock; never held across I/O.
    pub waiters: Mutex<()>,
    pub waiters_cv: Condvar,
    /// Bytes of the commit records in the log (see `Wal::bytes`): added by the flusher after
    /// it wrote them, subtracted by checkpoints that remove them.
    pub bytes: AtomicU64,
    /// The sealed segments on disk, oldest first (see `crate::checkpoint`). Never held across
    /// I/O.
    pub sealed: Mutex<Sealed>,
    /// The highest index of a segment whose first record is durable (0: none known). Raised by
    /// the flusher after a sync; a checkpoint keeps the newest sealed segment until this
    /// passes it.
    pub first_durable: AtomicU64,
    pub syncs: AtomicU64,
    pub batches: AtomicU64,
    pub records: AtomicU64,
}

impl Shared {
    pub(crate) fn new(last_seq: u64, bytes: u64, sealed: Sealed, first_durable: u64) -> Self {
        Shared {
            queue: SegQueue::new(),
            acked: AtomicU64::new(last_seq),
            last_appended: AtomicU64::new(last_seq),
            closing: AtomicBool::new(false),
            appending: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            poison: OnceLock::new(),
            waiters: Mutex::new(()),
            waiters_cv: Condvar::new(),
            bytes: AtomicU64::new(bytes),
            sealed: Mutex::new(sealed),
            first_durable: AtomicU64::new(first_durable),
            syncs: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            records: AtomicU64::new(0),
        }
    }

    /// Wakes every waiter. Taking the lock orders this after any waiter's check-then-wait, so
    /// no wakeup is lost.
    pub(crate) fn wake_waiters(&self) {
        let _guard = lock(&self.waiters);
        self.waiters_cv.notify_all();
    }

    /// Records the first failure (later ones are dropped) and wakes every waiter. Under the
    /// waiters lock, so that it is ordered with [`Shared::publish_ack`].
    pub(crate) fn poison(&self, cause: String) {
        let _guard = lock(&self.waiters);
        let _ = self.poison.set(cause);
        self.waiters_cv.notify_all();
    }

    /// Advances `acked` to `seq` and wakes every waiter, unless the log is poisoned. Checking
    /// and storing under the waiters lock, which `poison` takes too, means that no ack is
    /// published after a failure was recorded (even one of the segment helper, on another
    /// thread): a waiter that saw the failure sees the final watermark.
    pub(crate) fn publish_ack(&self, seq: u64) -> Result<(), String> {
        let _guard = lock(&self.waiters);
        if let Some(cause) = self.poison.get() {
            return Err(cause.clone());
        }
        // ORDERING: Release, pairs with the Acquire loads in `Wal::acked` and
        // `Wal::wait_acked`: whoever sees the new watermark also sees that the records up to it
        // are written (and synced under Sync). Only the flusher stores `acked`.
        self.acked.store(seq, Ordering::Release);
        self.waiters_cv.notify_all();
        Ok(())
    }

    pub(crate) fn stats(&self) -> WalStats {
        // Relaxed: the counters are statistics; no other memory is published through them.
        WalStats {
            syncs: self.syncs.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
        }
    }
}

/// The flusher: owns the tail segment, turns queued records into batches.
#[derive(Debug)]
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    prep: Arc<Prep>,
    /// The segment records are appended to.
    seg: Segment,
    /// Where the next write goes in `seg`.
    pos: u64,
    /// Bytes of the commit records in `seg` (written, or encoded in `buf`).
    seg_bytes: u64,
    /// Bytes of commit records encoded or written but not yet added to `shared.bytes`.
    unpublished: u64,
    durability: Durability,
    sync_interval: Duration,
    max_batch_bytes: usize,
    segment_bytes: u64,
    /// Reused for every batch.
    buf: Vec<u8>,
    /// Seq of the last record written to the log (0 if none).
    written_seq: u64,
    /// Highest seq covered by a completed `fdatasync`; every record carries it (see the crate
    /// docs, Recovery).
    synced_seq: u64,
    /// When the oldest write not yet synced was made (Async and None modes).
    unsynced_since: Option<Instant>,
}

/// Where recovery left the log, for the flusher to continue.
#[derive(Debug)]
pub(crate) struct Tail {
    pub seg: Segment,
    pub pos: u64,
    /// The last recovered seq; recovery synced everything up to it.
    pub last_seq: u64,
    /// Bytes of the commit records recovered in `seg`.
    pub bytes: u64,
}

impl Flusher {
    pub(crate) fn new(shared: Arc<Shared>, prep: Arc<Prep>, tail: Tail, opts: &WalOptions) -> Self {
        Flusher {
            shared,
            prep,
            seg: tail.seg,
            pos: tail.pos,
            seg_bytes: tail.bytes,
            unpublished: 0,
            durability: opts.durability,
            sync_interval: opts.sync_interval,
            max_batch_bytes: opts.max_batch_bytes.max(1),
            segment_bytes: opts.segment_bytes,
            buf: Vec::with_capacity(BUF_INITIAL),
            written_seq: tail.last_seq,
            synced_seq: tail.last_seq,
            unsynced_since: None,
        }
    }

    /// The thread's body. On any exit (clean, failure, or panic) marks the log stopped and
    /// wakes the waiters.
    pub(crate) fn run(mut self) {
        let _exit = ExitGuard {
            shared: Arc::clone(&self.shared),
        };
        if let Err(cause) = self.run_loop() {
            self.shared.poison(cause);
        }
    }

    fn run_loop(&mut self) -> Result<(), String> {
        loop {
            self.check_poison()?;
            // ORDERING: SeqCst, read before the drain below. Pairs with the SeqCst store in
            // `Wal::close` and, with the SeqCst load of `appending` further down, forms the
            // store/load pair against `Wal::append`'s SeqCst increment-then-check.
            let closing = self.shared.closing.load(Ordering::SeqCst);
            let wrote = self.flush_batch()?;
            if self.durability == Durability::Async && self.sync_overdue() {
                self.sync()?;
            }
            if wrote {
                // Appends that arrived during the write and sync form the next batch.
                continue;
            }
            if closing {
                // ORDERING: SeqCst. `closing` was seen true before this load, so an append
                // not counted here sees `closing` and fails; an append whose decrement
                // (Release) we read as done has its push visible to the drain.
                if self.shared.appending.load(Ordering::SeqCst) != 0 {
                    thread::park_timeout(Duration::from_millis(1));
                    continue;
                }
                if !self.shared.queue.is_empty() {
                    continue;
                }
                if self.unsynced_since.is_some() {
                    self.sync()?;
                }
                return Ok(());
            }
            // Park until an append unparks us; an unpark that raced ahead of this call makes
            // it return at once, so no record is left waiting.
            match self.unsynced_since {
                Some(since) if self.durability == Durability::Async => {
                    thread::park_timeout(self.sync_interval.saturating_sub(since.elapsed()));
                }
                _ => thread::park(),
            }
        }
    }

    /// Writes everything queued (up to `max_batch_bytes`) with one write (two when the batch
    /// crosses into a new segment), syncs it under `Durability::Sync`, then publishes the ack.
    /// Returns whether anything was written.
    fn flush_batch(&mut self) -> Result<bool, String> {
        self.buf.clear();
        let mut count = 0u64;
        let mut last = self.written_seq;
        while self.buf.len() < self.max_batch_bytes {
            let Some(record) = self.shared.queue.pop() else {
                break;
            };
            if record.seq <= last {
                return Err(format!(
                    "append of seq {} reached the flusher after seq {last}: appends must be made in seq order",
                    record.seq
                ));
            }
            let need = (HEADER_LEN + record.payload.len()) as u64;
            if !self.fits(self.buf.len() as u64 + need) {
                self.rotate(last, need)?;
            }
            encode_record(record.seq, self.synced_seq, &record.payload, &mut self.buf)
                .map_err(|e| e.to_string())?;
            last = record.seq;
            count += 1;
            self.seg_bytes += need;
            self.unpublished += need;
        }
        if count == 0 {
            return Ok(false);
        }

        self.write_buf()?;
        self.written_seq = last;
        self.publish_bytes();
        // Relaxed: statistics only; nothing is published through them.
        self.shared.batches.fetch_add(1, Ordering::Relaxed);
        self.shared.records.fetch_add(count, Ordering::Relaxed);
        if self.durability == Durability::Sync {
            self.sync()?;
        } else if self.unsynced_since.is_none() {
            self.unsynced_since = Some(Instant::now());
        }

        // Nothing is acknowledged once any part of the log failed (the segment helper may
        // have failed meanwhile).
        self.shared.publish_ack(last)?;

        if self.buf.capacity() > BUF_KEEP {
            self.buf = Vec::with_capacity(BUF_INITIAL);
        }
        Ok(true)
    }

    /// Whether `len` more bytes of records fit in the current segment, leaving room for its
    /// seal.
    fn fits(&self, len: u64) -> bool {
        self.pos + len + HEADER_LEN as u64 <= self.seg.capacity
    }

    /// Ends the current segment and moves to the next, which the helper has prepared (normally
    /// long before; otherwise this waits for it):
    ///
    /// 1. take the next segment, so that it exists durably before anything points at it;
    /// 2. write what is buffered plus a seal into the current segment and sync it (in every
    ///    durability mode, so that every sealed segment is durable);
    /// 3. remember the sealed segment for checkpoints (see `crate::checkpoint`), continue in
    ///    the next segment and ask the helper for the one after it.
    ///
    /// A record of `need` bytes that does not fit even an empty segment of the usual size gets a
    /// larger one; the segments passed on the way are sealed empty.
    fn rotate(&mut self, last: u64, need: u64) -> Result<(), String> {
        let required = SEGMENT_HEADER_LEN as u64 + need + HEADER_LEN as u64;
        loop {
            let next = self.seg.index + 1;
            let seg = self
                .prep
                .take(next, segment_size(next, self.segment_bytes).max(required))?;
            encode_seal(last, self.synced_seq, &mut self.buf);
            self.write_buf()?;
            self.written_seq = last;
            self.sync()?;
            // Counted before the segment can be found in `sealed`, so that a checkpoint that
            // removes it never subtracts bytes not yet added.
            self.publish_bytes();
            lock(&self.shared.sealed).push_back(SealedSegment {
                index: self.seg.index,
                last_seq: last,
                record_bytes: self.seg_bytes,
                file_bytes: self.seg.capacity,
            });
            self.seg = seg;
            self.pos = SEGMENT_HEADER_LEN as u64;
            self.seg_bytes = 0;
            let mut following = segment_size(next + 1, self.segment_bytes);
            if !self.fits(need) {
                following = following.max(required);
            }
            self.prep.request(next + 1, following);
            if self.fits(need) {
                return Ok(());
            }
            // Too small for this record: it is sealed empty on the next turn.
        }
    }

    /// Adds the bytes of the commit records written since the last call to `shared.bytes`.
    fn publish_bytes(&mut self) {
        // Relaxed: an informational figure; no memory is published through it.
        self.shared
            .bytes
            .fetch_add(self.unpublished, Ordering::Relaxed);
        self.unpublished = 0;
    }

    /// Writes `buf` at the current position and clears it.
    fn write_buf(&mut self) -> Result<(), String> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.seg.file.write_all_at(self.pos, &self.buf) {
            return Err(self.cause("write", &e));
        }
        self.pos += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn sync_overdue(&self) -> bool {
        self.unsynced_since
            .is_some_and(|since| since.elapsed() >= self.sync_interval)
    }

    /// One `fdatasync` of the current segment. A failure is returned as the poison cause and
    /// never retried.
    fn sync(&mut self) -> Result<(), String> {
        // Relaxed: a statistic.
        self.shared.syncs.fetch_add(1, Ordering::Relaxed);
        let result = self.seg.file.sync_data();
        if let Err(e) = result {
            return Err(self.cause("fdatasync", &e));
        }
        self.synced_seq = self.written_seq;
        self.unsynced_since = None;
        if self.pos > SEGMENT_HEADER_LEN as u64 {
            // ORDERING: Release, pairs with the Acquire in `checkpoint::next_removable`: a
            // checkpoint that sees this index sees a segment whose first record is durable.
            self.shared
                .first_durable
                .fetch_max(self.seg.index, Ordering::Release);
        }
        Ok(())
    }

    fn check_poison(&self) -> Result<(), String> {
        match self.shared.poison.get() {
            Some(cause) => Err(cause.clone()),
            None => Ok(()),
        }
    }

    fn cause(&self, op: &str, e: &std::io::Error) -> String {
        format!("{op} {} failed: {e}", self.seg.path.display())
    }
}

/// Runs when the flusher thread ends, even by panic.
struct ExitGuard {
    shared: Arc<Shared>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if thread::panicking() {
            let _ = self
                .shared
                .poison
                .set("the wal flusher thread panicked".to_owned());
        }
        // ORDERING: Release, pairs with the Acquire load in `Wal::wait_acked`; the waiter also
        // re-checks it under the waiters lock, which `wake_waiters` takes after this store.
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.wake_waiters();
    }
}
