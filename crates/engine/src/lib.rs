//! chronokv's database engine: commit timestamps, atomic commits, recovery and reads.
//!
//! # Commit protocol
//! 1. A writer validates its operations and encodes them as one WAL record (outside any lock).
//! 2. Under the *sequencer* mutex it takes the next commit timestamp (`max(now, last + 1)`,
//!    so timestamps strictly increase, also across restarts), appends every version to the
//!    memtable, and pushes the record onto the WAL's lock-free queue. Holding the sequencer
//!    for these in-memory steps keeps memtable chains and the WAL in timestamp order.
//! 3. The WAL's flusher writes (and, under `Durability::Sync`, fdatasyncs) whole batches of
//!    records and then advances its *acknowledged* watermark.
//! 4. The acknowledged watermark **is** the visible watermark: a reader reads at
//!    `min(at, acked)`, so the versions of a commit become visible all at once, only after the
//!    commit is durable under the chosen mode, and never partly. Versions appended before their
//!    record is acknowledged sit above the watermark, invisible.
//!
//! # Reads
//! Reads take no lock of ours: one Acquire load of the watermark, then the lock-free memtable
//! (a hash-index probe for point reads, the skip list for ranges; chain nodes are protected by
//! hazard pointers, see `chronokv_memtable`). Histories walk a key's chain newest first; oldest
//! first copies the selected versions, since a walk cannot keep every node it passed protected.
//!
//! # Processes and threads
//! A directory is held by one process through an advisory lock on `LOCK`; opening it again
//! from the same process (for example from several worker_threads) joins the same engine
//! through a process-wide registry (see [`open`]).

mod clock;
mod database;
mod error;
mod layout;
mod limits;
mod options;
mod range;
mod record;
mod registry;

pub use database::{Database, DatabaseStats, HistoryOptions, KeyRange, Op, Validation};
pub use error::{Error, Result};
pub use limits::{MAX_KEY_BYTES, MAX_TIMESTAMP, MAX_VALUE_BYTES};
pub use options::{Durability, FsStorage, Options, Storage};
pub use range::{RangeCursor, RangeOptions};
pub use registry::{open, DbRef, Handle};
