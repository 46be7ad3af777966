//! Recovery: replay every intact record, tell a torn tail (cut it) from damage in the middle
//! of the log (refuse to open).

use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::format::{
    decode_header, parse_segment_file_name, segment_file_name, BadRecord, Header, HEADER_LEN,
};
use crate::storage::{LogFile, Storage};

/// How much of a segment is read at a time.
const WINDOW: usize = 1 << 20;

/// The replay callback [`Wal::open`](crate::Wal::open) takes.
pub(crate) type Replay<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), WalError>;

/// What recovery hands to the flusher.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Seq of the last replayed record, 0 if none.
    pub last_seq: u64,
    /// The last segment, positioned to append after its valid data.
    pub tail: Box<dyn LogFile>,
    pub tail_path: PathBuf,
    /// Bytes in all segments after any truncation.
    pub bytes: u64,
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    file: Box<dyn LogFile>,
    len: u64,
}

/// Opens (creating if needed) the log in `dir` and replays it; see the crate docs.
pub(crate) fn recover(
    storage: &dyn Storage,
    dir: &Path,
    replay: Replay<'_>,
) -> Result<Recovered, WalError> {
    storage
        .create_dir_all(dir)
        .map_err(|e| WalError::io("create_dir", dir, e))?;
    let names = storage
        .list(dir)
        .map_err(|e| WalError::io("list", dir, e))?;
    let mut ordered: Vec<(u64, String)> = names
        .into_iter()
        .filter_map(|name| parse_segment_file_name(&name).map(|first| (first, name)))
        .collect();
    ordered.sort();

    if ordered.is_empty() {
        let path = dir.join(segment_file_name(1));
        let tail = storage
            .create(&path)
            .map_err(|e| WalError::io("create", &path, e))?;
        storage
            .sync_dir(dir)
            .map_err(|e| WalError::io("sync_dir", dir, e))?;
        return Ok(Recovered {
            last_seq: 0,
            tail,
            tail_path: path,
            bytes: 0,
        });
    }

    let mut segments = Vec::with_capacity(ordered.len());
    for (_, name) in ordered {
        let path = dir.join(name);
        let file = storage
            .open(&path)
            .map_err(|e| WalError::io("open", &path, e))?;
        let len = file.len().map_err(|e| WalError::io("stat", &path, e))?;
        segments.push(Segment { path, file, len });
    }

    let mut window = Vec::new();
    let mut last_seq = 0;
    for i in 0..segments.len() {
        let seg = &mut segments[i];
        let mut reader = Reader::new(&mut *seg.file, &seg.path, seg.len, &mut window);
        let Some((bad_offset, bad)) = replay_segment(&mut reader, &mut last_seq, replay)? else {
            continue;
        };
        // Damage at `bad_offset`: is any intact record left after it?
        let mut later = reader.scan_for_valid(bad_offset + 1, last_seq)?;
        for seg in &mut segments[i + 1..] {
            if later.is_some() {
                break;
            }
            let mut reader = Reader::new(&mut *seg.file, &seg.path, seg.len, &mut window);
            later = reader.scan_for_valid(0, last_seq)?;
        }
        if later.is_some() {
            return Err(WalError::Corruption {
                path: segments[i].path.clone(),
                offset: bad_offset,
                reason: bad.to_string(),
            });
        }
        // A torn tail: cut it, and empty any later segment (none holds a valid record).
        truncate(&mut segments[i], bad_offset)?;
        for seg in &mut segments[i + 1..] {
            truncate(seg, 0)?;
        }
        break;
    }

    let bytes = segments.iter().map(|s| s.len).sum();
    let tail = segments.pop().expect("at least one segment");
    Ok(Recovered {
        last_seq,
        tail: tail.file,
        tail_path: tail.path,
        bytes,
    })
}

/// Replays the valid records of one segment. Returns the offset of the first invalid record
/// and what was wrong with it, or `None` if the whole segment is valid.
fn replay_segment(
    reader: &mut Reader<'_>,
    last_seq: &mut u64,
    replay: Replay<'_>,
) -> Result<Option<(u64, BadRecord)>, WalError> {
    let mut offset = 0;
    while offset < reader.len {
        match reader.check(offset, *last_seq)? {
            Ok(header) => {
                let payload = reader.get(offset + HEADER_LEN as u64, header.len)?;
                replay(header.seq, payload)?;
                *last_seq = header.seq;
                offset += (HEADER_LEN + header.len) as u64;
            }
            Err(bad) => return Ok(Some((offset, bad))),
        }
    }
    Ok(None)
}

fn truncate(seg: &mut Segment, len: u64) -> Result<(), WalError> {
    seg.file
        .set_len(len)
        .map_err(|e| WalError::io("truncate", &seg.path, e))?;
    seg.file
        .sync_data()
        .map_err(|e| WalError::io("sync", &seg.path, e))?;
    seg.len = len;
    Ok(())
}

/// Reads a segment through a window of up to [`WINDOW`] bytes (more for a larger record).
struct Reader<'a> {
    file: &'a mut dyn LogFile,
    path: &'a Path,
    len: u64,
    window: &'a mut Vec<u8>,
    /// File offset of `window[0]`.
    start: u64,
}

impl<'a> Reader<'a> {
    fn new(file: &'a mut dyn LogFile, path: &'a Path, len: u64, window: &'a mut Vec<u8>) -> Self {
        window.clear();
        Reader {
            file,
            path,
            len,
            window,
            start: 0,
        }
    }

    /// The `n` bytes at `offset`. The caller has checked that they lie inside the file, so
    /// nothing is allocated beyond the file's size.
    fn get(&mut self, offset: u64, n: usize) -> Result<&[u8], WalError> {
        debug_assert!(offset + n as u64 <= self.len);
        let end = self.start + self.window.len() as u64;
        if offset < self.start || offset + n as u64 > end {
            let want = n
                .max(WINDOW)
                .min(usize::try_from(self.len - offset).unwrap_or(usize::MAX));
            if self.window.capacity() > 4 * WINDOW && want <= WINDOW {
                // Do not keep a huge record's buffer around for the rest of the scan.
                *self.window = Vec::new();
            }
            self.window.clear();
            self.window.resize(want, 0);
            if let Err(e) = self.file.read_exact_at(offset, self.window) {
                self.window.clear();
                return Err(WalError::io("read", self.path, e));
            }
            self.start = offset;
        }
        let from = usize::try_from(offset - self.start).expect("inside the window");
        Ok(&self.window[from..from + n])
    }

    /// Checks the record at `offset`: header crc, length, seq, then payload crc.
    fn check(&mut self, offset: u64, last_seq: u64) -> Result<Result<Header, BadRecord>, WalError> {
        let left = self.len - offset;
        if left < HEADER_LEN as u64 {
            return Ok(Err(BadRecord::ShortHeader { left }));
        }
        let bytes: &[u8; HEADER_LEN] = self
            .get(offset, HEADER_LEN)?
            .try_into()
            .expect("HEADER_LEN bytes");
        let header = match decode_header(bytes) {
            Ok(header) => header,
            Err(bad) => return Ok(Err(bad)),
        };
        let left = left - HEADER_LEN as u64;
        if header.len as u64 > left {
            return Ok(Err(BadRecord::PastEnd {
                len: header.len,
                left,
            }));
        }
        if header.seq <= last_seq {
            return Ok(Err(BadRecord::SeqNotIncreasing {
                seq: header.seq,
                last: last_seq,
            }));
        }
        let payload = self.get(offset + HEADER_LEN as u64, header.len)?;
        if crc32c::crc32c(payload) != header.payload_crc {
            return Ok(Err(BadRecord::PayloadChecksum));
        }
        Ok(Ok(header))
    }

    /// The offset of the first valid record (seq above `last_seq`) at or after `from`, trying
    /// every byte offset. Cheap per offset: most fail the 16-byte header crc.
    fn scan_for_valid(&mut self, from: u64, last_seq: u64) -> Result<Option<u64>, WalError> {
        let mut offset = from;
        while offset + HEADER_LEN as u64 <= self.len {
            if self.check(offset, last_seq)?.is_ok() {
                return Ok(Some(offset));
            }
            offset += 1;
        }
        Ok(None)
    }
}
