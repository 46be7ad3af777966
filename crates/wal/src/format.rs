//! The on-disk format, version 2 (see the crate docs for the layout and what each field is for).

use std::fmt;

use crate::error::WalError;

/// The log format this crate writes and reads. Version 1 (the foundation's: segments named by
/// their first seq, no segment header, 20-byte record headers) is not read.
pub const FORMAT_VERSION: u32 = 2;

/// Size of a segment header in bytes; the first record starts right after it.
pub const SEGMENT_HEADER_LEN: usize = 32;

/// Size of a record header in bytes.
pub const HEADER_LEN: usize = 32;

/// Largest payload a record may carry: 1 GiB.
pub const MAX_RECORD_LEN: usize = 1 << 30;

/// What every segment file starts with.
const SEGMENT_MAGIC: [u8; 8] = *b"CKV-WAL\0";

/// Bytes of a header (segment or record) covered by its crc: all but the last four.
const CRC_COVERS: usize = 28;

/// A record's kind, byte 4 of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A commit: the payload is the caller's.
    Commit = 1,
    /// The end of a segment: the log continues at the start of the next segment. No payload.
    Seal = 2,
}

/// The name of segment number `index`: `{index:020}.log`.
pub fn segment_file_name(index: u64) -> String {
    format!("{index:020}.log")
}

/// The name a segment is prepared under before it is renamed to [`segment_file_name`].
pub(crate) fn temp_segment_file_name(index: u64) -> String {
    format!("{index:020}.log.tmp")
}

/// Parses a segment file name back into its index; `None` for any other file.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    parse_index(name.strip_suffix(".log")?)
}

/// Whether `name` is a segment that was being prepared when the process stopped.
pub(crate) fn is_temp_segment_file_name(name: &str) -> bool {
    name.strip_suffix(".log.tmp")
        .and_then(parse_index)
        .is_some()
}

fn parse_index(digits: &str) -> Option<u64> {
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Appends the header of segment number `index` to `out`.
pub fn encode_segment_header(index: u64, out: &mut Vec<u8>) {
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    header[0..8].copy_from_slice(&SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[16..24].copy_from_slice(&index.to_le_bytes());
    let crc = crc32c::crc32c(&header[..CRC_COVERS]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&header);
}

/// Checks a segment header and returns the index it names.
pub(crate) fn decode_segment_header(bytes: &[u8; SEGMENT_HEADER_LEN]) -> Result<u64, String> {
    if bytes[0..8] != SEGMENT_MAGIC {
        return Err(format!(
            "bad magic: not a format version {FORMAT_VERSION} chronokv log segment (logs of format version 1, which had no segment header, are not read)"
        ));
    }
    let stored_crc = u32::from_le_bytes(bytes[28..32].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[..CRC_COVERS]) != stored_crc {
        return Err("segment header checksum mismatch".to_owned());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(format!(
            "log format version {version} is not supported (this build reads version {FORMAT_VERSION})"
        ));
    }
    Ok(u64::from_le_bytes(
        bytes[16..24].try_into().expect("8 bytes"),
    ))
}

/// Appends one commit record (header + payload) to `out`. `synced` is the highest seq a
/// completed `fdatasync` covered when the record was written (see the crate docs, Recovery).
///
/// Fails with [`WalError::RecordTooLarge`] (leaving `out` untouched) when the payload is longer
/// than [`MAX_RECORD_LEN`].
pub fn encode_record(
    seq: u64,
    synced: u64,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), WalError> {
    if payload.len() > MAX_RECORD_LEN {
        return Err(WalError::RecordTooLarge {
            len: payload.len(),
            max: MAX_RECORD_LEN,
        });
    }
    out.reserve(HEADER_LEN + payload.len());
    push_header(Kind::Commit, seq, synced, payload, out);
    out.extend_from_slice(payload);
    Ok(())
}

/// Appends a seal: "segment ends here, continue in the next one". `seq` is the last seq written
/// before it (0 if none).
pub fn encode_seal(seq: u64, synced: u64, out: &mut Vec<u8>) {
    push_header(Kind::Seal, seq, synced, &[], out);
}

fn push_header(kind: Kind, seq: u64, synced: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).expect("MAX_RECORD_LEN fits in u32");
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&len.to_le_bytes());
    header[4] = kind as u8;
    header[8..16].copy_from_slice(&seq.to_le_bytes());
    header[16..24].copy_from_slice(&synced.to_le_bytes());
    header[24..28].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let header_crc = crc32c::crc32c(&header[..CRC_COVERS]);
    header[28..32].copy_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(&header);
}

/// A record header whose own crc matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub kind: Kind,
    /// Payload length, already checked against [`MAX_RECORD_LEN`] (0 for a seal).
    pub len: usize,
    pub seq: u64,
    pub synced: u64,
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
    /// The header's crc matched but its kind or reserved bytes are not ones this version writes.
    UnknownKind {
        kind: u8,
    },
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
    /// A seal whose seq is not the seq of the record before it.
    SealMismatch {
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
            BadRecord::UnknownKind { kind } => {
                write!(f, "unknown record kind {kind} (or reserved bytes set)")
            }
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
            BadRecord::SealMismatch { seq, last } => write!(
                f,
                "segment seal names seq {seq} but the last record before it has seq {last}"
            ),
            BadRecord::PayloadChecksum => f.write_str("payload checksum mismatch"),
        }
    }
}

/// Decodes a record header: its crc first, then kind, reserved bytes and length.
pub(crate) fn decode_header(bytes: &[u8; HEADER_LEN]) -> Result<Header, BadRecord> {
    let stored_crc = u32::from_le_bytes(bytes[28..32].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[..CRC_COVERS]) != stored_crc {
        return Err(BadRecord::HeaderChecksum);
    }
    let kind = match bytes[4] {
        1 => Kind::Commit,
        2 => Kind::Seal,
        other => return Err(BadRecord::UnknownKind { kind: other }),
    };
    if bytes[5..8] != [0, 0, 0] {
        return Err(BadRecord::UnknownKind { kind: bytes[4] });
    }
    let len = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    if len > MAX_RECORD_LEN {
        return Err(BadRecord::TooLong { len });
    }
    if kind == Kind::Seal && len != 0 {
        return Err(BadRecord::UnknownKind { kind: bytes[4] });
    }
    Ok(Header {
        kind,
        len,
        seq: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
        synced: u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")),
        payload_crc: u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_header_round_trip() {
        let mut out = vec![0xAA];
        encode_record(42, 40, b"hello", &mut out).unwrap();
        assert_eq!(out.len(), 1 + HEADER_LEN + 5);
        let header = decode_header(out[1..1 + HEADER_LEN].try_into().unwrap()).unwrap();
        assert_eq!(header.kind, Kind::Commit);
        assert_eq!(header.len, 5);
        assert_eq!(header.seq, 42);
        assert_eq!(header.synced, 40);
        assert_eq!(header.payload_crc, crc32c::crc32c(b"hello"));
        assert_eq!(&out[1 + HEADER_LEN..], b"hello");
    }

    #[test]
    fn format_seal_round_trip() {
        let mut out = Vec::new();
        encode_seal(7, 6, &mut out);
        assert_eq!(out.len(), HEADER_LEN);
        let header = decode_header(out[..].try_into().unwrap()).unwrap();
        assert_eq!(
            (header.kind, header.len, header.seq, header.synced),
            (Kind::Seal, 0, 7, 6)
        );
    }

    #[test]
    fn format_zeros_never_parse() {
        assert_ne!(crc32c::crc32c(&[0u8; CRC_COVERS]), 0);
        assert_eq!(
            decode_header(&[0u8; HEADER_LEN]),
            Err(BadRecord::HeaderChecksum)
        );
        assert!(decode_segment_header(&[0u8; SEGMENT_HEADER_LEN]).is_err());
    }

    #[test]
    fn format_segment_header_round_trip() {
        let mut out = Vec::new();
        encode_segment_header(9, &mut out);
        assert_eq!(out.len(), SEGMENT_HEADER_LEN);
        assert_eq!(decode_segment_header(out[..].try_into().unwrap()), Ok(9));
        let mut v1 = out.clone();
        v1[8] = 1;
        let crc = crc32c::crc32c(&v1[..CRC_COVERS]);
        v1[28..32].copy_from_slice(&crc.to_le_bytes());
        let err = decode_segment_header(v1[..].try_into().unwrap()).unwrap_err();
        assert!(err.contains("version 1"), "{err}");
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
        assert_eq!(parse_segment_file_name(&temp_segment_file_name(3)), None);
        assert!(is_temp_segment_file_name(&temp_segment_file_name(3)));
        assert!(!is_temp_segment_file_name(&segment_file_name(3)));
    }
}
