//! The block a writer is filling: its versions in flat buffers (no allocation per version,
//! reused from block to block), and their encoding as a raw block payload.

use chronokv_morton::{interleave, key_coordinate};

use crate::bitpack;
use crate::cursor::{put_len_prefixed, put_varint};

/// A restart point about every this many bytes of groups. At a restart point a key is stored
/// whole and its offset kept in the block's restart table (format 2); a point read
/// binary-searches the table and then walks the groups after the restart it found, each of
/// them with all its values. A fixed count of groups (LevelDB's 16, our earlier 8) makes that
/// walk long where versions are large: 8 groups of one 100-byte value each is 1 KiB, most of a
/// 4 KiB block, read group by group. Sized in bytes, the walk stays within a few cache lines,
/// and blocks of small entries keep long runs of shared prefixes.
const RESTART_BYTES: usize = 512;

/// The most groups between restart points (LevelDB's interval for small entries).
const MAX_RESTART_INTERVAL: usize = 16;

/// The versions of one block, grouped by key, keys ascending and each key's timestamps
/// ascending.
#[derive(Debug, Default)]
pub(crate) struct PendingBlock {
    /// The groups' keys, back to back.
    keys: Vec<u8>,
    /// Per group: where its key ends in `keys` and its versions end in `ts` / `values`.
    groups: Vec<(usize, usize)>,
    ts: Vec<u64>,
    /// Per version: its value's range in `data`; `None` for a tombstone.
    values: Vec<Option<(usize, usize)>>,
    data: Vec<u8>,
    /// What the block-size rule counts: key bytes once per group, 8 + value bytes per version.
    bytes: usize,
    /// Bounds of the versions held, for the block index.
    pub ts_min: u64,
    pub ts_max: u64,
    pub z_min: u128,
    pub z_max: u128,
}

impl PendingBlock {
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The bytes the block-size rule counts (see `bytes`).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn versions(&self) -> usize {
        self.ts.len()
    }

    fn key(&self, group: usize) -> &[u8] {
        let start = if group == 0 {
            0
        } else {
            self.groups[group - 1].0
        };
        &self.keys[start..self.groups[group].0]
    }

    pub(crate) fn first_key(&self) -> &[u8] {
        self.key(0)
    }

    pub(crate) fn last_key(&self) -> &[u8] {
        self.key(self.groups.len() - 1)
    }

    /// Adds a version; the caller has checked (key, ts) order.
    pub(crate) fn push(&mut self, key: &[u8], ts: u64, value: Option<&[u8]>) {
        if self.is_empty() {
            (self.ts_min, self.ts_max, self.z_min, self.z_max) = (u64::MAX, 0, u128::MAX, 0);
        }
        if self.is_empty() || self.last_key() != key {
            self.keys.extend_from_slice(key);
            self.groups.push((self.keys.len(), self.ts.len()));
            self.bytes += key.len();
        }
        let z = interleave(key_coordinate(key), ts);
        (self.ts_min, self.ts_max) = (self.ts_min.min(ts), self.ts_max.max(ts));
        (self.z_min, self.z_max) = (self.z_min.min(z), self.z_max.max(z));
        self.ts.push(ts);
        self.values.push(value.map(|v| {
            let start = self.data.len();
            self.data.extend_from_slice(v);
            (start, self.data.len())
        }));
        self.groups.last_mut().expect("pushed above").1 = self.ts.len();
        self.bytes += 8 + value.map_or(0, <[u8]>::len);
    }

    /// Empties the block, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.groups.clear();
        self.ts.clear();
        self.values.clear();
        self.data.clear();
        self.bytes = 0;
    }

    /// Groups per restart point for this block: about [`RESTART_BYTES`] of them.
    fn restart_interval(&self) -> usize {
        let per_group = self.bytes.div_ceil(self.groups.len().max(1)).max(1);
        (RESTART_BYTES / per_group).clamp(1, MAX_RESTART_INTERVAL)
    }

    /// Encodes the block as a raw payload (the layout in lib.rs) into `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        let interval = self.restart_interval();
        put_varint(out, self.groups.len() as u64);
        put_varint(out, interval as u64);
        let mut restarts: Vec<u32> = Vec::with_capacity(self.groups.len().div_ceil(interval));
        let mut previous: &[u8] = &[];
        let mut deltas = Vec::new();
        let mut first_version = 0;
        for (g, &(_, versions_end)) in self.groups.iter().enumerate() {
            let key = self.key(g);
            let shared = if g.is_multiple_of(interval) {
                // A payload's length is a u32 in the block header, so offsets fit one.
                restarts.push(out.len() as u32);
                0
            } else {
                previous.iter().zip(key).take_while(|(a, b)| a == b).count()
            };
            put_varint(out, shared as u64);
            put_len_prefixed(out, &key[shared..]);
            let ts = &self.ts[first_version..versions_end];
            put_varint(out, ts.len() as u64);
            put_varint(out, ts[0]);
            deltas.clear();
            deltas.extend(ts.windows(2).map(|w| w[1] - w[0]));
            let width = bitpack::width_for(&deltas);
            out.push(width);
            bitpack::pack(&deltas, width, out);
            let values = &self.values[first_version..versions_end];
            for value in values {
                put_varint(
                    out,
                    value.map_or(0, |(start, end)| (end - start) as u64 + 1),
                );
            }
            for (start, end) in values.iter().flatten() {
                out.extend_from_slice(&self.data[*start..*end]);
            }
            previous = key;
            first_version = versions_end;
        }
        for offset in restarts {
            out.extend_from_slice(&offset.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_of(groups: usize, value_len: usize) -> PendingBlock {
        let mut block = PendingBlock::default();
        let value = vec![7u8; value_len];
        for g in 0..groups {
            block.push(format!("key:{g:012}").as_bytes(), 1, Some(&value));
        }
        block
    }

    #[test]
    fn restart_points_lie_about_restart_bytes_apart() {
        // 16-byte keys: a group of one 100-byte version counts 124 bytes, so 4 per 512.
        assert_eq!(block_of(35, 100).restart_interval(), 4);
        // Small entries: capped at LevelDB's 16.
        assert_eq!(block_of(200, 4).restart_interval(), MAX_RESTART_INTERVAL);
        // Groups larger than the span: every group is a restart point.
        assert_eq!(block_of(3, 2000).restart_interval(), 1);
        let mut out = Vec::new();
        block_of(35, 100).encode(&mut out);
        // key_groups, then the interval the block was written with.
        assert_eq!(&out[..2], &[35, 4]);
        // ceil(35 / 4) = 9 restart offsets end the payload; the last is group 32's.
        let table = &out[out.len() - 36..];
        assert_eq!(u32::from_le_bytes(table[..4].try_into().unwrap()), 2);
    }
}
