//! Segment files: their sizes, their creation by preallocation, and the helper thread that keeps
//! the next segment ready so that rotation never waits for a file to be created.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use crate::error::WalError;
use crate::flusher::Shared;
use crate::format::{
    encode_segment_header, segment_file_name, temp_segment_file_name, SEGMENT_HEADER_LEN,
};
use crate::storage::{LogFile, Storage};
use crate::sync::{lock, AtomicBool, Condvar, Mutex, Ordering};

/// Size of segment 1 when the configured maximum is larger; each later segment doubles, up to
/// the maximum. A fresh database so costs a 1 MiB preallocation, not 64 MiB.
pub(crate) const FIRST_SEGMENT_BYTES: u64 = 1 << 20;

/// Smallest accepted [`WalOptions::segment_bytes`](crate::WalOptions::segment_bytes).
pub(crate) const MIN_SEGMENT_BYTES: u64 = 256;

/// Zeros are written in pieces of this size.
const ZERO_CHUNK: usize = 256 << 10;

/// The size of segment number `index` when segments may grow to `max` bytes.
pub(crate) fn segment_size(index: u64, max: u64) -> u64 {
    let max = max.max(MIN_SEGMENT_BYTES);
    let shift = u32::try_from(index.saturating_sub(1).min(40)).expect("at most 40");
    (FIRST_SEGMENT_BYTES << shift).min(max)
}

/// An open segment file.
#[derive(Debug)]
pub(crate) struct Segment {
    pub index: u64,
    pub path: PathBuf,
    pub file: Box<dyn LogFile>,
    /// The file's length: records (and the final seal) are written below it.
    pub capacity: u64,
}

/// Creates segment `index` with `size` bytes, durably, before anything points at it:
///
/// 1. create `{index:020}.log.tmp` and write the segment header and then zeros up to `size`
///    (real writes: a hole or an unwritten extent would make the flusher's `fdatasync` commit
///    block allocations later, on the commit path);
/// 2. `fdatasync` it (data and size);
/// 3. rename it to `{index:020}.log` and sync the directory.
///
/// A crash before step 3 leaves only a `.tmp` file, which recovery deletes. Returns `None` if
/// `stop` was raised meanwhile (the temporary file is removed, best effort).
pub(crate) fn create_segment(
    storage: &dyn Storage,
    dir: &Path,
    index: u64,
    size: u64,
    stop: Option<&AtomicBool>,
) -> Result<Option<Segment>, WalError> {
    let size = size.max(SEGMENT_HEADER_LEN as u64);
    let tmp = dir.join(temp_segment_file_name(index));
    let path = dir.join(segment_file_name(index));
    let mut file = match storage.create(&tmp) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Left by a run that stopped mid-preparation (recovery removes these, but a helper
            // stopped by `close` may leave one too).
            storage
                .remove(&tmp)
                .map_err(|e| WalError::io("remove", &tmp, e))?;
            storage
                .create(&tmp)
                .map_err(|e| WalError::io("create", &tmp, e))?
        }
        Err(e) => return Err(WalError::io("create", &tmp, e)),
    };
    let mut chunk = Vec::with_capacity(ZERO_CHUNK.min(usize::try_from(size).unwrap_or(ZERO_CHUNK)));
    encode_segment_header(index, &mut chunk);
    let mut offset = 0u64;
    while offset < size {
        // Relaxed: a hint to give up early; nothing is published through it.
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            drop(file);
            let _ = storage.remove(&tmp);
            return Ok(None);
        }
        let n = (size - offset).min(ZERO_CHUNK as u64) as usize;
        chunk.resize(n, 0);
        file.write_all_at(offset, &chunk)
            .map_err(|e| WalError::io("preallocate", &tmp, e))?;
        offset += n as u64;
        if offset == n as u64 {
            // The header was in the first chunk; zeros only from here on.
            chunk.fill(0);
        }
    }
    file.sync_data()
        .map_err(|e| WalError::io("fdatasync", &tmp, e))?;
    storage
        .rename(&tmp, &path)
        .map_err(|e| WalError::io("rename", &tmp, e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("sync_dir", dir, e))?;
    Ok(Some(Segment {
        index,
        path,
        file,
        capacity: size,
    }))
}

/// The spare-segment helper's state, shared with the flusher.
#[derive(Debug)]
pub(crate) struct Prep {
    state: Mutex<PrepState>,
    cv: Condvar,
    /// Raised by `Wal::close` after the flusher stopped; the helper abandons its work.
    stop: AtomicBool,
    storage: Arc<dyn Storage>,
    dir: PathBuf,
}

#[derive(Debug, Default)]
struct PrepState {
    /// A segment asked for and not started yet: (index, size).
    wanted: Option<(u64, u64)>,
    /// The index being created right now.
    working: Option<u64>,
    /// Created segments, in index order, not yet taken by the flusher.
    ready: VecDeque<Segment>,
    /// The helper failed (the log is poisoned) or stopped.
    failed: Option<String>,
}

impl Prep {
    pub(crate) fn new(storage: Arc<dyn Storage>, dir: PathBuf, ready: Vec<Segment>) -> Self {
        Prep {
            state: Mutex::new(PrepState {
                ready: ready.into(),
                ..PrepState::default()
            }),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            storage,
            dir,
        }
    }

    /// Asks for segment `index` of at least `size` bytes, unless it is ready or being created
    /// already. A request not yet started is replaced (its size only grows).
    pub(crate) fn request(&self, index: u64, size: u64) {
        let mut state = lock(&self.state);
        if state.working == Some(index) || state.ready.iter().any(|s| s.index == index) {
            return;
        }
        let size = match state.wanted {
            Some((wanted, old)) if wanted == index => size.max(old),
            _ => size,
        };
        state.wanted = Some((index, size));
        self.cv.notify_all();
    }

    /// Takes segment `index`, asking for it with `size` bytes if nobody has, and waiting for the
    /// helper if it is not ready. Fails with the helper's failure.
    pub(crate) fn take(&self, index: u64, size: u64) -> Result<Segment, String> {
        let mut state = lock(&self.state);
        loop {
            while state.ready.front().is_some_and(|s| s.index < index) {
                // A spare the flusher skipped over cannot be used any more; its file stays,
                // zero-filled, and later recoveries treat it as an empty segment.
                state.ready.pop_front();
            }
            if state.ready.front().is_some_and(|s| s.index == index) {
                return Ok(state.ready.pop_front().expect("checked"));
            }
            if let Some(cause) = &state.failed {
                return Err(cause.clone());
            }
            let asked =
                state.working == Some(index) || state.wanted.is_some_and(|(i, _)| i == index);
            if !asked {
                state.wanted = Some((index, size));
                self.cv.notify_all();
            }
            state = self
                .cv
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Tells the helper to stop (abandoning a segment half created) and wakes it.
    pub(crate) fn stop(&self) {
        // Relaxed: the helper rechecks it under the state lock taken below before it sleeps.
        self.stop.store(true, Ordering::Relaxed);
        let _state = lock(&self.state);
        self.cv.notify_all();
    }

    /// The helper thread's body: creates each requested segment, one at a time.
    pub(crate) fn run(&self, shared: &Shared, flusher: &thread::Thread) {
        let _exit = PrepExitGuard {
            prep: self,
            shared,
            flusher,
        };
        loop {
            let (index, size) = {
                let mut state = lock(&self.state);
                loop {
                    // Relaxed: see `stop`; read under the lock `stop` takes after its store.
                    if self.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(wanted) = state.wanted.take() {
                        state.working = Some(wanted.0);
                        break wanted;
                    }
                    state = self
                        .cv
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            let result = create_segment(&*self.storage, &self.dir, index, size, Some(&self.stop));
            let mut state = lock(&self.state);
            state.working = None;
            match result {
                Ok(Some(segment)) => state.ready.push_back(segment),
                Ok(None) => return,
                Err(e) => {
                    let cause = format!("preparing the next log segment failed: {e}");
                    state.failed = Some(cause.clone());
                    drop(state);
                    self.cv.notify_all();
                    shared.poison(cause);
                    flusher.unpark();
                    return;
                }
            }
            self.cv.notify_all();
        }
    }
}

/// Runs when the helper thread ends: a flusher waiting in `take` must not wait forever.
struct PrepExitGuard<'a> {
    prep: &'a Prep,
    shared: &'a Shared,
    flusher: &'a thread::Thread,
}

impl Drop for PrepExitGuard<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.prep.state);
        if thread::panicking() {
            let cause = "the wal segment helper thread panicked".to_owned();
            state.failed = Some(cause.clone());
            self.shared.poison(cause);
            self.flusher.unpark();
        } else if state.failed.is_none() {
            state.failed = Some("the wal segment helper stopped".to_owned());
        }
        drop(state);
        self.prep.cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_sizes_double_up_to_the_maximum() {
        let max = 64 << 20;
        assert_eq!(segment_size(1, max), 1 << 20);
        assert_eq!(segment_size(2, max), 2 << 20);
        assert_eq!(segment_size(7, max), 64 << 20);
        assert_eq!(segment_size(u64::MAX, max), 64 << 20);
        assert_eq!(segment_size(1, 4096), 4096);
        assert_eq!(segment_size(3, 1), MIN_SEGMENT_BYTES);
    }
}
