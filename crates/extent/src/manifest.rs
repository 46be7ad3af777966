//! The manifest: which extents are live and what the log still has to replay.
//!
//! ```text
//! manifest := magic "CKVMAN01" | format:u32 | body_len:u64 | body | crc32c(everything before):u32
//! body     := checkpoint_seq:varint last_ts:varint next_extent_id:varint retention_horizon:varint
//!             data_end:varint free:varint (offset:varint len:varint)*
//!             extents:varint extent*
//! extent   := id:varint offset:varint len:varint bytes:varint z_min:u128 z_max:u128 key_min
//!             key_max ts_min:varint ts_max:varint versions:varint            (keys: len:varint bytes)
//! ```
//! Open = manifest + the log's records with a sequence number above `checkpoint_seq`. The
//! engine replaces the manifest atomically (write a new file, fsync it, rename it over the old
//! one, fsync the directory), so a crash leaves either the old or the new manifest, whole.

use crate::cursor::{put_len_prefixed, put_varint, Cursor};
use crate::FormatError;

const MAGIC: &[u8; 8] = b"CKVMAN01";
const FORMAT: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8;

/// One live extent as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestExtent {
    /// Unique, increasing id.
    pub id: u64,
    /// Byte offset of the extent in the data file.
    pub offset: u64,
    /// Its allocated length (the extent's bytes may be shorter; the footer is at `bytes`).
    pub len: u64,
    /// The extent's own length in bytes (its footer ends there).
    pub bytes: u64,
    /// Morton range.
    pub z_min: u128,
    /// See `z_min`.
    pub z_max: u128,
    /// Key bounds.
    pub key_min: Vec<u8>,
    /// See `key_min`.
    pub key_max: Vec<u8>,
    /// Time bounds.
    pub ts_min: u64,
    /// See `ts_min`.
    pub ts_max: u64,
    /// Versions it holds.
    pub versions: u64,
}

/// The state a database reopens from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Every log record with a sequence number at or below this is in the extents.
    pub checkpoint_seq: u64,
    /// The newest commit timestamp ever handed out (timestamps continue above it).
    pub last_ts: u64,
    /// The id the next extent gets.
    pub next_extent_id: u64,
    /// Versions older than this may have been collected by retention; reads before it are not
    /// exact (see the engine's retention docs). 0 = nothing collected.
    pub retention_horizon: u64,
    /// End of the allocated part of the data file.
    pub data_end: u64,
    /// Extents released by compaction, free for reuse: (offset, len).
    pub free: Vec<(u64, u64)>,
    /// Live extents.
    pub extents: Vec<ManifestExtent>,
}

impl Manifest {
    /// The manifest's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for value in [
            self.checkpoint_seq,
            self.last_ts,
            self.next_extent_id,
            self.retention_horizon,
            self.data_end,
        ] {
            put_varint(&mut body, value);
        }
        put_varint(&mut body, self.free.len() as u64);
        for (offset, len) in &self.free {
            put_varint(&mut body, *offset);
            put_varint(&mut body, *len);
        }
        put_varint(&mut body, self.extents.len() as u64);
        for e in &self.extents {
            for value in [e.id, e.offset, e.len, e.bytes] {
                put_varint(&mut body, value);
            }
            body.extend_from_slice(&e.z_min.to_le_bytes());
            body.extend_from_slice(&e.z_max.to_le_bytes());
            put_len_prefixed(&mut body, &e.key_min);
            put_len_prefixed(&mut body, &e.key_max);
            for value in [e.ts_min, e.ts_max, e.versions] {
                put_varint(&mut body, value);
            }
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses and checks a manifest; any damage is a [`FormatError`] with its offset.
    pub fn decode(bytes: &[u8]) -> Result<Manifest, FormatError> {
        if bytes.len() < HEADER_LEN + 4 {
            return Err(FormatError::new(
                0,
                format!("{} bytes cannot hold a manifest", bytes.len()),
            ));
        }
        if &bytes[..8] != MAGIC {
            return Err(FormatError::new(0, "not a chronokv manifest (bad magic)"));
        }
        let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if format != FORMAT {
            return Err(FormatError::new(
                8,
                format!("unknown manifest format {format}"),
            ));
        }
        let body_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        if body_len != (bytes.len() - HEADER_LEN - 4) as u64 {
            return Err(FormatError::new(
                12,
                format!("body length {body_len} does not match the file"),
            ));
        }
        let (content, crc) = bytes.split_at(bytes.len() - 4);
        if crc32c::crc32c(content) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(FormatError::new(
                content.len(),
                "manifest checksum mismatch",
            ));
        }
        let body = &content[HEADER_LEN..];
        let mut c = Cursor::new(body, HEADER_LEN);
        let mut manifest = Manifest {
            checkpoint_seq: c.varint()?,
            last_ts: c.varint()?,
            next_extent_id: c.varint()?,
            retention_horizon: c.varint()?,
            data_end: c.varint()?,
            ..Manifest::default()
        };
        let free = c.len(body.len())?;
        for _ in 0..free {
            manifest.free.push((c.varint()?, c.varint()?));
        }
        let extents = c.len(body.len())?;
        for _ in 0..extents {
            let at = c.offset();
            let extent = ManifestExtent {
                id: c.varint()?,
                offset: c.varint()?,
                len: c.varint()?,
                bytes: c.varint()?,
                z_min: u128::from_le_bytes(c.array()?),
                z_max: u128::from_le_bytes(c.array()?),
                key_min: c.len_prefixed()?.to_vec(),
                key_max: c.len_prefixed()?.to_vec(),
                ts_min: c.varint()?,
                ts_max: c.varint()?,
                versions: c.varint()?,
            };
            if extent.bytes > extent.len
                || extent
                    .offset
                    .checked_add(extent.len)
                    .is_none_or(|end| end > manifest.data_end)
            {
                return Err(FormatError::new(
                    at,
                    "extent lies outside the allocated data",
                ));
            }
            manifest.extents.push(extent);
        }
        if !c.is_empty() {
            return Err(c.error("bytes left after the last extent"));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            checkpoint_seq: 1_795_000_000_000_123,
            last_ts: 1_795_000_000_000_456,
            next_extent_id: 3,
            retention_horizon: 0,
            data_end: 3 * 16384,
            free: vec![(16384, 16384)],
            extents: (1..=2)
                .map(|id| ManifestExtent {
                    id,
                    offset: (id - 1) * 32768,
                    len: 16384,
                    bytes: 9000 + id,
                    z_min: u128::from(id) << 100,
                    z_max: u128::MAX - u128::from(id),
                    key_min: format!("a{id}").into_bytes(),
                    key_max: format!("z{id}").into_bytes(),
                    ts_min: 1_795_000_000_000_000,
                    ts_max: 1_795_000_000_000_100 + id,
                    versions: 40 * id,
                })
                .collect(),
        }
    }

    #[test]
    fn manifest_round_trips() {
        let manifest = sample();
        assert_eq!(Manifest::decode(&manifest.encode()).unwrap(), manifest);
        assert_eq!(
            Manifest::decode(&Manifest::default().encode()).unwrap(),
            Manifest::default()
        );
    }

    #[test]
    fn manifest_every_truncation_and_bit_flip_is_an_error_with_an_offset() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            let err = Manifest::decode(&bytes[..len]).unwrap_err();
            assert!(err.offset <= bytes.len() as u64);
        }
        for byte in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[byte] ^= 1 << bit;
                let err = Manifest::decode(&damaged).expect_err("a flipped bit must not decode");
                assert!(err.offset <= bytes.len() as u64, "flip {byte}.{bit}: {err}");
            }
        }
    }
}
