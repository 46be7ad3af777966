//! Options and counters.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::{FsStorage, Storage};

/// When an append counts as acknowledged (see [`Wal::acked`](crate::Wal::acked)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Ack after `write` and `fdatasync`: an acked record survives a power loss.
    #[default]
    Sync,
    /// Ack after `write`; `fdatasync` follows within [`WalOptions::sync_interval`] and on close.
    /// An acked record survives a process crash, and a power loss after that interval.
    Async,
    /// Ack after `write`; `fdatasync` only on close. Survives a process crash, not a power loss.
    None,
}

/// How to open a [`Wal`](crate::Wal). Build with struct update syntax:
/// `WalOptions { durability: Durability::Async, ..WalOptions::default() }`.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// When appends are acknowledged. Default: [`Durability::Sync`].
    pub durability: Durability,
    /// Under [`Durability::Async`], the longest a written record waits for its `fdatasync`.
    /// Default: 10 ms.
    pub sync_interval: Duration,
    /// A batch stops taking records from the queue once its encoded size reaches this many
    /// bytes (it always takes at least one record), which bounds the flusher's buffer and the
    /// latency of the first record in a batch. Default: 8 MiB.
    pub max_batch_bytes: usize,
    /// Largest size of a log segment file. Segments are preallocated (written with zeros and
    /// synced) before the log writes into them; segment 1 is 1 MiB (or this, if smaller) and
    /// each next one doubles until it reaches this size. A record that does not fit gets a
    /// segment of its own size. Default: 64 MiB; at least 256 bytes are used.
    pub segment_bytes: u64,
    /// The file-system backend. Default: [`FsStorage`].
    pub storage: Arc<dyn Storage>,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            durability: Durability::Sync,
            sync_interval: Duration::from_millis(10),
            max_batch_bytes: 8 << 20,
            segment_bytes: 64 << 20,
            storage: Arc::new(FsStorage),
        }
    }
}

/// Flusher counters since [`Wal::open`](crate::Wal::open) (recovery not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalStats {
    /// `fdatasync` calls made by the flusher (successful or not), including those that end a
    /// segment. The segment helper's syncs are not counted.
    pub syncs: u64,
    /// Batches written (one write each, two when a batch crosses into a new segment).
    pub batches: u64,
    /// Records written.
    pub records: u64,
}
