//! Open options. Defaults and validation of user-facing options live in the TypeScript facade;
//! these are the engine's own, already valid.

use std::sync::Arc;

pub use chronokv_wal::{Durability, FsStorage, Storage};

/// Which old versions compaction may collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Versions older than this (in microseconds, like timestamps) may be collected, except
    /// those reads inside the window still see.
    pub max_age_us: u64,
    /// Every key keeps at least this many of its newest versions (at least 1).
    pub min_versions: usize,
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct Options {
    /// When a write is acknowledged: after fdatasync (`Sync`), after write(2) (`Async`, with an
    /// fdatasync soon after), or after write(2) with no fsync until close (`None`).
    pub durability: Durability,
    /// Create the directory when it does not exist.
    pub create_if_missing: bool,
    /// Refuse every write.
    pub read_only: bool,
    /// The file-system backend of the write-ahead log, the data file and the manifest. Tests
    /// swap in one that injects faults or simulates power loss; everything else uses
    /// [`FsStorage`].
    pub storage: Arc<dyn Storage>,
    /// A memtable larger than this (approximate bytes of keys, values and bookkeeping) is
    /// frozen and flushed to extents in the background. Default 64 MiB.
    pub memtable_bytes: usize,
    /// Flushes and compactions cut their output into extents of about this many bytes.
    /// Default 32 MiB.
    pub extent_bytes: usize,
    /// Target size of an extent's blocks, the unit of reading and checksumming. Default 4 KiB.
    pub block_bytes: usize,
    /// What compaction may collect; `None` keeps every version.
    pub retention: Option<Retention>,
    /// Largest WAL segment (see `chronokv_wal::WalOptions::segment_bytes`). Default 64 MiB.
    pub wal_segment_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Sync,
            create_if_missing: true,
            read_only: false,
            storage: Arc::new(FsStorage),
            memtable_bytes: 64 << 20,
            extent_bytes: 32 << 20,
            block_bytes: 4 << 10,
            retention: None,
            wal_segment_bytes: 64 << 20,
        }
    }
}
