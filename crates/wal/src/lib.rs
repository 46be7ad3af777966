//! chronokv's write-ahead log: a lock-free commit queue, one background flusher, group commit,
//! preallocated segments, and a recovery that tells a torn tail from corruption.
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
//! One background thread, named `chronokv-wal`, owns the tail segment. Its loop:
//!
//! 1. pop everything queued (up to [`WalOptions::max_batch_bytes`]) and encode it into one
//!    reused buffer;
//! 2. one positional write of that buffer into the segment's preallocated space, then one
//!    `fdatasync` under [`Durability::Sync`];
//! 3. store the batch's last seq into `acked` (Release) and wake every waiter (a `Mutex` +
//!    `Condvar` that is never held across I/O);
//! 4. when the queue is empty, park until an append unparks it. Under [`Durability::Async`]
//!    it parks at most until the oldest unsynced write is [`WalOptions::sync_interval`] old, then
//!    syncs. It never sleeps a fixed interval while work is queued.
//!
//! # Group commit at the fsync floor
//!
//! Nothing waits for company: a lone writer gets its record written and synced at once. While
//! one `fdatasync` runs, new appends pile up in the queue and all go out in the next batch with
//! one write and one sync, so many writers share syncs. [`Wal::stats`] counts syncs, batches and
//! records.
//!
//! An append to the end of a file makes `fdatasync` commit the new size (and new blocks)
//! through the file system's journal, which costs far more than flushing the data. So the log
//! never writes past the end of a file: every segment is *preallocated* by writing zeros (not
//! a sparse `set_len`, and not `fallocate`, whose unwritten extents still need a metadata
//! change when first written) and syncing them, together with the directory, before anything
//! is written into it. The flusher's `fdatasync` then only flushes data.
//!
//! # Segments and rotation
//!
//! A log is a directory of segment files named `{index:020}.log`, numbered without gaps from 1
//! (or, once checkpoints removed the oldest, from the first one left).
//! Segment 1 is 1 MiB (or [`WalOptions::segment_bytes`] if smaller); each next one doubles up to
//! `segment_bytes` (default 64 MiB), so a fresh database costs a 1 MiB preallocation.
//!
//! A helper thread, `chronokv-wal-prep`, keeps the *next* segment ready: it writes
//! `{index:020}.log.tmp` (header, then zeros), `fdatasync`s it, renames it to
//! `{index:020}.log` and syncs the directory. The flusher asks for the next segment as soon as
//! it starts writing into one, so rotation takes a ready file and does not wait. When a record
//! (plus room for a seal) does not fit in the current segment, the flusher writes a *seal*
//! after the last record, `fdatasync`s the segment (in every durability mode: a sealed segment
//! is always durable), and continues in the next one. A record larger than a whole segment
//! gets a segment of its own size (the segments skipped on the way are sealed empty).
//!
//! # Checkpoints
//!
//! The engine moves records into its own durable files (extents, recorded in its manifest) and
//! then calls [`Wal::checkpoint`] with the seq S up to which it has done so. The log removes,
//! oldest first, every *sealed* segment whose seal names a seq <= S: its commits all have
//! seq <= S. It remembers each sealed segment's index, seal seq and sizes: recovery lists the
//! segments it walked through, the flusher adds each segment it seals (after the seal's
//! `fdatasync`). The segment the flusher writes into and the spares after it are never removed.
//! [`Wal::bytes`] drops by the bytes of the commit records removed.
//!
//! - *One directory sync per removal.* POSIX does not order unsynced directory operations, so
//!   removing two segments and losing power could leave the newer removed and the older
//!   present: a gap, which recovery must refuse (a missing segment in the middle of a log may
//!   have held acknowledged records). Removing oldest first and syncing the directory after each
//!   removal leaves at most one removal undecided at any time; either way the segments left are
//!   numbered without gaps. Checkpoints are rare, so the extra syncs cost little.
//! - *Recovery needs a durable first record.* It tells a torn tail from damage by comparing the
//!   `synced` field of later records with the last good seq (see Recovery); the first segment
//!   left must give that baseline. A sealed segment is durable as a whole, so its first record
//!   (or, for a segment sealed empty, its seal, whose seq is then taken as the baseline) does.
//!   The flusher's segment does only once a record in it is synced, so the newest sealed
//!   segment is kept until then: otherwise a power loss could tear the flusher's first record
//!   while keeping a later one whose `synced` names a seq of a removed segment, and recovery
//!   would report corruption.
//! - *Failures.* A failed removal or directory sync returns [`WalError::Io`] and does not
//!   poison the log: the segments removed before it are gone, the others stay, and a later
//!   checkpoint retries (a file already gone is taken as removed, and the directory synced).
//!
//! After a crash at any point of a checkpoint, recovery opens the log from the first segment
//! left and replays every record with seq > S; some records <= S may be replayed too, and the
//! engine skips them. Checkpoints are serialized with each other and run alongside appends and
//! the flusher; they only touch sealed segments, which nothing writes any more.
//!
//! # Format (version 2)
//!
//! All integers little-endian. A segment starts with a 32-byte header:
//!
//! ```text
//! offset  size  field
//!      0     8  magic        "CKV-WAL\0"
//!      8     4  version      2
//!     12     4  reserved     0
//!     16     8  index        the segment's number, as in its file name
//!     24     4  reserved     0
//!     28     4  header_crc   crc32c(bytes 0..28)
//! ```
//!
//! Records follow from offset 32, each a 32-byte header then the payload:
//!
//! ```text
//! offset  size  field
//!      0     4  len          payload length in bytes, at most MAX_RECORD_LEN (1 GiB)
//!      4     1  kind         1 = commit, 2 = seal (end of this segment; len 0)
//!      5     3  reserved     0
//!      8     8  seq          commit: the caller's seq, strictly increasing through the log;
//!                            seal: the seq of the last commit before it (0 if none)
//!     16     8  synced       the highest seq covered by a completed fdatasync when this
//!                            record was written (every record before that seq is durable)
//!     24     4  payload_crc  crc32c(payload)
//!     28     4  header_crc   crc32c(bytes 0..28 of this header)
//!     32   len  payload
//! ```
//!
//! After the last record of a segment (or its seal) come the preallocated zeros. A zero-filled
//! region never parses as a record: the crc32c of 28 zero bytes is not zero. Version 1 (the
//! foundation's: segments named by first seq, no segment header, 20-byte record headers
//! without `kind` and `synced`) is not read; opening such a log fails with
//! [`WalError::Corruption`] (bad magic), and a segment header of another version with one that
//! names the version.
//!
//! # Recovery
//!
//! [`Wal::open`] checks every segment's header (a bad header, a missing segment in the
//! sequence, or a seal on the last segment is [`WalError::Corruption`]) and replays records in
//! order from the first segment present, following seals into the next segment. A record is
//! intact when its header crc matches, its kind and reserved bytes are known, its length is
//! within [`MAX_RECORD_LEN`] and within the file, its seq is greater than the previous
//! record's (a seal's equals it; a seal that opens a log whose earlier segments a checkpoint
//! removed is taken as it is, and its seq counts as the previous one), and its payload crc
//! matches. Checking the header crc first means a record's length is never trusted,
//! so nothing is allocated from an unchecked length.
//!
//! The first record that is not intact, at position D, ends the replay. Usually D is simply
//! where the zeros begin. Otherwise the bytes from D on are either a *torn tail* (writes made
//! but never synced, possibly persisted out of order: a hole of zeros or garbage followed by
//! a later intact record is normal after a power loss) or damage to data that had been synced.
//! The `synced` field tells them apart. The rest of the log (the rest of that segment, then the
//! later segments) is scanned for intact records; runs of zeros are skipped quickly, every
//! other byte offset is tried. If any of them says `synced` > the last good seq, the record at
//! D had been synced, so the damage is real: `open` fails with [`WalError::Corruption`] naming
//! the file and the offset of D, and changes nothing. Otherwise D starts a torn tail: every
//! non-zero byte from D on is overwritten with zeros (the space stays preallocated, and nothing
//! of the previous run can reappear after the records appended next), the touched segments and
//! the last two segments are `fdatasync`ed (so that the next records may claim that everything
//! replayed is synced), leftover `.tmp` segments are removed, the directory is synced (a run
//! killed between renaming a prepared segment and syncing the directory leaves a name that a
//! seal may soon point at), and appends continue at D.
//!
//! Damage to the very last synced records, with nothing intact after them, looks exactly like
//! a torn tail and is cut. Under [`Durability::Sync`] no record after it was acknowledged.
//!
//! # Failures and shutdown
//!
//! A failed write or sync, in the flusher or in the segment helper, poisons the log for good:
//! the flusher stops, never retries the sync (after a failed fsync the kernel may have dropped
//! the dirty pages) and never advances `acked` (it checks for poison after its own sync and
//! before storing the ack). Every waiter not yet acked, and every later append or wait, gets
//! [`WalError::Poisoned`] with the cause. A failure during [`Wal::open`] is returned as
//! [`WalError::Io`]. [`Wal::close`] (also run by `Drop`) drains the queue, writes and syncs it in
//! every durability mode, joins the flusher, then stops the helper (a segment it was preparing
//! is abandoned; its `.tmp` file is removed now or by the next recovery).
//!
//! # Verification
//!
//! [`verify_log`] walks every segment read-only and reports every damaged record with its file
//! and offset instead of stopping at the first (for `chronokv check`; see `verify`).
//!
//! # I/O backend
//!
//! All file access goes through the small [`Storage`] and [`LogFile`] traits, implemented for
//! the real file system by [`FsStorage`]. [`sim::SimStorage`] (hidden; for tests) simulates
//! power loss and injects faults through the same traits.
//!
//! The engine writes its data file through the same traits, and reads regions of it with
//! [`Storage::map`] (a read-only memory map under [`FsStorage`], a copy otherwise: [`Mapped`])
//! and frees them with [`Storage::punch_hole`].

// One function maps files (`mapped::map_file`); everything else is safe code.
#![deny(unsafe_code)]

mod checkpoint;
mod error;
mod flusher;
mod format;
mod mapped;
mod options;
mod recovery;
mod segment;
#[doc(hidden)]
pub mod sim;
mod storage;
mod sync;
mod verify;
mod wal;

pub use checkpoint::CheckpointStats;
pub use error::WalError;
pub use format::{
    encode_record, encode_seal, encode_segment_header, segment_file_name, FORMAT_VERSION,
    HEADER_LEN, MAX_RECORD_LEN, SEGMENT_HEADER_LEN,
};
pub use mapped::Mapped;
pub use options::{Durability, WalOptions, WalStats};
pub use storage::{FsStorage, LogFile, Storage};
pub use verify::{verify_log, InspectRecord, LogCheck, LogProblem};
pub use wal::Wal;
