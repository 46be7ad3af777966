//! The block a writer is filling: its versions in flat buffers (no allocation per version,
//! reused from block to block), and their encoding as a raw block payload.

use chronokv_morton::{interleave, key_coordinate};

use crate::bitpack;
use crate::cursor::{put_len_prefixed, put_varint};

/// Every this many groups, a key is stored whole and its offset kept in the block's restart
/// table (format 2), so a point read walks at most this many groups of a block. LevelDB uses
/// 16; keys here are usually short next to their versions, so the 4-byte offset and the lost
/// prefix sharing cost little, and 8 halves the walk.
pub(crate) const RESTART_INTERVAL: usize = 8;

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

    /// Encodes the block as a raw payload (the layout in lib.rs) into `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        put_varint(out, self.groups.len() as u64);
        put_varint(out, RESTART_INTERVAL as u64);
        let mut restarts: Vec<u32> =
            Vec::with_capacity(self.groups.len().div_ceil(RESTART_INTERVAL));
        let mut previous: &[u8] = &[];
        let mut deltas = Vec::new();
        let mut first_version = 0;
        for (g, &(_, versions_end)) in self.groups.iter().enumerate() {
            let key = self.key(g);
            let shared = if g.is_multiple_of(RESTART_INTERVAL) {
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
