//! chronokv's extent format: an immutable, checksummed run of versions, ordered by key then
//! commit timestamp, cut into blocks that carry their own key, time and Morton bounds.
//!
//! # Layout (format version 2; all fixed-width integers little-endian)
//! ```text
//! extent := block* index footer
//! block  := codec:u8 (0 = raw, 1 = lz4) | raw_len:u32 | payload | crc32c(codec..payload):u32
//! payload (raw) := key_groups:varint restart_interval:varint group* restart_offset:u32*
//!                  (one offset per restart_interval groups: the group's payload offset; a
//!                  restart group's key shares no prefix; writers pick the interval per
//!                  block, readers take any interval >= 1)
//! group  := shared:varint suffix_len:varint suffix   key, prefix-compressed against the
//!                                                     previous key of the block
//!           versions:varint first_ts:varint width:u8 packed_deltas   timestamps ascending:
//!                                                     the first in full, then the deltas
//!                                                     bit-packed at `width` bits each
//!           value_tag:varint*versions                  tag 0 = tombstone, n = n-1 value bytes
//!           value*versions                             the values back to back
//! index  := blocks:varint (offset:varint len:varint first_key last_key ts_min:varint
//!           ts_max:varint z_min:u128 z_max:u128 versions:varint)* crc32c(all before):u32
//!           (keys as len:varint bytes)
//! footer := magic "CKVEXT01" | format:u32 | index_offset:u64 | index_len:u64 | crc32c(..28):u32
//! ```
//! Format 1 (still read) had no restart interval or table and interleaved the tags with the
//! values, `(value_tag value)*versions`. Format 2 puts a group's tags together, so finding its
//! n-th value, or the next group, reads a few bytes of tags instead of touching every value
//! on the way (a point read into a key with 20 versions of 100 bytes went from ~35 cache
//! lines touched to ~4), and its restart points let a point read binary-search a block of
//! small versions instead of walking it from the start.
//!
//! A key's versions may continue from one block into the next, so blocks stay near their
//! target size however long a history is. Every byte of an extent is covered by a checksum:
//! a truncated or bit-flipped extent fails at open (footer, index) or when the damaged block is
//! read, with the offset of the damage — never a panic or a wrong value.
//!
//! Timestamps are delta-encoded and bit-packed per key (the time-series compression plan of the
//! design documents); whole blocks are LZ4-compressed (lz4_flex) when that saves space.
//!
//! # Reading
//! [`ExtentReader`] owns or borrows the extent's bytes (`B: AsRef<[u8]>`: a memory map of the
//! data file, a `Vec<u8>`, an `Arc<[u8]>`, a `&[u8]`) and answers point reads as of a time
//! ([`ExtentReader::get_with`], in place, no allocation), key-range scans as of a time in
//! either direction with tombstones, key histories, key x time rectangles and full iteration,
//! pruning blocks by their bounds; [`ReadStats`] counts blocks read and skipped.
//!
//! A read walks a block incrementally (walk.rs): the block's crc32c is checked (the first
//! time a reader reads it), its payload decompressed into a per-thread buffer (scratch.rs),
//! the walk moved to the last restart point at or before the key, then key groups are read
//! one at a time and skipped by their lengths until the answer is known. No value is returned
//! from a block whose checksum fails. Blocks are found through fences over dense 8-byte
//! summaries of their last keys (search.rs); scans are in scan.rs.
//!
//! # Verifying
//! [`ExtentReader::verify_block`] checks one block in full, crc and structure, for
//! `chronokv check` (verify.rs).
//!
//! # Writing
//! [`ExtentWriter`] takes versions in (key, ts) order, holds at most one block of them
//! (pending.rs) before sealing it, and reports [`ExtentWriter::bytes_so_far`] so a flush can
//! cut its output into extents of a target size.

#![forbid(unsafe_code)]

mod bitpack;
mod block;
mod cursor;
mod error;
mod index;
mod manifest;
mod pending;
mod reader;
mod scan;
mod scratch;
mod search;
mod verify;
mod walk;
mod writer;

pub use error::FormatError;
pub use index::BlockMeta;
pub use manifest::{Manifest, ManifestExtent};
pub use reader::{ExtentReader, ReadStats, VersionRef};
pub use scan::ScanStep;
pub use writer::{ExtentSummary, ExtentWriter, WriterOptions};

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// The oldest format this crate still reads.
pub const OLDEST_READABLE_FORMAT: u32 = 1;
