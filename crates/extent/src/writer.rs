//! Building an extent from versions in (key, timestamp) order.
//!
//! The writer holds at most one block of versions before sealing it into the extent's bytes;
//! the sealed bytes themselves stay in memory until [`ExtentWriter::finish`] (extents are at
//! most tens of MiB, and the engine cuts a flush into several using
//! [`ExtentWriter::bytes_so_far`]).

use crate::block;
use crate::index::{self, BlockMeta};
use crate::pending::PendingBlock;
use crate::FormatError;

/// How extents are built.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// A block is sealed once its versions take about this many bytes (keys and values).
    /// Small blocks make point reads and rectangle queries cheaper (less to check and
    /// decompress per block touched); large ones compress better and shrink the index.
    pub block_bytes: usize,
    /// LZ4-compress blocks when that makes them smaller.
    pub compress: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            block_bytes: 4096,
            compress: true,
        }
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
    /// Sealed blocks so far.
    out: Vec<u8>,
    blocks: Vec<BlockMeta>,
    /// The block being filled: never more than one block's worth.
    pending: PendingBlock,
    /// The encoded payload of the block being sealed (kept to reuse its allocation).
    payload: Vec<u8>,
    /// The last (key, ts) added, to refuse versions out of order.
    last_key: Vec<u8>,
    last_ts: Option<u64>,
    summary: Option<ExtentSummary>,
    /// See [`ExtentWriter::cut_at_time_gaps`].
    time_gap: Option<u64>,
}

impl ExtentWriter {
    /// An empty writer.
    pub fn new(options: WriterOptions) -> Self {
        ExtentWriter {
            options,
            out: Vec::new(),
            blocks: Vec::new(),
            pending: PendingBlock::default(),
            payload: Vec::new(),
            last_key: Vec::new(),
            last_ts: None,
            summary: None,
            time_gap: None,
        }
    }

    /// Also seals the block before a key whose oldest version lies more than `gap` outside the
    /// block's time span, so that no block spans a jump in time.
    ///
    /// Why: a memtable that holds the end of one sweep over the keys and the start of the next
    /// (a load, a periodic refresh of every key) has, in key order, the new sweep's keys
    /// (recent) then the old sweep's (older). A block straddling that seam spans both key runs
    /// and both times, so every point read of a key in the gap between the runs reads it only
    /// to find nothing (45% of the reads in the 1M-key bench did), and time-pruned queries
    /// cannot skip it. A flush passes a quarter of the memtable's time span: far above the
    /// spread of neighbouring keys in ordinary workloads, so those never cut early.
    pub fn cut_at_time_gaps(mut self, gap: u64) -> Self {
        self.time_gap = Some(gap);
        self
    }

    /// Adds a version (`None` = tombstone). Versions must come in strictly increasing
    /// (key, timestamp) order; anything else is refused and changes nothing.
    pub fn add(&mut self, key: &[u8], ts: u64, value: Option<&[u8]>) -> Result<(), FormatError> {
        if let Some(last_ts) = self.last_ts {
            if (self.last_key.as_slice(), last_ts) >= (key, ts) {
                return Err(FormatError::new(
                    self.out.len(),
                    "versions must be added in (key, ts) order",
                ));
            }
        }
        let summary = self.summary.get_or_insert_with(|| ExtentSummary {
            key_min: key.to_vec(),
            key_max: Vec::new(),
            ts_min: u64::MAX,
            ts_max: 0,
            z_min: u128::MAX,
            z_max: 0,
            versions: 0,
            blocks: 0,
        });
        summary.versions += 1;
        let new_key = self.last_key != key;
        if new_key {
            self.last_key.clear();
            self.last_key.extend_from_slice(key);
        }
        if new_key && !self.pending.is_empty() {
            if let Some(gap) = self.time_gap {
                let p = &self.pending;
                if ts > p.ts_max.saturating_add(gap) || ts.saturating_add(gap) < p.ts_min {
                    self.seal_block();
                }
            }
        }
        self.last_ts = Some(ts);
        self.pending.push(key, ts, value);
        if self.pending.bytes() >= self.options.block_bytes {
            self.seal_block();
        }
        Ok(())
    }

    /// Bytes the extent has so far: its sealed blocks plus the block being filled (counted
    /// uncompressed). The index and footer that `finish` appends are not included; they take
    /// about `2 * key_len + 60` bytes per block. A flush that wants extents of a target size
    /// starts a new writer once this passes the target (ideally at a key boundary, so a key's
    /// history stays in one extent).
    pub fn bytes_so_far(&self) -> u64 {
        (self.out.len() + self.pending.bytes()) as u64
    }

    /// The finished extent and its summary; `None` when no version was added.
    pub fn finish(mut self) -> Option<(Vec<u8>, ExtentSummary)> {
        self.seal_block();
        let mut summary = self.summary?;
        summary.blocks = self.blocks.len();
        summary.key_max = self.last_key;
        for b in &self.blocks {
            summary.ts_min = summary.ts_min.min(b.ts_min);
            summary.ts_max = summary.ts_max.max(b.ts_max);
            summary.z_min = summary.z_min.min(b.z_min);
            summary.z_max = summary.z_max.max(b.z_max);
        }
        let index_offset = self.out.len();
        index::encode(&self.blocks, &mut self.out);
        let index_len = self.out.len() - index_offset;
        index::encode_footer(index_offset, index_len, &mut self.out);
        Some((self.out, summary))
    }

    fn seal_block(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let offset = self.out.len();
        self.pending.encode(&mut self.payload);
        block::seal(&self.payload, self.options.compress, &mut self.out);
        let p = &self.pending;
        self.blocks.push(BlockMeta {
            offset: offset as u64,
            len: (self.out.len() - offset) as u64,
            first_key: p.first_key().to_vec(),
            last_key: p.last_key().to_vec(),
            ts_min: p.ts_min,
            ts_max: p.ts_max,
            z_min: p.z_min,
            z_max: p.z_max,
            versions: p.versions() as u64,
        });
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_holds_at_most_one_block_of_pending_versions() {
        let options = WriterOptions {
            block_bytes: 1000,
            compress: true,
        };
        let mut writer = ExtentWriter::new(options);
        let mut previous = 0;
        for i in 0..2_000u64 {
            let value = vec![i as u8; (i % 300) as usize];
            writer
                .add(format!("k{:05}", i / 7).as_bytes(), i, Some(&value))
                .unwrap();
            assert!(
                writer.pending.bytes() < options.block_bytes,
                "pending {}",
                writer.pending.bytes()
            );
            assert!(writer.bytes_so_far() >= previous || writer.pending.is_empty());
            previous = writer.bytes_so_far();
        }
        assert!(writer.blocks.len() > 100);
        let sealed = writer.out.len() as u64;
        let (bytes, summary) = writer.finish().unwrap();
        assert!(bytes.len() as u64 > sealed);
        assert_eq!(
            (summary.key_min.as_slice(), summary.key_max.as_slice()),
            (&b"k00000"[..], &b"k00285"[..])
        );
        assert_eq!(
            (summary.ts_min, summary.ts_max, summary.versions),
            (0, 1_999, 2_000)
        );
    }

    /// Keys 0..40 written late (ts 1000 + i), then keys 60..100 written early (ts i): the
    /// shape of a memtable holding the start of one sweep over the keys and the end of the
    /// one before.
    fn seam(writer: ExtentWriter) -> Vec<BlockMeta> {
        let mut writer = writer;
        let keys = (0..40u64)
            .map(|i| (i, 1000 + i))
            .chain((60..100).map(|i| (i, i)));
        for (i, ts) in keys {
            writer
                .add(format!("k{i:03}").as_bytes(), ts, Some(&[7; 100]))
                .unwrap();
        }
        let (bytes, _) = writer.finish().unwrap();
        crate::ExtentReader::open(bytes).unwrap().blocks().to_vec()
    }

    #[test]
    fn writer_cuts_blocks_at_time_gaps_only_when_asked() {
        let options = WriterOptions {
            block_bytes: 1 << 20,
            compress: false,
        };
        // One block for everything: it spans the seam, keys k040..k059 included.
        let plain = seam(ExtentWriter::new(options));
        assert_eq!(plain.len(), 1);
        // Cut at the seam: the late run and the early run, nothing between.
        let cut = seam(ExtentWriter::new(options).cut_at_time_gaps(100));
        assert_eq!(cut.len(), 2);
        assert_eq!(
            (cut[0].first_key.as_slice(), cut[0].last_key.as_slice()),
            (&b"k000"[..], &b"k039"[..])
        );
        assert_eq!(
            (cut[1].first_key.as_slice(), cut[1].last_key.as_slice()),
            (&b"k060"[..], &b"k099"[..])
        );
        assert_eq!((cut[0].ts_min, cut[1].ts_max), (1000, 99));
        // Neighbouring keys within the gap of each other never cut.
        assert_eq!(
            seam(ExtentWriter::new(options).cut_at_time_gaps(2000)).len(),
            1
        );
    }
}
