//! The data file and the extents that live in it.
//!
//! All extents share one data file, `DATA`. The [`ExtentAllocator`] hands each flush or
//! compaction its own regions (atomic bump, plus free lists of regions compaction released),
//! so concurrent writers never coordinate on the file. An extent is written once, synced, and
//! only then named by the manifest and mapped for reading; it is never rewritten in place.
//!
//! A region is given back (to the allocator, and its disk blocks to the file system with a
//! punched hole) when its [`LiveExtent`] is dropped after compaction retired it: by then the
//! manifest no longer names it (durably) and no reader holds a view that still lists it,
//! because every view holds its extents by `Arc`.

use std::fmt;
use std::io;
use std::ops::{Bound, ControlFlow, Deref};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chronokv_extent::{ExtentReader, FormatError, ManifestExtent, ReadStats, ScanStep};
use chronokv_morton::{Extent, ExtentAllocator, ExtentInfo};
use chronokv_wal::Mapped;

use crate::view::{above_lower, below_upper};
use crate::{Error, Result, Storage};

pub(crate) const DATA: &str = "DATA";

/// The data file: where it is, how it is accessed, who hands out its space.
pub(crate) struct DataFile {
    pub(crate) path: PathBuf,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) allocator: ExtentAllocator,
    /// Blocks read and skipped by every query, for `stats()`.
    pub(crate) stats: ReadStats,
    /// Extents retired by compaction whose regions are not yet given back (a view that lists
    /// them is still alive: the epoch has not reclaimed it, or a cursor holds it).
    pub(crate) retired_pending: AtomicUsize,
    /// Set when the engine closes. Views are reclaimed lazily (crossbeam-epoch), so a retired
    /// extent of a closed engine may be dropped after the directory was opened again and its
    /// region reused: from then on it must not touch the file. A mutex, not an atomic, so that
    /// no punch can be under way once `close` has set it.
    closed: Mutex<bool>,
}

impl fmt::Debug for DataFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataFile")
            .field("path", &self.path)
            .field("end", &self.allocator.end())
            .finish()
    }
}

impl DataFile {
    /// Opens (creating when missing) the data file of `dir`; checks that it holds every byte of
    /// every extent the manifest lists (`needed`), so that no map can reach past its end.
    /// Regions are larger than their extents and their tails are never written, so the file
    /// may end before `data_end`.
    pub(crate) fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        data_end: u64,
        needed: u64,
        free: &[(u64, u64)],
        read_only: bool,
    ) -> Result<DataFile> {
        let path = dir.join(DATA);
        let len = match storage.open(&path) {
            Ok(file) => file.len().map_err(|e| Error::io("stat", &path, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !read_only => {
                storage
                    .create(&path)
                    .map_err(|e| Error::io("create", &path, e))?;
                storage
                    .sync_dir(dir)
                    .map_err(|e| Error::io("fsync the directory", dir, e))?;
                0
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(Error::io("open", &path, e)),
        };
        if len < needed {
            return Err(Error::Corruption {
                path,
                offset: len,
                reason: format!("the data file ends at byte {len}, but the manifest has extents up to byte {needed}"),
            });
        }
        let free = free.iter().map(|&(offset, len)| Extent { offset, len });
        Ok(DataFile {
            path,
            storage,
            allocator: ExtentAllocator::new(data_end, free),
            stats: ReadStats::default(),
            retired_pending: AtomicUsize::new(0),
            closed: Mutex::new(false),
        })
    }

    /// Stops retired extents from touching the file (see `closed`).
    pub(crate) fn close(&self) {
        *self
            .closed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
    }

    /// Turns a format error inside the extent at `base` into a corruption error naming the file
    /// and the absolute offset.
    pub(crate) fn corruption(&self, base: u64, error: FormatError) -> Error {
        Error::Corruption {
            path: self.path.clone(),
            offset: base + error.offset,
            reason: error.reason,
        }
    }
}

/// A mapped region, as the extent reader wants its bytes.
pub(crate) struct Region(Mapped);

impl AsRef<[u8]> for Region {
    fn as_ref(&self) -> &[u8] {
        self.0.deref()
    }
}

/// One extent that a view can read: where it is, what it covers, and its open reader.
pub(crate) struct LiveExtent {
    pub(crate) info: ExtentInfo,
    /// Bytes of the extent itself (the region may be larger).
    pub(crate) bytes: u64,
    pub(crate) versions: u64,
    reader: ExtentReader<Region>,
    data: Arc<DataFile>,
    /// Declared after `reader`, so it drops after the region is unmapped: the region is only
    /// handed out again once nothing maps it.
    release: Release,
}

/// Frees a retired extent's region when dropped.
struct Release {
    data: Arc<DataFile>,
    region: Extent,
    /// Set once compaction replaced the extent in a durable manifest.
    retired: AtomicBool,
}

impl fmt::Debug for LiveExtent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveExtent")
            .field("id", &self.info.id)
            .field("region", &self.info.extent)
            .finish()
    }
}

impl AsRef<ExtentInfo> for LiveExtent {
    fn as_ref(&self) -> &ExtentInfo {
        &self.info
    }
}

impl LiveExtent {
    /// Maps the extent the manifest describes and checks its footer and index.
    pub(crate) fn open(data: &Arc<DataFile>, m: &ManifestExtent) -> Result<LiveExtent> {
        let mapped = data
            .storage
            .map(&data.path, m.offset, m.bytes)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => Error::Corruption {
                    path: data.path.clone(),
                    offset: m.offset,
                    reason: format!(
                        "extent {} ({} bytes) lies past the end of the file",
                        m.id, m.bytes
                    ),
                },
                _ => Error::io("map", &data.path, e),
            })?;
        let reader =
            ExtentReader::open(Region(mapped)).map_err(|e| data.corruption(m.offset, e))?;
        Ok(LiveExtent {
            info: ExtentInfo {
                id: m.id,
                extent: Extent {
                    offset: m.offset,
                    len: m.len,
                },
                z_min: m.z_min,
                z_max: m.z_max,
                key_min: m.key_min.clone().into_boxed_slice(),
                key_max: m.key_max.clone().into_boxed_slice(),
                ts_min: m.ts_min,
                ts_max: m.ts_max,
            },
            bytes: m.bytes,
            versions: m.versions,
            reader,
            data: Arc::clone(data),
            release: Release {
                data: Arc::clone(data),
                region: Extent {
                    offset: m.offset,
                    len: m.len,
                },
                retired: AtomicBool::new(false),
            },
        })
    }

    /// How the manifest records this extent.
    pub(crate) fn to_manifest(&self) -> ManifestExtent {
        ManifestExtent {
            id: self.info.id,
            offset: self.info.extent.offset,
            len: self.info.extent.len,
            bytes: self.bytes,
            z_min: self.info.z_min,
            z_max: self.info.z_max,
            key_min: self.info.key_min.to_vec(),
            key_max: self.info.key_max.to_vec(),
            ts_min: self.info.ts_min,
            ts_max: self.info.ts_max,
            versions: self.versions,
        }
    }

    pub(crate) fn blocks(&self) -> usize {
        self.reader.blocks().len()
    }

    /// Each block's first key and number of versions.
    pub(crate) fn block_starts(&self) -> impl Iterator<Item = (&[u8], u64)> {
        self.reader
            .blocks()
            .iter()
            .map(|b| (b.first_key.as_slice(), b.versions))
    }

    /// Whether some key within the bounds may be in this extent.
    pub(crate) fn meets_range(&self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
        above_lower(&self.info.key_max, lower) && below_upper(&self.info.key_min, upper)
    }

    fn check<R>(&self, result: Result<R, FormatError>) -> Result<R> {
        result.map_err(|e| self.data.corruption(self.info.extent.offset, e))
    }

    /// The newest version of `key` at or before `at` (tombstones included).
    pub(crate) fn get_with<R>(
        &self,
        key: &[u8],
        at: u64,
        f: impl FnOnce(Option<(u64, Option<&[u8]>)>) -> R,
    ) -> Result<R> {
        self.check(self.reader.get_with(key, at, &self.data.stats, f))
    }

    /// Versions of `key` with `since <= ts < until`, oldest first.
    pub(crate) fn history(
        &self,
        key: &[u8],
        since: u64,
        until: u64,
        f: impl FnMut(u64, Option<&[u8]>),
    ) -> Result<()> {
        self.check(self.reader.history(key, since, until, &self.data.stats, f))
    }

    /// Keys within the bounds with their newest version at or before `at`, tombstones included.
    pub(crate) fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        at: u64,
        f: impl FnMut(ScanStep<'_>) -> ControlFlow<()>,
    ) -> Result<()> {
        self.check(
            self.reader
                .scan_steps(lower, upper, reverse, at, &self.data.stats, f),
        )
    }

    /// Versions with `key_lo <= key <= key_hi` and `ts_lo <= ts <= ts_hi`, in (key, ts) order.
    pub(crate) fn rect(
        &self,
        key_lo: Option<&[u8]>,
        key_hi: Option<&[u8]>,
        ts_lo: u64,
        ts_hi: u64,
        f: impl FnMut(&[u8], u64, Option<&[u8]>) -> ControlFlow<()>,
    ) -> Result<()> {
        self.check(
            self.reader
                .rect(key_lo, key_hi, ts_lo, ts_hi, &self.data.stats, f),
        )
    }

    /// Marks the extent as replaced: its region is freed when the last view holding it goes.
    pub(crate) fn retire(&self) {
        // ORDERING: Relaxed: read only in Drop, which runs after every other access to `self`
        // (the last Arc's drop synchronizes with the others' drops).
        if !self.release.retired.swap(true, Ordering::Relaxed) {
            // ORDERING: Relaxed: a gauge; `compact` polls it only to decide how long to wait.
            self.data.retired_pending.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        // ORDERING: Relaxed, see `LiveExtent::retire`.
        if self.retired.load(Ordering::Relaxed) {
            // ORDERING: Relaxed, see `LiveExtent::retire`.
            self.data.retired_pending.fetch_sub(1, Ordering::Relaxed);
            let closed = self
                .data
                .closed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if *closed {
                return;
            }
            let region = self.region;
            // Best effort: if the hole cannot be punched the space is still reused.
            let _ = self
                .data
                .storage
                .punch_hole(&self.data.path, region.offset, region.len);
            self.data.allocator.release(region);
        }
    }
}
