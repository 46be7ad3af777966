//! chronokv's write-ahead log: a lock-free commit queue, one background flusher, group commit.
//!
//! Payloads are opaque bytes. The caller (the engine) gives every record a `seq: u64`, its
//! commit timestamp, strictly increasing across appends; it appends under its own lock, so the
//! order of the queue is the order of the seqs.
//!
//! # Queue
//!
//! [`Wal::append`] pushes `(seq, payload)` onto a [`crossbeam_queue::SegQueue`] (lock-free) and
//! unparks the flusher. It never waits for I/O. A committing thread then calls
//! [`Wal::wait_acked`], which returns once [`Wal::acked`] has reached its seq. `acked()` is the
//! engine's visible watermark: it only moves forward, and only after the record is written
//! (and, under [`Durability::Sync`], synced).
//!
//! # Flusher
//!
//! One background thread, named `chronokv-wal`, owns the file. Its loop:
//!
//! 1. pop everything queued (up to [`WalOptions::max_batch_bytes`]) and encode it into one
//!    reused buffer;
//! 2. one `write_all` of that buffer, then one `sync_data` under [`Durability::Sync`];
//! 3. store the batch's last seq into `acked` (Release) and wake every waiter (a `Mutex` +
//!    `Condvar` that is never held across I/O);
//! 4. when the queue is empty, park until an append unparks it. Under [`Durability::Async`]
//!    it parks at most until the oldest unsynced write is [`WalOptions::sync_interval`] old, then
//!    syncs. It never sleeps a fixed interval while work is queued.
//!
//! # Group commit
//!
//! Nothing waits for company: a lone writer gets its record written and synced at once. While
//! one `fdatasync` runs, new appends pile up in the queue and all go out in the next batch with
//! one write and one sync, so many writers share syncs. [`Wal::stats`] counts syncs, batches and
//! records.
//!
//! # Failures and shutdown
//!
//! A failed write or sync poisons the log for good: the flusher stops, never retries the sync
//! (after a failed fsync the kernel may have dropped the dirty pages) and never advances
//! `acked`. Every waiter not yet acked, and every later append or wait, gets
//! [`WalError::Poisoned`] with the cause. [`Wal::close`] (also run by `Drop`) drains the queue,
//! writes and syncs it in every durability mode, and joins the flusher.
//!
//! # Record format
//!
//! A log is a directory of segment files named `{first_seq:020}.log`, read in name order;
//! appends go to the last one. A segment is a sequence of records, each a 20-byte header
//! followed by the payload; all integers little-endian:
//!
//! ```text
//! offset  size  field
//!      0     4  len          payload length in bytes, at most MAX_RECORD_LEN (1 GiB)
//!      4     8  seq          the caller's sequence number, strictly increasing through the log
//!     12     4  payload_crc  crc32c(payload)
//!     16     4  header_crc   crc32c(bytes 0..16 of this header)
//!     20   len  payload
//! ```
//!
//! A zero-filled region never parses as a record: the crc32c of 16 zero bytes is not zero.
//!
//! # Recovery
//!
//! [`Wal::open`] replays records in order. A record is valid when its header crc matches, its
//! length is within [`MAX_RECORD_LEN`] and within the file, its seq is greater than the previous
//! record's, and its payload crc matches. Checking the header crc first means a record's
//! length is never trusted, so nothing is allocated from an unchecked length.
//!
//! At the first invalid record the rest of the log (the rest of that file, then the later
//! segments) is scanned, byte by byte, for any later valid record with a seq above the last good
//! one. If there is one, the damage is in the middle of the log and `open` fails with
//! [`WalError::Corruption`] naming the file and the offset of the bad record: intact later
//! commits are never dropped silently. If there is none, the bad bytes are a torn tail (a crash
//! mid-write): the file is truncated at the bad record, the truncation is synced, and the log
//! opens normally. New appends continue at the end of the valid data.
//!
//! # I/O backend
//!
//! All file access goes through the small [`Storage`] and [`LogFile`] traits, implemented for
//! the real file system by [`FsStorage`], so tests can inject failing syncs or writes.

#![forbid(unsafe_code)]

mod error;
mod flusher;
mod format;
mod options;
mod recovery;
mod storage;
mod sync;
mod wal;

pub use error::WalError;
pub use format::{encode_record, segment_file_name, HEADER_LEN, MAX_RECORD_LEN};
pub use options::{Durability, WalOptions, WalStats};
pub use storage::{FsStorage, LogFile, Storage};
pub use wal::Wal;
