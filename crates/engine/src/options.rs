//! Open options. Defaults and validation of user-facing options live in the TypeScript facade;
//! these are the engine's own, already valid.

use std::sync::Arc;

pub use chronokv_wal::{Durability, FsStorage, Storage};

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
    /// The file-system backend of the write-ahead log. Tests swap in one that injects faults
    /// or simulates power loss; everything else uses [`FsStorage`].
    pub storage: Arc<dyn Storage>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Sync,
            create_if_missing: true,
            read_only: false,
            storage: Arc::new(FsStorage),
        }
    }
}
