//! The block index and the footer.

use crate::cursor::{put_len_prefixed, put_varint, Cursor};
use crate::{FormatError, FORMAT_VERSION, OLDEST_READABLE_FORMAT};

const MAGIC: &[u8; 8] = b"CKVEXT01";
/// magic + format:u32 + index_offset:u64 + index_len:u64 + crc32c:u32.
pub(crate) const FOOTER_LEN: usize = 8 + 4 + 8 + 8 + 4;

/// Where a block is and what it holds: the bounds readers prune by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMeta {
    /// Offset of the sealed block from the start of the extent.
    pub offset: u64,
    /// Length of the sealed block.
    pub len: u64,
    /// First and last key in the block.
    pub first_key: Vec<u8>,
    /// See `first_key`.
    pub last_key: Vec<u8>,
    /// Oldest and newest commit timestamp in the block.
    pub ts_min: u64,
    /// See `ts_min`.
    pub ts_max: u64,
    /// Smallest and largest Morton-T code of the block's versions.
    pub z_min: u128,
    /// See `z_min`.
    pub z_max: u128,
    /// Versions in the block.
    pub versions: u64,
}

pub(crate) fn encode(blocks: &[BlockMeta], out: &mut Vec<u8>) {
    let start = out.len();
    put_varint(out, blocks.len() as u64);
    for b in blocks {
        put_varint(out, b.offset);
        put_varint(out, b.len);
        put_len_prefixed(out, &b.first_key);
        put_len_prefixed(out, &b.last_key);
        put_varint(out, b.ts_min);
        put_varint(out, b.ts_max);
        out.extend_from_slice(&b.z_min.to_le_bytes());
        out.extend_from_slice(&b.z_max.to_le_bytes());
        put_varint(out, b.versions);
    }
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

pub(crate) fn encode_footer(index_offset: usize, index_len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(index_offset as u64).to_le_bytes());
    out.extend_from_slice(&(index_len as u64).to_le_bytes());
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Reads and checks the footer and the index of an extent: its format version and blocks.
pub(crate) fn decode(extent: &[u8]) -> Result<(u32, Vec<BlockMeta>), FormatError> {
    if extent.len() < FOOTER_LEN {
        return Err(FormatError::new(
            0,
            format!("{} bytes cannot hold an extent footer", extent.len()),
        ));
    }
    let footer_at = extent.len() - FOOTER_LEN;
    let footer = &extent[footer_at..];
    let crc = u32::from_le_bytes(footer[28..32].try_into().expect("4 bytes"));
    if &footer[..8] != MAGIC || crc32c::crc32c(&footer[..28]) != crc {
        return Err(FormatError::new(
            footer_at,
            "footer magic or checksum mismatch (truncated or damaged extent)",
        ));
    }
    let mut c = Cursor::new(&footer[8..28], footer_at + 8);
    let format = u32::from_le_bytes(c.array()?);
    if !(OLDEST_READABLE_FORMAT..=FORMAT_VERSION).contains(&format) {
        return Err(FormatError::new(
            footer_at + 8,
            format!("unknown extent format {format}"),
        ));
    }
    let index_offset = u64::from_le_bytes(c.array()?);
    let index_len = u64::from_le_bytes(c.array()?);
    let index_end = index_offset
        .checked_add(index_len)
        .filter(|&end| end == footer_at as u64);
    if index_end.is_none() || index_len < 4 {
        return Err(FormatError::new(
            footer_at,
            "footer points outside the extent",
        ));
    }
    let index = &extent[index_offset as usize..footer_at];
    let (body, crc) = index.split_at(index.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(FormatError::new(
            index_offset as usize,
            "index checksum mismatch",
        ));
    }
    let mut c = Cursor::new(body, index_offset as usize);
    let count = c.len(body.len())?;
    let mut blocks: Vec<BlockMeta> = Vec::with_capacity(count);
    let mut expected_offset = 0u64;
    for _ in 0..count {
        let at = c.offset();
        let meta = BlockMeta {
            offset: c.varint()?,
            len: c.varint()?,
            first_key: c.len_prefixed()?.to_vec(),
            last_key: c.len_prefixed()?.to_vec(),
            ts_min: c.varint()?,
            ts_max: c.varint()?,
            z_min: u128::from_le_bytes(c.array()?),
            z_max: u128::from_le_bytes(c.array()?),
            versions: c.varint()?,
        };
        // Blocks are contiguous from offset 0 up to the index, in key order.
        if meta.offset != expected_offset
            || meta.first_key > meta.last_key
            || meta.ts_min > meta.ts_max
            // Keys ascend from block to block (one key's versions may span a boundary); binary
            // searches over the index rely on it.
            || blocks.last().is_some_and(|previous| previous.last_key > meta.first_key)
        {
            return Err(FormatError::new(at, "block index entry inconsistent"));
        }
        expected_offset = meta
            .offset
            .checked_add(meta.len)
            .ok_or_else(|| FormatError::new(at, "block length overflows"))?;
        blocks.push(meta);
    }
    if !c.is_empty() || expected_offset != index_offset {
        return Err(FormatError::new(
            index_offset as usize,
            "block index does not cover the blocks exactly",
        ));
    }
    Ok((format, blocks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(offset: u64, first: &str, last: &str) -> BlockMeta {
        BlockMeta {
            offset,
            len: 10,
            first_key: first.into(),
            last_key: last.into(),
            ts_min: 1,
            ts_max: 2,
            z_min: 0,
            z_max: 0,
            versions: 1,
        }
    }

    /// An index as the writer lays it out, after `blocks` of 10 bytes each.
    fn extent_with(blocks: &[BlockMeta]) -> Vec<u8> {
        let mut out = vec![0u8; 10 * blocks.len()];
        let index_offset = out.len();
        encode(blocks, &mut out);
        let index_len = out.len() - index_offset;
        encode_footer(index_offset, index_len, &mut out);
        out
    }

    #[test]
    fn index_decodes_what_it_encodes_and_refuses_blocks_out_of_key_order() {
        let ordered = [meta(0, "a", "c"), meta(10, "c", "c"), meta(20, "c", "f")];
        assert_eq!(
            decode(&extent_with(&ordered)).unwrap(),
            (FORMAT_VERSION, ordered.to_vec())
        );
        let unordered = [meta(0, "a", "c"), meta(10, "b", "d")];
        let err = decode(&extent_with(&unordered)).unwrap_err();
        assert!(err.reason.contains("inconsistent"), "{err}");
    }
}
