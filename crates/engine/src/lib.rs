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
//! Reads take no lock of ours: one Acquire load of the watermark, an epoch pin to read the
//! current view, then the lock-free memtables (a hash-index probe for point reads, the skip list
//! for ranges; chain nodes are protected by hazard pointers, see `chronokv_memtable`) and the
//! memory-mapped extents. Histories copy the selected versions of every layer and sort them.
//!
//! # Extents: history bigger than memory
//! A memtable that grows past [`Options::memtable_bytes`] is frozen (a fresh one takes the next
//! commit) and written by a background thread to immutable *extents* in the data file, in
//! regions handed out by the Morton-T extent allocator; the manifest then records them and the
//! log position they cover, and the log drops the segments they made redundant (see `flush`).
//! Reads go through one *view* — the active memtable, the frozen ones, and the interval table
//! of extents — published whole behind a crossbeam-epoch pointer, so a flush or a compaction
//! swaps layers atomically for readers (see `view`). Point reads try the memtables newest
//! first, then the extents by newest timestamp, pruned by key and time bounds; ranges merge
//! every layer batch by batch; rectangles ([`ChangesCursor`]) prune extents by their bounding
//! boxes and blocks by their key, time and Morton bounds. [`Database::compact`] merges
//! extents and applies the retention policy (see `compact`); open snapshots pin what they can
//! see (see `pins`).
//!
//! # Maintenance
//! [`check`] verifies every checksum of a closed database's files (log, manifest, every block
//! of every live extent) read-only, collecting every problem with its file and offset (see
//! `check`). [`Database::backup`] copies the versions up to a time into a fresh database
//! through the extent writer, while the source stays open and writable (see `backup`).
//! [`Database::write_at`] commits at a given timestamp newer than everything in the database,
//! to restore exported history. Long work reports through a [`Progress`].
//!
//! # Processes and threads
//! A directory is held by one process through an advisory lock on `LOCK`; opening it again
//! from the same process (for example from several worker_threads) joins the same engine
//! through a process-wide registry (see [`open`]).

mod backup;
mod check;
mod clock;
mod compact;
mod crash;
mod database;
mod error;
mod extents;
mod flush;
mod key_index;
mod layout;
mod limits;
mod manifest_file;
mod options;
mod pins;
mod progress;
mod range;
mod record;
mod registry;
mod store;
mod view;

pub use backup::BackupStats;
pub use check::{check, CheckReport, Problem};
pub use compact::CompactStats;
pub use crash::CRASH_POINTS;
pub use database::{Database, DatabaseStats, HistoryOptions, KeyRange, Op, Validation};
pub use error::{Error, Result};
pub use limits::{MAX_KEY_BYTES, MAX_TIMESTAMP, MAX_VALUE_BYTES};
pub use options::{Durability, FsStorage, Options, Retention, Storage};
pub use pins::SnapshotPin;
pub use progress::Progress;
pub use range::{ChangesCursor, ChangesOptions, RangeCursor, RangeOptions};
pub use registry::{open, DbRef, Handle};
