//! The on-disk record format (see the crate docs for the layout).

use std::fmt;

use crate::error::WalError;

/// Size of a record header in bytes.
pub const HEADER_LEN: usize = 20;

/// Largest payload a record may carry: 1 GiB.
pub const MAX_RECORD_LEN: usize = 1 << 30;

/// Bytes of the header covered by the header crc.
const HEADER_CRC_COVERS: usize = 16;

/// The name of the segment file whose first record has `first_seq`: `{first_seq:020}.log`.
pub fn segment_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.log")
}

/// Parses a segment file name back into its first seq; `None` for any other file.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Appends one encoded record (header + payload) to `out`.
///
/// Fails with [`WalError::RecordTooLarge`] (leaving `out` untouched) when the payload is longer
/// than [`MAX_RECORD_LEN`].
pub fn encode_record(seq: u64, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WalError> {
    if payload.len() > MAX_RECORD_LEN {
        return Err(WalError::RecordTooLarge {
            len: payload.len(),
            max: MAX_RECORD_LEN,
        });
    }
    let len = u32::try_from(payload.len()).expect("MAX_RECORD_LEN fits in u32");
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&len.to_le_bytes());
    header[4..12].copy_from_slice(&seq.to_le_bytes());
    header[12..16].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let header_crc = crc32c::crc32c(&header[..HEADER_CRC_COVERS]);
    header[16..20].copy_from_slice(&header_crc.to_le_bytes());
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    Ok(())
}

/// A header whose own crc matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Payload length, already checked against [`MAX_RECORD_LEN`].
    pub len: usize,
    pub seq: u64,
    pub payload_crc: u32,
}

/// Why bytes at some offset are not a valid record. Cheap to build: the forward scan makes one
/// per byte offset it rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadRecord {
    /// Fewer than [`HEADER_LEN`] bytes were left in the file.
    ShortHeader {
        left: u64,
    },
    HeaderChecksum,
    TooLong {
        len: usize,
    },
    PastEnd {
        len: usize,
        left: u64,
    },
    SeqNotIncreasing {
        seq: u64,
        last: u64,
    },
    PayloadChecksum,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BadRecord::ShortHeader { left } => {
                write!(f, "truncated header: only {left} bytes left in the file")
            }
            BadRecord::HeaderChecksum => f.write_str("header checksum mismatch"),
            BadRecord::TooLong { len } => {
                write!(
                    f,
                    "record length {len} exceeds the maximum {MAX_RECORD_LEN}"
                )
            }
            BadRecord::PastEnd { len, left } => write!(
                f,
                "record length {len} runs past the end of the file ({left} payload bytes left)"
            ),
            BadRecord::SeqNotIncreasing { seq, last } => {
                write!(f, "seq {seq} is not greater than the previous seq {last}")
            }
            BadRecord::PayloadChecksum => f.write_str("payload checksum mismatch"),
        }
    }
}

/// Decodes a header, checking its crc first and then the length against [`MAX_RECORD_LEN`].
pub(crate) fn decode_header(bytes: &[u8; HEADER_LEN]) -> Result<Header, BadRecord> {
    let stored_crc = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[..HEADER_CRC_COVERS]) != stored_crc {
        return Err(BadRecord::HeaderChecksum);
    }
    let len = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    if len > MAX_RECORD_LEN {
        return Err(BadRecord::TooLong { len });
    }
    Ok(Header {
        len,
        seq: u64::from_le_bytes(bytes[4..12].try_into().expect("8 bytes")),
        payload_crc: u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_header_round_trip() {
        let mut out = vec![0xAA];
        encode_record(42, b"hello", &mut out).unwrap();
        assert_eq!(out.len(), 1 + HEADER_LEN + 5);
        let header = decode_header(out[1..1 + HEADER_LEN].try_into().unwrap()).unwrap();
        assert_eq!(header.len, 5);
        assert_eq!(header.seq, 42);
        assert_eq!(header.payload_crc, crc32c::crc32c(b"hello"));
        assert_eq!(&out[1 + HEADER_LEN..], b"hello");
    }

    #[test]
    fn format_zeros_never_parse() {
        assert_ne!(crc32c::crc32c(&[0u8; HEADER_CRC_COVERS]), 0);
        assert_eq!(
            decode_header(&[0u8; HEADER_LEN]),
            Err(BadRecord::HeaderChecksum)
        );
    }

    #[test]
    fn format_segment_names() {
        assert_eq!(segment_file_name(1), "00000000000000000001.log");
        assert_eq!(parse_segment_file_name("00000000000000000001.log"), Some(1));
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        assert_eq!(parse_segment_file_name("0001.log"), None);
        assert_eq!(parse_segment_file_name("0000000000000000000a.log"), None);
        assert_eq!(parse_segment_file_name("00000000000000000001.tmp"), None);
    }
}
