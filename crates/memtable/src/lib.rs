//! chronokv's MVCC memtable: every committed version of every key, in memory.
//!
//! # Structure
//! - **Key index**: a `crossbeam_skiplist::SkipMap` from key bytes to a [`Chain`]. It is lock-free
//!   for readers and writers and keeps keys in byte order, so a point read costs O(log n) and a
//!   range scan O(log n + k). A hash map would give O(1) point reads but forces a full scan (or a
//!   second index) for ranges; the skip list keeps one structure and one source of truth.
//! - **Version chains** ([`Chain`]): fat nodes of [`SLOTS`] version pointers (one 64-byte cache
//!   line), newest last; a node links to the older node before it. Walking a chain costs one
//!   cache line per eight versions.
//!
//! # Protocol
//! - **One appender.** Versions are appended by whoever holds the memtable's [`WriteToken`]
//!   (exactly one exists per memtable; the engine keeps it inside its commit sequencer, where it
//!   also assigns timestamps). So each chain is appended in strictly non-decreasing timestamp
//!   order and no two appenders race on a slot.
//! - **Publication.** The appender fills a slot, then publishes it with a Release store of the
//!   node's length (or of the chain's head, for a new node). Readers Acquire-load the head and
//!   the length, so they never see a reserved but unwritten slot.
//! - **Visibility is not decided here.** The engine reads at a snapshot timestamp that never
//!   exceeds its visible watermark, and it only advances the watermark after the versions of a
//!   commit are appended, so a reader never sees part of a commit.
//! - **Reclamation.** Versions and nodes are freed only when the memtable itself is dropped,
//!   which happens after every reader is gone (readers hold the engine, which owns it).
//!   Trimming old versions while readers run (hazard pointers) comes with garbage collection.

mod chain;
mod memtable;
mod version;

pub use chain::{Chain, SLOTS};
pub use memtable::{Memtable, MemtableStats, WriteToken};
pub use version::Version;
