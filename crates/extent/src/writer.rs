//! Building an extent from versions in (key, timestamp) order.

use chronokv_morton::{interleave, key_coordinate};

use crate::block::{self, Group};
use crate::index::{self, BlockMeta};
use crate::FormatError;

/// How extents are built.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// A block is sealed once its versions take about this many bytes (keys and values).
    pub block_bytes: usize,
    /// LZ4-compress blocks when that makes them smaller.
    pub compress: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { block_bytes: 16 * 1024, compress: true }
    }
}

/// What a finished extent covers: the bounds the interval table indexes it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtentSummary {
    /// Smallest and largest key.
    pub key_min: Vec<u8>,
    /// See `key_min`.
    pub key_max: Vec<u8>,
    /// Oldest and newest commit timestamp.
    pub ts_min: u64,
    /// See `ts_min`.
    pub ts_max: u64,
    /// Smallest and largest Morton-T code.
    pub z_min: u128,
    /// See `z_min`.
    pub z_max: u128,
    /// Versions written.
    pub versions: u64,
    /// Blocks written.
    pub blocks: usize,
}

/// Accumulates versions, sealing blocks as they fill, and lays out the index and footer.
#[derive(Debug)]
pub struct ExtentWriter {
    options: WriterOptions,
    out: Vec<u8>,
    blocks: Vec<BlockMeta>,
    groups: Vec<Group<Vec<u8>>>,
    group_bytes: usize,
    last: Option<(Vec<u8>, u64)>,
    summary: Option<ExtentSummary>,
}

impl ExtentWriter {
    /// An empty writer.
    pub fn new(options: WriterOptions) -> Self {
        ExtentWriter {
            options,
            out: Vec::new(),
            blocks: Vec::new(),
            groups: Vec::new(),
            group_bytes: 0,
            last: None,
            summary: None,
        }
    }

    /// Adds a version (`None` = tombstone). Versions must come in strictly increasing
    /// (key, timestamp) order; anything else is refused and changes nothing.
    pub fn add(&mut self, key: &[u8], ts: u64, value: Option<&[u8]>) -> Result<(), FormatError> {
        if let Some((last_key, last_ts)) = &self.last {
            if (last_key.as_slice(), *last_ts) >= (key, ts) {
                return Err(FormatError::new(self.out.len(), "versions must be added in (key, ts) order"));
            }
        }
        let z = interleave(key_coordinate(key), ts);
        match &mut self.summary {
            None => {
                self.summary = Some(ExtentSummary {
                    key_min: key.to_vec(),
                    key_max: key.to_vec(),
                    ts_min: ts,
                    ts_max: ts,
                    z_min: z,
                    z_max: z,
                    versions: 0,
                    blocks: 0,
                })
            }
            Some(s) => {
                s.key_max = key.to_vec();
                s.ts_min = s.ts_min.min(ts);
                s.ts_max = s.ts_max.max(ts);
                s.z_min = s.z_min.min(z);
                s.z_max = s.z_max.max(z);
            }
        }
        if let Some(s) = &mut self.summary {
            s.versions += 1;
        }
        match self.groups.last_mut() {
            Some(group) if group.key == key => {}
            _ => {
                self.groups.push(Group { key: key.to_vec(), ..Group::default() });
                self.group_bytes += key.len();
            }
        }
        let group = self.groups.last_mut().expect("pushed above");
        group.ts.push(ts);
        group.values.push(value.map(<[u8]>::to_vec));
        self.group_bytes += 8 + value.map_or(0, <[u8]>::len);
        self.last = Some((key.to_vec(), ts));
        if self.group_bytes >= self.options.block_bytes {
            self.seal_block();
        }
        Ok(())
    }

    /// The finished extent and its summary; `None` when no version was added.
    pub fn finish(mut self) -> Option<(Vec<u8>, ExtentSummary)> {
        self.seal_block();
        let mut summary = self.summary?;
        summary.blocks = self.blocks.len();
        let index_offset = self.out.len();
        index::encode(&self.blocks, &mut self.out);
        let index_len = self.out.len() - index_offset;
        index::encode_footer(index_offset, index_len, &mut self.out);
        Some((self.out, summary))
    }

    fn seal_block(&mut self) {
        if self.groups.is_empty() {
            return;
        }
        let groups = std::mem::take(&mut self.groups);
        self.group_bytes = 0;
        let (mut ts_min, mut ts_max, mut z_min, mut z_max, mut versions) = (u64::MAX, 0, u128::MAX, 0, 0);
        for group in &groups {
            let coordinate = key_coordinate(&group.key);
            for &ts in &group.ts {
                let z = interleave(coordinate, ts);
                (ts_min, ts_max) = (ts_min.min(ts), ts_max.max(ts));
                (z_min, z_max) = (z_min.min(z), z_max.max(z));
                versions += 1;
            }
        }
        let offset = self.out.len();
        block::seal(&block::encode_payload(&groups), self.options.compress, &mut self.out);
        self.blocks.push(BlockMeta {
            offset: offset as u64,
            len: (self.out.len() - offset) as u64,
            first_key: groups[0].key.clone(),
            last_key: groups[groups.len() - 1].key.clone(),
            ts_min,
            ts_max,
            z_min,
            z_max,
            versions,
        });
    }
}
