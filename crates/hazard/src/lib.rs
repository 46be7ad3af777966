//! chronokv's hazard-pointer domain: readers publish what they are about to dereference, and a
//! retired object is freed only once no published hazard names it.
//!
//! # Records
//! A [`Domain`] owns a push-only, lock-free list of cache-padded *records*, one hazard slot each.
//! [`Domain::acquire`] reuses an inactive record (CAS `active` false -> true) or pushes a new one;
//! dropping the [`HazardPointer`] clears its hazard and releases the record. Records are never
//! unlinked, so the list can be walked without protection; they are freed when the domain drops.
//! Each record fills its own cache line pair ([`CachePadded`](crossbeam_utils::CachePadded)), so
//! threads publishing hazards never invalidate each other's lines.
//!
//! # Protecting (the reader's side)
//! [`HazardPointer::protect`] loads the source pointer, stores it into the record's hazard,
//! issues a `SeqCst` fence, then RE-READS the source: if it moved, it retries with the new value;
//! only when the re-read matches may the caller dereference. Publishing after dereferencing, or
//! skipping the re-read, leaves a window in which the object can be retired and freed while it is
//! being read (the loom model `hazard_broken_protect_after_deref_is_caught` shows the failure).
//!
//! # Retiring and reclaiming (the writer's side)
//! A writer first unlinks an object (so no new reader can reach it), then calls
//! [`Domain::retire`], which pushes it onto a Treiber stack and counts it. Once the count passes
//! the domain's threshold, [`Domain::reclaim`] takes the whole stack, issues a `SeqCst` fence,
//! collects every published hazard, frees the retired objects nobody protects and pushes the rest
//! back. The two fences make the classic store-buffering argument work: either the reader's
//! re-read sees the unlink (and retries) or the reclaimer's scan sees the reader's hazard (and
//! keeps the object).
//!
//! # Threads
//! [`Domain::global`] is the process-wide domain the memtable uses. [`HazardPointer::local`] takes
//! a record of it from a small thread-local pool, so a thread finds its records without scanning
//! the list; the pool's destructor releases them when the thread exits (the napi thread pool
//! starts and stops threads, so records must not leak with them). Under `--cfg loom` the global
//! domain and the pool do not exist: loom models build an explicit [`Domain`].
//!
//! # Verification
//! Loom models in `tests/loom_hazard.rs` (protect / retire / reclaim, retries, record reuse) and
//! a deliberately broken variant, `HazardPointer::protect_after_deref` (compiled only under
//! `--cfg loom`), which `hazard_broken_protect_after_deref_is_caught` shows failing. Together
//! with the memtable's models, in a target directory of their own so the normal build stays valid:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!     cargo test --release -p chronokv-hazard -p chronokv-memtable --test 'loom_*'
//! ```

mod domain;
#[cfg(not(loom))]
mod local;
mod pointer;
mod sync;

pub use domain::{Domain, DEFAULT_THRESHOLD};
pub use pointer::HazardPointer;
