//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod workload;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chronokv_wal::{
    encode_record, encode_seal, encode_segment_header, segment_file_name, Durability, FsStorage,
    LogFile, Storage, Wal, WalError, WalOptions, HEADER_LEN, SEGMENT_HEADER_LEN,
};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// The seed for a randomized test: `CHRONOKV_SEED` or the clock, printed either way.
pub fn seed(test: &str) -> u64 {
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
    seed
}

/// A seeded rng: the seed comes from `CHRONOKV_SEED` or the clock, and is printed.
pub fn rng(test: &str) -> SmallRng {
    SmallRng::seed_from_u64(seed(test))
}

/// `default`, or `CHRONOKV_SCALE` times it for longer runs.
pub fn scaled(default: u64) -> u64 {
    let scale: u64 = std::env::var("CHRONOKV_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    default * scale.max(1)
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

/// Segments of at most 64 KiB: small files for tests that rewrite them many times.
pub const SMALL_SEGMENTS: u64 = 64 << 10;

/// Fast options for tests that only need the bytes on disk (close still syncs).
pub fn no_sync() -> WalOptions {
    WalOptions {
        durability: Durability::None,
        segment_bytes: SMALL_SEGMENTS,
        ..WalOptions::default()
    }
}

/// Segment number `index` of `dir`.
pub fn segment_n(dir: &Path, index: u64) -> PathBuf {
    dir.join(segment_file_name(index))
}

/// The first (and in most tests only written) segment of `dir`.
pub fn segment(dir: &Path) -> PathBuf {
    segment_n(dir, 1)
}

/// Bytes of `records` as [`Wal::bytes`] counts them.
pub fn logical_bytes(records: &Records) -> u64 {
    records
        .iter()
        .map(|(_, payload)| (HEADER_LEN + payload.len()) as u64)
        .sum()
}

/// Writes `records` to a fresh log in `dir` through the real `Wal`, one synced batch per
/// record (each waited for), and returns the file offset of each record in segment 1 plus the
/// end offset. All records must fit in segment 1.
pub fn write_log(dir: &Path, records: &Records) -> Vec<u64> {
    let opts = WalOptions {
        durability: Durability::Sync,
        segment_bytes: SMALL_SEGMENTS,
        ..WalOptions::default()
    };
    let (wal, seen) = open_collect(dir, opts).expect("open");
    assert!(seen.is_empty());
    for (seq, payload) in records {
        wal.append(*seq, payload.clone()).expect("append");
        wal.wait_acked(*seq).expect("wait_acked");
    }
    wal.close().expect("close");
    let mut offsets = vec![SEGMENT_HEADER_LEN as u64];
    for (_, payload) in records {
        let last = *offsets.last().unwrap();
        offsets.push(last + (HEADER_LEN + payload.len()) as u64);
    }
    assert!(
        *offsets.last().unwrap() + HEADER_LEN as u64 <= fs::metadata(segment(dir)).unwrap().len(),
        "the records must fit in segment 1"
    );
    offsets
}

/// Builds a segment file by hand: header, `records` (each claiming `synced` = its seq - 1, as
/// if every record had been its own synced batch), an optional seal, then zeros up to `size`.
/// Returns the bytes and the offset of each record plus the end offset.
pub fn build_segment(
    index: u64,
    records: &Records,
    seal: bool,
    size: usize,
) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    encode_segment_header(index, &mut bytes);
    let mut offsets = Vec::new();
    for (seq, payload) in records {
        offsets.push(bytes.len() as u64);
        encode_record(*seq, seq - 1, payload, &mut bytes).unwrap();
    }
    offsets.push(bytes.len() as u64);
    if seal {
        let last = records.last().map_or(0, |r| r.0);
        encode_seal(last, last, &mut bytes);
    }
    assert!(bytes.len() <= size);
    bytes.resize(size, 0);
    (bytes, offsets)
}

/// Waits until segment `index` of `dir` exists (the helper prepared it).
pub fn wait_for_segment(dir: &Path, index: u64) {
    let started = Instant::now();
    while !segment_n(dir, index).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "segment {index} was never prepared"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts that `bytes[from..]` is all zeros.
pub fn assert_zeros_from(bytes: &[u8], from: u64, ctx: &str) {
    if let Some(at) = bytes[from as usize..].iter().position(|&b| b != 0) {
        panic!(
            "{ctx}: non-zero byte at {} after the end {from}",
            from as usize + at
        );
    }
}

/// Switches that make a [`FaultStorage`] fail, and counters of what it saw.
#[derive(Debug, Default)]
pub struct Faults {
    pub fail_sync: AtomicBool,
    pub fail_write: AtomicBool,
    /// Fails `Storage::remove` of segment files (`.log`; the helper's `.tmp` files still go).
    pub fail_remove: AtomicBool,
    /// Fails `Storage::sync_dir` when called from this thread (so that the segment helper's
    /// directory syncs keep working).
    pub fail_sync_dir_on: Mutex<Option<ThreadId>>,
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

    fn write_all_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        // Relaxed: test switches and counters, read after the threads are joined or waited on.
        self.faults.writes.fetch_add(1, Ordering::Relaxed);
        if self.faults.fail_write.load(Ordering::Relaxed) {
            return Err(io::Error::other("injected write failure"));
        }
        self.inner.write_all_at(offset, buf)
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

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        FsStorage.rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        // Relaxed: a test switch, set before the call that should fail.
        if self.faults.fail_remove.load(Ordering::Relaxed)
            && path.extension().is_some_and(|e| e == "log")
        {
            return Err(io::Error::other("injected remove failure"));
        }
        FsStorage.remove(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if *self.faults.fail_sync_dir_on.lock().unwrap() == Some(thread::current().id()) {
            return Err(io::Error::other("injected directory sync failure"));
        }
        FsStorage.sync_dir(dir)
    }
}

/// The indices of the segment files in `dir` (`.log` only), sorted.
pub fn segment_indices(dir: &Path) -> Vec<u64> {
    let mut indices: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            name.strip_suffix(".log")?.parse().ok()
        })
        .collect();
    indices.sort_unstable();
    indices
}

/// What a segment file holds, read by walking its (intact) records: the seqs of its commits
/// and, if it is sealed, its seal's seq.
pub fn segment_contents(bytes: &[u8]) -> (Vec<u64>, Option<u64>) {
    let mut seqs = Vec::new();
    let mut offset = SEGMENT_HEADER_LEN;
    while offset + HEADER_LEN <= bytes.len() {
        let header = &bytes[offset..offset + HEADER_LEN];
        let len = u32::from_le_bytes(header[0..4].try_into().unwrap()) as usize;
        let seq = u64::from_le_bytes(header[8..16].try_into().unwrap());
        match header[4] {
            1 => seqs.push(seq),
            2 => return (seqs, Some(seq)),
            _ => break,
        }
        offset += HEADER_LEN + len;
    }
    (seqs, None)
}
