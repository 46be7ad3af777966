//! chronokv's MVCC memtable: every version of every key, in memory, read without locks.
//!
//! # Structure
//! - **Version chains** ([`Chain`]): fat nodes of [`SLOTS`] version pointers (one 64-byte cache
//!   line), newest last, each node linking to the older one. Beside the pointers a node keeps the
//!   slots' commit timestamps (one more line) and a control line with the *tail word*; the node is
//!   128-byte aligned so the control line and the stamps share one adjacent-line-prefetch pair.
//!   An as-of read searches the stamps and dereferences only the version it returns.
//! - **Versions** ([`Version`]): values up to [`INLINE_VALUE_BYTES`] (56) bytes inline, larger
//!   ones in their own allocation; `None` is a tombstone.
//! - **Two indexes over the same chains.** A skip list (`crossbeam_skiplist`) keeps keys in byte
//!   order for scans (O(log n + k)); an open-addressing hash index serves point reads in O(1)
//!   with lock-free probes. Each key's entry (its chain, and the key inline when <= 38 bytes) is
//!   allocated once, owned by the skip list and pointed to by the hash index; entries live until
//!   the memtable drops. Measured on this project's 2-core machine (example `memtable_timing`,
//!   100K 16-byte keys, on-CPU time): a skip-list point lookup costs ~2 us cold and ~420 ns on a
//!   hot 1K-key set; a full memtable get through the hash index costs ~430 ns cold and ~62 ns hot
//!   (chain read and hazard fence included). The skip list alone would be 5-7x slower for point
//!   reads, and a second structure costs one pointer per key plus an insert-time mutex for new
//!   keys (readers never take it). dashmap was the other candidate: its reads take a shard
//!   read-lock (an atomic RMW on a shared line), which the design's "reads take no lock" rules out.
//!
//! # Tail word, intents and conflicts
//! Each node has one `AtomicU64` tail: `len` (low 8 bits: slots reserved) and `owner` (high 56
//! bits: the transaction holding the last reserved slot, 0 = none). A writer loads the tail;
//! `owner` set and not its own is a **write-write conflict**; otherwise one CAS
//! `(len, 0) -> (len + 1, me)` both claims the head and reserves slot `len`, so there is no
//! window in which a reserved but unwritten slot looks empty: while `owner != 0` readers skip
//! the last reserved slot, stored or not. Then the writer stores its intent (Release).
//! - **Commit** stamps the version and the node's stamp, then stores `(len, 0)` (Release).
//! - **Abort** nulls the slot, stores `(len - 1, 0)` and retires the intent to the hazard domain
//!   (an own-read on another thread may hold it).
//! - **Snapshot-isolation check**: [`Chain::put_intent`] also fails when a version newer than
//!   the writer's snapshot is committed (first committer wins), in the same reservation attempt.
//! - A full node with `owner == 0` is immutable forever; only then does a writer CAS a new head
//!   node whose slot 0 already holds its version (tail `(1, me)`, or `(1, 0)` when committed).
//! - The **sequencer path** ([`Memtable::insert`], [`WriteToken::insert`]) appends committed
//!   versions: reserve with a transient owner, store slot and stamp, store `(len + 1, 0)`
//!   (Release). A writer meeting that transient owner spins for those three stores.
//!
//! # Reading
//! A reader protects the head node with a hazard pointer (publish, SeqCst fence, re-read),
//! Acquire-loads the tail and uses the committed slots `0..len` (minus the owner's slot). Those
//! slots never change and their versions live as long as their node, so one hazard per node
//! suffices: protecting every slot (one fence per version) would buy nothing, because a reader
//! never dereferences a slot that can change. Only the owner's own reads ([`Chain::read_own`])
//! dereference an intent, and they protect it with a hazard of its own. Older nodes are walked
//! hand over hand, each hazard validated against the previous node's `older` link.
//!
//! # Visibility
//! Commits become visible all at once through a watermark ([`Watermark`]; in the engine, the
//! write-ahead log's acknowledged position): a commit stamps every version first and publishes
//! its timestamp after (Release); readers Acquire-load the watermark and never read above it. A
//! commit's versions are stamped before the watermark can pass them, so a reader at the
//! watermark sees a transaction whole or not at all (loom model
//! `watermark_publishes_a_transaction_all_at_once`; stress test pair checks).
//!
//! # Reclamation
//! - **Trimming** ([`Chain::trim_before`], [`Memtable::trim_before`]): with node granularity,
//!   unlinks every node older than the one holding the newest version `<= horizon` (and the
//!   `keep_min`-th newest), nulls each cut node's `older` link, and retires the nodes (with their
//!   versions) to the hazard domain. The nulling matters: a reader standing on a cut node must not
//!   validate its next hazard against a link inside a retired node (loom model
//!   `chain_trim_of_two_nodes_races_a_reader_standing_on_the_first` fails without it).
//! - **Aborted and replaced intents** are retired to the domain too.
//! - Everything still linked is freed when the chain (the memtable) drops.
//! - The hazard domain is `chronokv_hazard::Domain::global()` with thread-local records.
//!
//! # Verification
//! - Loom models (`tests/loom_chain.rs`, and `chronokv-hazard`'s `tests/loom_hazard.rs`):
//!   `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!   cargo test --release -p chronokv-hazard -p chronokv-memtable --test 'loom_*'`.
//!   Under loom every node and version carries a tracked cell that readers touch and drops
//!   write, so a use after free is a causality violation.
//! - `tests/memtable_stress.rs`: 6 threads, 1.2M operations with concurrent trimming; under
//!   valgrind: `CHRONOKV_STRESS_OPS=200000 valgrind --error-exitcode=1 --leak-check=full
//!   --errors-for-leak-kinds=definite <memtable_stress test binary>`.
//! - `tests/memtable_model.rs`: randomized, against a BTreeMap of versions (seeded, replayable).

mod chain;
#[cfg(not(loom))]
mod index;
#[cfg(not(loom))]
mod memtable;
mod sync;
mod version;
mod watermark;

pub use chain::{Chain, Hazards, Trimmed, WriteError, MAX_TXN, SLOTS};
#[cfg(not(loom))]
pub use memtable::{Memtable, MemtableStats, WriteToken};
pub use version::{Version, INLINE_VALUE_BYTES};
pub use watermark::Watermark;
