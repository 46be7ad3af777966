//! Read-only verification of a log directory, for `chronokv check`.
//!
//! Unlike recovery, which stops replaying at the first record that is not intact and then
//! decides between a torn tail and corruption, the verifier walks every segment to its end and
//! reports every problem it finds, each with its file and byte offset: a bad segment header, a
//! missing segment, a record whose header or payload fails its crc32c, seqs out of order, a seal
//! on the last segment, non-zero bytes where the preallocated zeros should be. After a damaged
//! record it looks for the next intact one (skipping zeros quickly, trying every other byte
//! offset, as recovery's scan does) and carries on from there.
//!
//! It opens files only to read them and never writes, truncates, zeroes or removes anything;
//! the caller holds the database's lock so no flusher writes meanwhile.
//!
//! A problem in the last segment with no intact record after it is what a crash leaves behind
//! (a torn tail, which the next open cuts); anything else is damage the next open refuses. The
//! message says which.

use std::path::{Path, PathBuf};

use crate::format::{
    decode_header, decode_segment_header, parse_segment_file_name, segment_file_name, Kind,
    HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::storage::Storage;
use crate::WalError;

/// One thing wrong in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProblem {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset of the damaged record (or header) in that file.
    pub offset: u64,
    /// What check failed.
    pub reason: String,
}

/// Inspects an intact commit record's payload (given its seq); `Err` says what is wrong.
pub type InspectRecord<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), String>;

/// What [`verify_log`] looked at and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogCheck {
    /// Segment files checked.
    pub segments: u64,
    /// Intact commit records (their payloads passed their crc32c and the caller's inspection).
    pub records: u64,
    /// Bytes of the segment files read.
    pub bytes: u64,
    /// Everything wrong, in file and offset order.
    pub problems: Vec<LogProblem>,
}

/// Checks every segment of the log in `dir`; see the module docs. `inspect(seq, payload)` is
/// called on each intact commit record and may name what is wrong with its payload; `on_bytes`
/// is told how many bytes each segment had once it is done. Fails only when the directory or a
/// file cannot be read.
pub fn verify_log(
    storage: &dyn Storage,
    dir: &Path,
    inspect: InspectRecord<'_>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<LogCheck, WalError> {
    let mut check = LogCheck::default();
    let names = match storage.list(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(check),
        Err(e) => return Err(WalError::io("list", dir, e)),
    };
    let mut indices: Vec<u64> = names
        .iter()
        .filter_map(|name| parse_segment_file_name(name))
        .collect();
    indices.sort_unstable();
    let mut walk = Walk {
        last_seq: None,
        check: &mut check,
    };
    for (i, &index) in indices.iter().enumerate() {
        let path = dir.join(segment_file_name(index));
        if i > 0 && indices[i - 1] + 1 != index {
            walk.problem(
                &path,
                0,
                format!(
                    "segment {} is missing between segments {} and {index}",
                    indices[i - 1] + 1,
                    indices[i - 1]
                ),
            );
        }
        let bytes = read_all(storage, &path)?;
        walk.check.segments += 1;
        walk.check.bytes += bytes.len() as u64;
        let last = i + 1 == indices.len();
        walk.segment(&path, index, &bytes, last, inspect);
        on_bytes(bytes.len() as u64);
    }
    Ok(check)
}

fn read_all(storage: &dyn Storage, path: &Path) -> Result<Vec<u8>, WalError> {
    let mut file = storage
        .open(path)
        .map_err(|e| WalError::io("open", path, e))?;
    let len = file.len().map_err(|e| WalError::io("stat", path, e))?;
    let len = usize::try_from(len).map_err(|_| {
        WalError::io(
            "read",
            path,
            std::io::Error::other("the segment does not fit in memory"),
        )
    })?;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(0, &mut bytes)
        .map_err(|e| WalError::io("read", path, e))?;
    Ok(bytes)
}

struct Walk<'a> {
    /// The seq of the last intact record (None before the first one).
    last_seq: Option<u64>,
    check: &'a mut LogCheck,
}

/// What is at an offset of a segment.
enum Found {
    Commit { len: usize, seq: u64 },
    Seal { seq: u64 },
    Bad(String),
}

impl Walk<'_> {
    fn problem(&mut self, path: &Path, offset: u64, reason: String) {
        self.check.problems.push(LogProblem {
            path: path.to_path_buf(),
            offset,
            reason,
        });
    }

    fn segment(
        &mut self,
        path: &Path,
        index: u64,
        bytes: &[u8],
        last: bool,
        inspect: InspectRecord<'_>,
    ) {
        let Some(header) = bytes.first_chunk::<SEGMENT_HEADER_LEN>() else {
            let reason = format!(
                "the segment is {} bytes long, shorter than its header",
                bytes.len()
            );
            self.problem(path, 0, reason);
            return;
        };
        match decode_segment_header(header) {
            Ok(found) if found == index => {}
            Ok(found) => {
                self.problem(
                    path,
                    0,
                    format!("the segment's header names segment {found}"),
                );
            }
            Err(reason) => {
                // The records may still be readable; go on and report them too.
                self.problem(path, 0, reason);
            }
        }
        let mut offset = SEGMENT_HEADER_LEN;
        while offset < bytes.len() {
            if bytes[offset..].iter().all(|&b| b == 0) {
                // The preallocated zeros after the last record.
                return;
            }
            let window = &bytes[offset..bytes.len().min(offset + HEADER_LEN)];
            let found = if window.iter().all(|&b| b == 0) {
                // Zeros, then something: stray bytes where the preallocated zeros should be.
                offset += bytes[offset..].iter().position(|&b| b != 0).unwrap_or(0);
                Found::Bad("non-zero bytes where the log's preallocated zeros should be".to_owned())
            } else {
                self.record(bytes, offset)
            };
            match found {
                Found::Commit { len, seq } => {
                    let payload = &bytes[offset + HEADER_LEN..offset + HEADER_LEN + len];
                    if let Err(reason) = inspect(seq, payload) {
                        let reason =
                            format!("commit {seq} passed its checksum but is malformed: {reason}");
                        self.problem(path, offset as u64, reason);
                    }
                    self.check.records += 1;
                    self.last_seq = Some(seq);
                    offset += HEADER_LEN + len;
                }
                Found::Seal { seq } => {
                    self.last_seq = Some(seq);
                    if last {
                        let reason = format!(
                            "the segment is sealed but the next one ({}) is missing",
                            segment_file_name(index + 1)
                        );
                        self.problem(path, offset as u64, reason);
                    }
                    let rest = offset + HEADER_LEN;
                    if let Some(at) = bytes[rest..].iter().position(|&b| b != 0) {
                        let reason = "non-zero bytes after the segment's seal".to_owned();
                        self.problem(path, (rest + at) as u64, reason);
                    }
                    return;
                }
                Found::Bad(reason) => {
                    let next = self.next_intact(bytes, offset + 1);
                    let what = match next {
                        Some(_) => "damage before intact records: opening the database fails until it is repaired",
                        None if last => "a torn tail, as a crash leaves it: the next open drops this record and everything after it",
                        None => "damage in a segment before the last: opening the database fails until it is repaired",
                    };
                    self.problem(path, offset as u64, format!("{reason} ({what})"));
                    match next {
                        Some(at) => offset = at,
                        None => return,
                    }
                }
            }
        }
    }

    /// Checks the record at `offset` (header crc, kind, length, payload crc, seq order).
    fn record(&self, bytes: &[u8], offset: usize) -> Found {
        let Some(header) = bytes[offset..].first_chunk::<HEADER_LEN>() else {
            return Found::Bad(format!(
                "truncated header: only {} bytes left in the file",
                bytes.len() - offset
            ));
        };
        let header = match decode_header(header) {
            Ok(header) => header,
            Err(bad) => return Found::Bad(bad.to_string()),
        };
        let start = offset + HEADER_LEN;
        if header.len > bytes.len() - start {
            return Found::Bad(format!(
                "record length {} runs past the end of the file ({} payload bytes left)",
                header.len,
                bytes.len() - start
            ));
        }
        if crc32c::crc32c(&bytes[start..start + header.len]) != header.payload_crc {
            return Found::Bad("payload checksum mismatch".to_owned());
        }
        match (header.kind, self.last_seq) {
            (Kind::Commit, Some(last)) if header.seq <= last => Found::Bad(format!(
                "seq {} is not greater than the previous seq {last}",
                header.seq
            )),
            (Kind::Commit, _) if header.seq == 0 => {
                Found::Bad("a commit with seq 0 (seqs start above 0)".to_owned())
            }
            (Kind::Commit, _) => Found::Commit {
                len: header.len,
                seq: header.seq,
            },
            (Kind::Seal, Some(last)) if header.seq != last => Found::Bad(format!(
                "segment seal names seq {} but the last record before it has seq {last}",
                header.seq
            )),
            (Kind::Seal, _) => Found::Seal { seq: header.seq },
        }
    }

    /// The offset of the next intact record at or after `from`, if any.
    fn next_intact(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let mut offset = from;
        while offset + HEADER_LEN <= bytes.len() {
            let nonzero = offset + bytes[offset..].iter().position(|&b| b != 0)?;
            // No header that ends before `nonzero` can hold a non-zero byte.
            offset = offset.max((nonzero + 1).saturating_sub(HEADER_LEN));
            // Seq order is not asked of a record found by scanning: the damage may have hidden
            // the records between.
            let probe = Walk {
                last_seq: None,
                check: &mut LogCheck::default(),
            };
            match probe.record(bytes, offset) {
                Found::Bad(_) => offset += 1,
                _ => return Some(offset),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_record, encode_seal, encode_segment_header};
    use crate::FsStorage;

    fn segment(index: u64, records: &[(u64, &[u8])], seal: Option<u64>, size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode_segment_header(index, &mut out);
        for (seq, payload) in records {
            encode_record(*seq, 0, payload, &mut out).unwrap();
        }
        if let Some(seq) = seal {
            encode_seal(seq, 0, &mut out);
        }
        out.resize(size, 0);
        out
    }

    fn run(dir: &Path) -> LogCheck {
        let mut bytes = 0;
        let check = verify_log(&FsStorage, dir, &mut |_, _| Ok(()), &mut |n| bytes += n).unwrap();
        assert_eq!(bytes, check.bytes);
        check
    }

    #[test]
    fn verify_log_clean_segments_have_no_problems() {
        let dir = tempfile::tempdir().unwrap();
        let one = segment(1, &[(1, b"a"), (2, b"bb")], Some(2), 4096);
        let two = segment(2, &[(5, b"ccc")], None, 4096);
        std::fs::write(dir.path().join(segment_file_name(1)), one).unwrap();
        std::fs::write(dir.path().join(segment_file_name(2)), two).unwrap();
        let check = run(dir.path());
        assert_eq!(check.problems, vec![]);
        assert_eq!((check.segments, check.records, check.bytes), (2, 3, 8192));
    }

    #[test]
    fn verify_log_reports_every_damaged_record_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let records: [(u64, &[u8]); 4] = [(1, b"one"), (2, b"two"), (3, b"six"), (4, b"ten")];
        let mut bytes = segment(1, &records, None, 4096);
        let at = |i: usize| SEGMENT_HEADER_LEN + i * (HEADER_LEN + 3);
        bytes[at(1) + HEADER_LEN + 2] ^= 0x40; // the payload of record 2
        bytes[at(3) + 3] ^= 0x01; // the header of record 4
        let path = dir.path().join(segment_file_name(1));
        std::fs::write(&path, &bytes).unwrap();
        let check = run(dir.path());
        let found: Vec<(u64, bool)> = check
            .problems
            .iter()
            .map(|p| (p.offset, p.path == path))
            .collect();
        assert_eq!(
            found,
            vec![(at(1) as u64, true), (at(3) as u64, true)],
            "{:#?}",
            check.problems
        );
        assert!(check.problems[0].reason.contains("payload checksum"));
        assert!(check.problems[0]
            .reason
            .contains("damage before intact records"));
        assert!(check.problems[1].reason.contains("header checksum"));
        assert!(check.problems[1].reason.contains("torn tail"));
        assert_eq!(check.records, 2, "records 1 and 3 are intact");
    }

    #[test]
    fn verify_log_reports_stray_bytes_among_the_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = segment(1, &[(1, b"one")], None, 4096);
        bytes[2000] = 7;
        std::fs::write(dir.path().join(segment_file_name(1)), &bytes).unwrap();
        let check = run(dir.path());
        assert_eq!(check.problems.len(), 1, "{:#?}", check.problems);
        assert_eq!(check.problems[0].offset, 2000);
        assert!(check.problems[0].reason.contains("non-zero bytes"));
    }

    #[test]
    fn verify_log_reports_a_missing_segment_a_bad_header_and_a_seal_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut one = segment(1, &[(1, b"a")], Some(1), 1024);
        one[3] ^= 0xFF;
        std::fs::write(dir.path().join(segment_file_name(1)), one).unwrap();
        let three = segment(3, &[(4, b"b")], Some(4), 1024);
        std::fs::write(dir.path().join(segment_file_name(3)), three).unwrap();
        let check = run(dir.path());
        let reasons: Vec<&str> = check.problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("bad magic"));
        assert!(reasons[1].contains("segment 2 is missing"));
        assert!(reasons[2].contains("sealed but the next one"));
        assert_eq!(check.records, 2);
    }

    #[test]
    fn verify_log_survives_every_truncation_and_bit_flip() {
        let dir = tempfile::tempdir().unwrap();
        let clean = segment(1, &[(1, b"payload one"), (2, b"payload two")], None, 200);
        let path = dir.path().join(segment_file_name(1));
        for cut in 0..clean.len() {
            std::fs::write(&path, &clean[..cut]).unwrap();
            run(dir.path());
        }
        for byte in 0..120 {
            let mut damaged = clean.clone();
            damaged[byte] ^= 0x10;
            std::fs::write(&path, &damaged).unwrap();
            let check = run(dir.path());
            assert!(!check.problems.is_empty(), "flip at {byte} went unnoticed");
        }
    }

    #[test]
    fn verify_log_of_a_missing_directory_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(run(&dir.path().join("nope")), LogCheck::default());
    }
}
