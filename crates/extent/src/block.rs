//! Blocks: groups of versions by key, sealed with a codec byte, the raw length and a crc32c.

use crate::bitpack;
use crate::cursor::{put_len_prefixed, put_varint, Cursor};
use crate::FormatError;

const RAW: u8 = 0;
const LZ4: u8 = 1;
/// codec:u8 + raw_len:u32 before the payload, crc32c:u32 after it.
const OVERHEAD: usize = 1 + 4 + 4;
/// The largest raw payload a block may claim (a guard against damaged lengths).
pub(crate) const MAX_RAW_LEN: usize = 1 << 30;

/// The versions of one key inside one block, timestamps ascending.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Group<V> {
    pub key: Vec<u8>,
    pub ts: Vec<u64>,
    /// `None` marks a tombstone.
    pub values: Vec<Option<V>>,
}

/// Encodes groups (keys ascending) into a raw block payload.
pub(crate) fn encode_payload(groups: &[Group<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, groups.len() as u64);
    let mut previous: &[u8] = &[];
    for group in groups {
        let shared = previous.iter().zip(&group.key).take_while(|(a, b)| a == b).count();
        put_varint(&mut out, shared as u64);
        put_len_prefixed(&mut out, &group.key[shared..]);
        put_varint(&mut out, group.ts.len() as u64);
        put_varint(&mut out, group.ts[0]);
        let deltas: Vec<u64> = group.ts.windows(2).map(|w| w[1] - w[0]).collect();
        let width = bitpack::width_for(&deltas);
        out.push(width);
        bitpack::pack(&deltas, width, &mut out);
        for value in &group.values {
            match value {
                None => put_varint(&mut out, 0),
                Some(v) => {
                    put_varint(&mut out, v.len() as u64 + 1);
                    out.extend_from_slice(v);
                }
            }
        }
        previous = &group.key;
    }
    out
}

/// Decodes a raw payload; values borrow from it. `base` is the payload's offset for errors.
pub(crate) fn decode_payload(raw: &[u8], base: usize) -> Result<Vec<Group<&[u8]>>, FormatError> {
    let mut c = Cursor::new(raw, base);
    let count = c.len(raw.len())?;
    let mut groups: Vec<Group<&[u8]>> = Vec::with_capacity(count);
    for _ in 0..count {
        let at = c.offset();
        let shared = c.varint()? as usize;
        let previous: &[u8] = groups.last().map_or(&[], |g| &g.key);
        if shared > previous.len() {
            return Err(FormatError::new(at, "key shares more bytes than the previous key has"));
        }
        let mut key = previous[..shared].to_vec();
        key.extend_from_slice(c.len_prefixed()?);
        if groups.last().is_some_and(|g| g.key >= key) {
            return Err(FormatError::new(at, "keys out of order"));
        }
        let versions = c.len(raw.len())?;
        if versions == 0 {
            return Err(c.error("a key with no versions"));
        }
        let first = c.varint()?;
        let width = c.u8()?;
        if width > 64 {
            return Err(c.error(format!("timestamp delta width {width} over 64 bits")));
        }
        let packed = c.bytes(bitpack::packed_len(versions - 1, width))?;
        let mut ts = Vec::with_capacity(versions);
        ts.push(first);
        for delta in bitpack::unpack(packed, versions - 1, width) {
            let next = ts[ts.len() - 1].checked_add(delta).ok_or_else(|| c.error("timestamp overflow"))?;
            ts.push(next);
        }
        let mut values = Vec::with_capacity(versions);
        for _ in 0..versions {
            let tag = c.len(raw.len() + 1)?;
            values.push(if tag == 0 { None } else { Some(c.bytes(tag - 1)?) });
        }
        groups.push(Group { key, ts, values });
    }
    if !c.is_empty() {
        return Err(c.error("bytes left after the last key"));
    }
    Ok(groups)
}

/// Appends a sealed block (compressed with LZ4 when `compress` and it saves space).
pub(crate) fn seal(raw: &[u8], compress: bool, out: &mut Vec<u8>) {
    let start = out.len();
    let compressed = compress.then(|| lz4_flex::block::compress(raw)).filter(|c| c.len() < raw.len());
    out.push(if compressed.is_some() { LZ4 } else { RAW });
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(compressed.as_deref().unwrap_or(raw));
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Checks a sealed block at `offset` in the extent and returns its raw payload.
pub(crate) fn open(sealed: &[u8], offset: usize) -> Result<Vec<u8>, FormatError> {
    if sealed.len() < OVERHEAD {
        return Err(FormatError::new(offset, "block shorter than its header and checksum"));
    }
    let (body, crc) = sealed.split_at(sealed.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(FormatError::new(offset, "block checksum mismatch"));
    }
    let mut c = Cursor::new(body, offset);
    let codec = c.u8()?;
    let raw_len = u32::from_le_bytes(c.array()?) as usize;
    if raw_len > MAX_RAW_LEN {
        return Err(FormatError::new(offset + 1, format!("block claims {raw_len} raw bytes")));
    }
    let payload = &body[5..];
    match codec {
        RAW if payload.len() == raw_len => Ok(payload.to_vec()),
        RAW => Err(FormatError::new(offset + 1, "raw block length mismatch")),
        LZ4 => lz4_flex::block::decompress(payload, raw_len)
            .ok()
            .filter(|raw| raw.len() == raw_len)
            .ok_or_else(|| FormatError::new(offset + 5, "lz4 payload does not decompress to its length")),
        other => Err(FormatError::new(offset, format!("unknown block codec {other}"))),
    }
}
