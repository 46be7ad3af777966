//! Checking whole blocks, for `chronokv check`.
//!
//! Reads stop as soon as they know their answer, and skip the crc of a block this reader has
//! already checked. Verification does neither: it recomputes the block's crc32c, decompresses
//! it, and walks every key group and value to the end, where the walker compares the last key
//! and the version count with the index.

use crate::block;
use crate::reader::ExtentReader;
use crate::walk::Walker;
use crate::FormatError;

impl<B: AsRef<[u8]>> ExtentReader<B> {
    /// Checks block `i` in full (see the module docs) and returns how many versions it holds.
    /// The error's offset is from the start of the extent, like every [`FormatError`].
    pub fn verify_block(&self, i: usize) -> Result<u64, FormatError> {
        let Some(meta) = self.blocks.get(i) else {
            return Err(FormatError {
                offset: 0,
                reason: format!("the extent has no block {i}"),
            });
        };
        // In range: index::decode checked that the blocks tile the extent up to the index.
        let (start, end) = (meta.offset as usize, (meta.offset + meta.len) as usize);
        let mut raw = Vec::new();
        let mut key = Vec::new();
        let payload = block::open(&self.bytes()[start..end], start, &mut raw, false)?;
        let mut walk = Walker::new(payload, meta, &mut key, self.layout, true)?;
        while walk.next_group()?.is_some() {}
        Ok(meta.versions)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ExtentReader, ExtentWriter, WriterOptions};

    fn extent() -> Vec<u8> {
        let mut writer = ExtentWriter::new(WriterOptions {
            block_bytes: 200,
            compress: false,
        });
        for i in 0..200u64 {
            let value = format!("value number {i}");
            let deleted = i % 9 == 0;
            writer
                .add(
                    format!("k{:03}", i / 3).as_bytes(),
                    1_000 + i,
                    (!deleted).then_some(value.as_bytes()),
                )
                .unwrap();
        }
        writer.finish().unwrap().0
    }

    #[test]
    fn verify_block_accepts_every_block_the_writer_made() {
        let reader = ExtentReader::open(extent()).unwrap();
        let total: u64 = (0..reader.blocks().len())
            .map(|i| reader.verify_block(i).unwrap())
            .sum();
        assert_eq!(total, 200);
        assert!(reader.verify_block(reader.blocks().len()).is_err());
    }

    #[test]
    fn verify_block_finds_a_flipped_bit_in_the_damaged_block_only() {
        let clean = extent();
        let blocks = ExtentReader::open(clean.clone()).unwrap().blocks().to_vec();
        for (victim, meta) in blocks.iter().enumerate() {
            for at in [
                meta.offset,
                meta.offset + meta.len / 2,
                meta.offset + meta.len - 1,
            ] {
                let mut bytes = clean.clone();
                bytes[at as usize] ^= 0x08;
                let reader = ExtentReader::open(bytes).unwrap();
                for i in 0..blocks.len() {
                    let result = reader.verify_block(i);
                    if i == victim {
                        let err = result.expect_err("a damaged block must fail");
                        assert_eq!(err.offset, meta.offset, "{err}");
                    } else {
                        assert!(result.is_ok(), "block {i} is intact");
                    }
                }
            }
        }
    }
}
