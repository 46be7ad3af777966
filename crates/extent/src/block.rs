//! Sealed blocks: a codec byte, the raw payload's length, the payload (raw or LZ4) and a
//! crc32c over all of it. Opening checks the crc before a byte of the payload is trusted.

use crate::FormatError;

const RAW: u8 = 0;
const LZ4: u8 = 1;
/// codec:u8 + raw_len:u32 before the payload.
pub(crate) const HEADER: usize = 1 + 4;
/// The header before the payload and the crc32c after it.
const OVERHEAD: usize = HEADER + 4;
/// The largest raw payload a block may claim (a guard against damaged lengths).
pub(crate) const MAX_RAW_LEN: usize = 1 << 30;
/// LZ4 cannot expand input by more than this factor (one token byte codes at most 255
/// bytes of a match or literal run, plus a little slack per block).
const LZ4_MAX_RATIO: usize = 256;

/// A block is stored compressed only when LZ4 saves at least 1/8 of it (RocksDB's default
/// threshold too): every read of a compressed block decompresses all of it, which costs more
/// than the few bytes saved on nearly incompressible data (random values, say) are worth.
const MIN_SAVING_DIVISOR: usize = 8;

/// Appends a sealed block (compressed with LZ4 when `compress` and it saves enough space).
pub(crate) fn seal(raw: &[u8], compress: bool, out: &mut Vec<u8>) {
    let start = out.len();
    let compressed = compress
        .then(|| lz4_flex::block::compress(raw))
        .filter(|c| c.len() <= raw.len() - raw.len() / MIN_SAVING_DIVISOR);
    out.push(if compressed.is_some() { LZ4 } else { RAW });
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(compressed.as_deref().unwrap_or(raw));
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// A checked block's raw payload, and how to name a place in it in an error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payload<'a> {
    pub bytes: &'a [u8],
    /// Offset of the sealed block in the extent.
    pub block_offset: usize,
    /// Whether `bytes` is a decompressed copy (its offsets then are not extent offsets).
    pub compressed: bool,
}

impl Payload<'_> {
    /// Turns an error at payload offset `err.offset` into one at an extent offset: the byte
    /// itself for a raw block, the block's start for a compressed one.
    pub(crate) fn locate(&self, err: FormatError) -> FormatError {
        if self.compressed {
            let reason = format!(
                "{} (byte {} of the decompressed block)",
                err.reason, err.offset
            );
            FormatError::new(self.block_offset, reason)
        } else {
            FormatError {
                offset: (self.block_offset + HEADER) as u64 + err.offset,
                ..err
            }
        }
    }
}

/// Checks the sealed block at `offset` in the extent and returns its raw payload: borrowed
/// from `sealed` for a raw block, decompressed into `buf` (grown as needed, reused across
/// calls so point reads do not allocate) for an LZ4 one. `verified` skips the crc of a block
/// whose crc this reader already checked (see `ExtentReader::walk`).
pub(crate) fn open<'a>(
    sealed: &'a [u8],
    offset: usize,
    buf: &'a mut Vec<u8>,
    verified: bool,
) -> Result<Payload<'a>, FormatError> {
    if sealed.len() < OVERHEAD {
        return Err(FormatError::new(
            offset,
            "block shorter than its header and checksum",
        ));
    }
    let (body, crc) = sealed.split_at(sealed.len() - 4);
    if !verified && crc32c::crc32c(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(FormatError::new(offset, "block checksum mismatch"));
    }
    let codec = body[0];
    let raw_len = u32::from_le_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let payload = &body[HEADER..];
    let claim_ok = raw_len <= MAX_RAW_LEN && raw_len <= payload.len().saturating_mul(LZ4_MAX_RATIO);
    if !claim_ok {
        return Err(FormatError::new(
            offset + 1,
            format!("block claims {raw_len} raw bytes"),
        ));
    }
    let bytes = match codec {
        RAW if payload.len() == raw_len => payload,
        RAW => return Err(FormatError::new(offset + 1, "raw block length mismatch")),
        LZ4 => {
            if buf.len() < raw_len {
                buf.resize(raw_len, 0);
            }
            let out = &mut buf[..raw_len];
            match lz4_flex::block::decompress_into(payload, out) {
                Ok(n) if n == raw_len => &*out,
                _ => {
                    return Err(FormatError::new(
                        offset + HEADER,
                        "lz4 payload does not decompress to its length",
                    ))
                }
            }
        }
        other => {
            return Err(FormatError::new(
                offset,
                format!("unknown block codec {other}"),
            ))
        }
    };
    Ok(Payload {
        bytes,
        block_offset: offset,
        compressed: codec == LZ4,
    })
}
