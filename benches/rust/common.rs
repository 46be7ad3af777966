//! Shared data and baselines for chronokv's criterion benches.
//!
//! # Data
//! The same shapes as the JS benches: 16-byte keys (`key:` and 12 zero-padded digits, sorted by
//! number), 100-byte values, and random indexes from a small seeded generator so that every
//! bench and baseline reads the same keys in the same order.
//!
//! # Baselines
//! Each chronokv bench runs beside a baseline in the same criterion group:
//! - [`BTreeBaseline`]: the obvious alternative to the lock-free memtable, an
//!   `RwLock<BTreeMap<key, Vec<(ts, value)>>>` (versions oldest first, binary-searched).
//! - [`RawLog`]: the floor under the WAL, a file appended with `write_all` and made durable with
//!   `sync_data` (fdatasync), no queue, no thread, no checksum.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::{Bound, ControlFlow};
use std::path::Path;
use std::sync::RwLock;

/// Bytes per key.
pub const KEY_BYTES: usize = 16;
/// Bytes per value.
pub const VALUE_BYTES: usize = 100;

/// The key of item `i`: `key:` and 12 zero-padded digits.
pub fn key(i: u64) -> [u8; KEY_BYTES] {
    let mut k = *b"key:000000000000";
    let mut n = i;
    for b in k[4..].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    k
}

/// A key that is never written and sorts right after `key(i)` (so a lookup descends to the
/// same neighbourhood as a hit): `key(i)` followed by `~`.
pub fn missing_key(i: u64) -> [u8; KEY_BYTES + 1] {
    let mut k = [b'~'; KEY_BYTES + 1];
    k[..KEY_BYTES].copy_from_slice(&key(i));
    k
}

/// A 100-byte value derived from `i`.
pub fn value(i: u64) -> [u8; VALUE_BYTES] {
    let mut v = [0u8; VALUE_BYTES];
    let mut x = SplitMix(i);
    for chunk in v.chunks_mut(8) {
        let r = x.next_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    v
}

/// SplitMix64: a tiny seeded generator (no external crate needed for reproducible indexes).
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random integer in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `count` random integers in `0..n` (a power-of-two `count` lets benches cycle with a mask).
pub fn random_indexes(count: usize, n: u64, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix(seed);
    (0..count).map(|_| rng.below(n)).collect()
}

type Versions = Vec<(u64, Option<Box<[u8]>>)>;

/// Baseline memtable: every version of every key in a `BTreeMap` behind one `RwLock`.
#[derive(Debug, Default)]
pub struct BTreeBaseline {
    map: RwLock<BTreeMap<Box<[u8]>, Versions>>,
}

impl BTreeBaseline {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a version (`None` = tombstone); `ts` must not be older than the key's newest.
    pub fn insert(&self, key: &[u8], ts: u64, value: Option<&[u8]>) {
        let mut map = self.map.write().expect("baseline lock poisoned");
        let versions = match map.get_mut(key) {
            Some(versions) => versions,
            None => map.entry(Box::from(key)).or_default(),
        };
        versions.push((ts, value.map(Box::from)));
    }

    /// Runs `f` on the newest version of `key` with `ts <= at` (as `(ts, value)`), or `None`.
    pub fn get_at<R>(
        &self,
        key: &[u8],
        at: u64,
        f: impl FnOnce(Option<(u64, Option<&[u8]>)>) -> R,
    ) -> R {
        let map = self.map.read().expect("baseline lock poisoned");
        let found = map.get(key).and_then(|versions| {
            let n = versions.partition_point(|(ts, _)| *ts <= at);
            n.checked_sub(1).map(|i| {
                let (ts, value) = &versions[i];
                (*ts, value.as_deref())
            })
        });
        f(found)
    }

    /// Calls `f(ts, value)` for every version of `key`, oldest first.
    pub fn history(&self, key: &[u8], mut f: impl FnMut(u64, Option<&[u8]>)) {
        let map = self.map.read().expect("baseline lock poisoned");
        if let Some(versions) = map.get(key) {
            for (ts, value) in versions {
                f(*ts, value.as_deref());
            }
        }
    }

    /// Visits keys in `(lo, hi)` in order with their newest version at `at`, until `f` breaks.
    pub fn scan_at(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        at: u64,
        mut f: impl FnMut(&[u8], Option<&[u8]>) -> ControlFlow<()>,
    ) {
        let map = self.map.read().expect("baseline lock poisoned");
        for (key, versions) in map.range::<[u8], _>((lo, hi)) {
            let n = versions.partition_point(|(ts, _)| *ts <= at);
            if let Some(i) = n.checked_sub(1) {
                if f(key, versions[i].1.as_deref()).is_break() {
                    return;
                }
            }
        }
    }
}

/// Baseline log: one `write` of a commit's records, then `sync_data` (fdatasync). No queue, no
/// thread, no checksum: the floor under any write-ahead log on this file system.
#[derive(Debug)]
pub struct RawLog {
    file: File,
    /// `Some(size)`: the file was zero-filled to `size` bytes and synced up front, and commits
    /// overwrite it in place (wrapping around), so fdatasync has no file size or block
    /// allocation to persist. `None`: commits append and grow the file.
    preallocated: Option<u64>,
    offset: u64,
    buf: Vec<u8>,
}

impl RawLog {
    /// Creates `dir/<name>`, appended to and growing with every commit.
    pub fn appending(dir: &Path, name: &str) -> std::io::Result<RawLog> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dir.join(name))?;
        Ok(RawLog {
            file,
            preallocated: None,
            offset: 0,
            buf: Vec::new(),
        })
    }

    /// Creates `dir/<name>` zero-filled to `size` bytes and synced, to be overwritten in place.
    pub fn preallocated(dir: &Path, name: &str, size: u64) -> std::io::Result<RawLog> {
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dir.join(name))?;
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..size.div_ceil(1 << 20) {
            file.write_all(&zeros)?;
        }
        file.sync_all()?;
        Ok(RawLog {
            file,
            preallocated: Some(size),
            offset: 0,
            buf: Vec::new(),
        })
    }

    /// Writes `records` with one write call, then makes them durable with one fdatasync.
    pub fn commit(&mut self, records: &[&[u8]]) -> std::io::Result<()> {
        self.buf.clear();
        for record in records {
            self.buf.extend_from_slice(record);
        }
        match self.preallocated {
            None => self.file.write_all(&self.buf)?,
            Some(size) => {
                use std::os::unix::fs::FileExt;
                if self.offset + self.buf.len() as u64 > size {
                    self.offset = 0;
                }
                self.file.write_all_at(&self.buf, self.offset)?;
                self.offset += self.buf.len() as u64;
            }
        }
        self.file.sync_data()
    }
}
