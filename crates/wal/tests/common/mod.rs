//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chronokv_wal::{
    segment_file_name, Durability, FsStorage, LogFile, Storage, Wal, WalError, WalOptions,
    HEADER_LEN,
};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// A seeded rng: the seed comes from `CHRONOKV_SEED` or the clock, and is printed.
pub fn rng(test: &str) -> SmallRng {
    let seed = std::env::var("CHRONOKV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {seed} (replay with CHRONOKV_SEED={seed})");
    SmallRng::seed_from_u64(seed)
}

pub type Records = Vec<(u64, Vec<u8>)>;

/// Opens the log and collects what it replays.
pub fn open_collect(dir: &Path, opts: WalOptions) -> Result<(Wal, Records), WalError> {
    let mut seen = Vec::new();
    let wal = Wal::open(dir, opts, &mut |seq, payload| {
        seen.push((seq, payload.to_vec()));
        Ok(())
    })?;
    Ok((wal, seen))
}

/// Fast options for tests that only need the bytes on disk (close still syncs).
pub fn no_sync() -> WalOptions {
    WalOptions {
        durability: Durability::None,
        ..WalOptions::default()
    }
}

/// The first (and in most tests only) segment of `dir`.
pub fn segment(dir: &Path) -> PathBuf {
    dir.join(segment_file_name(1))
}

/// Writes `records` to a fresh log in `dir` through the real `Wal`, and returns the offset of
/// each record plus the end offset.
pub fn write_log(dir: &Path, records: &Records) -> Vec<u64> {
    let (wal, seen) = open_collect(dir, no_sync()).expect("open");
    assert!(seen.is_empty());
    for (seq, payload) in records {
        wal.append(*seq, payload.clone()).expect("append");
    }
    wal.close().expect("close");
    let mut offsets = vec![0];
    for (_, payload) in records {
        let last = *offsets.last().unwrap();
        offsets.push(last + (HEADER_LEN + payload.len()) as u64);
    }
    assert_eq!(
        fs::metadata(segment(dir)).unwrap().len(),
        *offsets.last().unwrap()
    );
    offsets
}

/// Switches that make a [`FaultStorage`] fail, and counters of what it saw.
#[derive(Debug, Default)]
pub struct Faults {
    pub fail_sync: AtomicBool,
    pub fail_write: AtomicBool,
    pub syncs: AtomicU64,
    pub failed_syncs: AtomicU64,
    pub writes: AtomicU64,
}

/// The real file system, with syncs and writes that fail on demand.
#[derive(Debug, Default, Clone)]
pub struct FaultStorage {
    pub faults: Arc<Faults>,
}

#[derive(Debug)]
struct FaultFile {
    inner: Box<dyn LogFile>,
    faults: Arc<Faults>,
}

impl LogFile for FaultFile {
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact_at(offset, buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Relaxed: test switches and counters, read after the threads are joined or waited on.
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        if self.faults.fail_write.load(Ordering::Relaxed) {
            return Err(io::Error::other("injected write failure"));
        }
        self.inner.write_all(buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        // Relaxed: as above.
        self.faults.syncs.fetch_add(1, Ordering::Relaxed);
        if self.faults.fail_sync.load(Ordering::Relaxed) {
            self.faults.failed_syncs.fetch_add(1, Ordering::Relaxed);
            return Err(io::Error::other("injected fdatasync failure"));
        }
        self.inner.sync_data()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }

    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

impl Storage for FaultStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        FsStorage.create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        FsStorage.list(dir)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(FaultFile {
            inner: FsStorage.open(path)?,
            faults: Arc::clone(&self.faults),
        }))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(FaultFile {
            inner: FsStorage.create(path)?,
            faults: Arc::clone(&self.faults),
        }))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        FsStorage.sync_dir(dir)
    }
}
