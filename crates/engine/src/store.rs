//! The persistent layer's shared state: the read view, the manifest, the data file, and the
//! background flusher's bookkeeping. Shared (`Arc`) between the database and its flush thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use chronokv_extent::Manifest;
use chronokv_morton::EpochCell;
use chronokv_wal::Wal;

use crate::extents::DataFile;
use crate::pins::Pins;
use crate::view::View;
use crate::{Error, Result, Retention};

/// How the persistent layer is tuned (from [`crate::Options`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    pub(crate) memtable_bytes: usize,
    pub(crate) extent_bytes: usize,
    pub(crate) block_bytes: usize,
    pub(crate) retention: Option<Retention>,
}

/// What the flush thread has been asked to do and how it went.
#[derive(Debug, Default)]
pub(crate) struct FlushState {
    pub(crate) stop: bool,
    /// The first flush failure; later flushes are not attempted (the log still has the data).
    pub(crate) failed: Option<String>,
    /// Completed flushes, to wait on.
    pub(crate) flushes: u64,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) data: Arc<DataFile>,
    pub(crate) view: EpochCell<View>,
    /// The manifest as last written. Held while a flush or compaction switches the manifest and
    /// publishes the matching view, so the two always change together and in the same order.
    pub(crate) manifest: Mutex<Manifest>,
    pub(crate) next_extent_id: AtomicU64,
    pub(crate) wal: Arc<Wal>,
    pub(crate) pins: Arc<Pins>,
    pub(crate) tuning: Tuning,
    pub(crate) flush: Mutex<FlushState>,
    /// Signalled when a memtable is frozen, a flush completes or fails, or the store stops.
    pub(crate) flush_cv: Condvar,
    /// Held by a compaction from start to end: compactions run one at a time.
    pub(crate) compaction: Mutex<()>,
    pub(crate) compactions: AtomicU64,
    pub(crate) versions_collected: AtomicU64,
}

impl Store {
    pub(crate) fn lock_manifest(&self) -> MutexGuard<'_, Manifest> {
        // Replaced whole after a successful write; a panic cannot leave it half-updated.
        self.manifest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn lock_flush(&self) -> MutexGuard<'_, FlushState> {
        self.flush
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn next_id(&self) -> u64 {
        // ORDERING: Relaxed: a unique counter; ids are ordered by the manifest mutex later.
        self.next_extent_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The error to report once the flush thread has failed.
    pub(crate) fn flush_failure(state: &FlushState) -> Option<Error> {
        state.failed.as_ref().map(|cause| Error::Poisoned {
            cause: format!("a flush failed: {cause}"),
        })
    }

    /// Blocks until fewer than `limit` memtables wait for their flush (the writers'
    /// back-pressure), or the flusher failed or stopped.
    pub(crate) fn wait_for_room(&self, limit: usize) -> Result<()> {
        let mut state = self.lock_flush();
        loop {
            if let Some(error) = Store::flush_failure(&state) {
                return Err(error);
            }
            if state.stop || self.view.with(|v| v.frozen.len()) < limit {
                return Ok(());
            }
            state = self
                .flush_cv
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Blocks until no memtable waits for a flush.
    pub(crate) fn wait_flushed(&self) -> Result<()> {
        let mut state = self.lock_flush();
        loop {
            if let Some(error) = Store::flush_failure(&state) {
                return Err(error);
            }
            if self.view.with(|v| v.frozen.is_empty()) {
                return Ok(());
            }
            if state.stop {
                return Err(Error::Closed);
            }
            state = self
                .flush_cv
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    pub(crate) fn wake_flusher(&self) {
        let _state = self.lock_flush();
        self.flush_cv.notify_all();
    }
}
