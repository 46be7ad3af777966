//! Recovery: replay every intact record, tell a torn tail (cut it) from damage to synced data
//! (refuse to open), and leave the log ready for appends.

use std::path::{Path, PathBuf};

use crate::checkpoint::{Sealed, SealedSegment};
use crate::error::WalError;
use crate::flusher::Tail;
use crate::format::{
    decode_header, decode_segment_header, is_temp_segment_file_name, parse_segment_file_name,
    BadRecord, Header, Kind, HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::segment::{create_segment, segment_size, Segment};
use crate::storage::Storage;

/// How much of a segment is read at a time.
const WINDOW: usize = 1 << 20;

/// Non-zero bytes closer than this are zeroed with one write.
const COALESCE: u64 = 4096;

/// The replay callback [`Wal::open`](crate::Wal::open) takes.
pub(crate) type Replay<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), WalError>;

/// What recovery hands to the flusher.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub tail: Tail,
    /// Empty segments after the tail, in index order, ready to be rotated into.
    pub spares: Vec<Segment>,
    /// The segments before the tail (all sealed), oldest first.
    pub sealed: Sealed,
    /// Bytes of the replayed commit records.
    pub bytes: u64,
}

/// Opens (creating if needed) the log in `dir` and replays it; see the crate docs.
pub(crate) fn recover(
    storage: &dyn Storage,
    dir: &Path,
    segment_bytes: u64,
    replay: Replay<'_>,
) -> Result<Recovered, WalError> {
    storage
        .create_dir_all(dir)
        .map_err(|e| WalError::io("create_dir", dir, e))?;
    let names = storage
        .list(dir)
        .map_err(|e| WalError::io("list", dir, e))?;
    let temps: Vec<PathBuf> = names
        .iter()
        .filter(|name| is_temp_segment_file_name(name))
        .map(|name| dir.join(name))
        .collect();
    let mut indices: Vec<u64> = names
        .iter()
        .filter_map(|name| parse_segment_file_name(name))
        .collect();
    indices.sort_unstable();

    if indices.is_empty() {
        // (creating segment 1 syncs the directory)
        remove_temps(storage, &temps)?;
        let seg = create_segment(storage, dir, 1, segment_size(1, segment_bytes), None)?
            .expect("no stop flag");
        return Ok(Recovered {
            tail: Tail {
                seg,
                pos: SEGMENT_HEADER_LEN as u64,
                last_seq: 0,
                bytes: 0,
            },
            spares: Vec::new(),
            sealed: Sealed::new(),
            bytes: 0,
        });
    }

    let mut segments = Vec::with_capacity(indices.len());
    for (i, &index) in indices.iter().enumerate() {
        let path = dir.join(crate::format::segment_file_name(index));
        if i > 0 && indices[i - 1] + 1 != index {
            return Err(WalError::Corruption {
                path,
                offset: 0,
                reason: format!(
                    "segment {} is missing between segments {} and {index}",
                    indices[i - 1] + 1,
                    indices[i - 1]
                ),
            });
        }
        segments.push(open_segment(storage, path, index)?);
    }

    // Replay up to the first record that is not intact: the end of the log, or damage.
    let mut window = Vec::new();
    let mut last_seq = 0;
    let mut bytes = 0;
    let mut seg_bytes = 0;
    let mut sealed = Sealed::new();
    // Whether `last_seq` is the seq of the last record before the current position. It is at
    // the start of segment 1. A checkpoint may have removed the segments before the first
    // one left, and if that one was sealed empty (passed over by a record larger than a
    // segment) its seal names the seq of a commit in a removed segment: that seal is taken as
    // it is, and gives the baseline.
    let mut anchored = segments[0].index == 1;
    let mut end = None;
    'segments: for i in 0..segments.len() {
        let last_segment = i + 1 == segments.len();
        let seg = &mut segments[i];
        let mut reader = Reader::new(seg, &mut window);
        let mut offset = SEGMENT_HEADER_LEN as u64;
        loop {
            let checked = match reader.check(offset, anchored.then_some(last_seq))? {
                Ok(header) if header.kind == Kind::Commit && header.seq == 0 => {
                    // Unanchored, the seq was not compared; seqs start above 0 in any case.
                    Err(BadRecord::SeqNotIncreasing { seq: 0, last: 0 })
                }
                checked => checked,
            };
            match checked {
                Ok(header) if header.kind == Kind::Commit => {
                    let payload = reader.get(offset + HEADER_LEN as u64, header.len)?;
                    replay(header.seq, payload)?;
                    last_seq = header.seq;
                    anchored = true;
                    let len = (HEADER_LEN + header.len) as u64;
                    offset += len;
                    bytes += len;
                    seg_bytes += len;
                }
                Ok(_seal) if last_segment => {
                    return Err(WalError::Corruption {
                        path: seg.path.clone(),
                        offset,
                        reason: format!(
                            "the segment is sealed but the next one ({}) is missing",
                            crate::format::segment_file_name(seg.index + 1)
                        ),
                    });
                }
                Ok(seal) => {
                    last_seq = seal.seq;
                    anchored = true;
                    sealed.push_back(SealedSegment {
                        index: seg.index,
                        last_seq,
                        record_bytes: seg_bytes,
                        file_bytes: seg.capacity,
                    });
                    seg_bytes = 0;
                    continue 'segments;
                }
                Err(bad) => {
                    end = Some((i, offset, bad));
                    break 'segments;
                }
            }
        }
    }
    let (tail, end_offset, bad) = end.expect("the last segment is never passed by a seal");

    // Everything after the end is either a torn tail (written, never synced, so never
    // acknowledged under Sync) or damage to synced data. Only a later intact record can tell:
    // it names the highest seq that was synced when it was written.
    let mut dirty = Vec::new();
    for (i, seg) in segments.iter_mut().enumerate().skip(tail) {
        let from = if i == tail {
            end_offset
        } else {
            SEGMENT_HEADER_LEN as u64
        };
        let mut reader = Reader::new(seg, &mut window);
        if let Some((offset, synced)) = reader.scan(from, last_seq, &mut dirty, i)? {
            let seg = &segments[tail];
            return Err(WalError::Corruption {
                path: seg.path.clone(),
                offset: end_offset,
                reason: format!(
                    "{bad}; an intact record after it ({} offset {offset}) shows that the log had been synced up to seq {synced}, past the last good seq {last_seq}",
                    segments[i].path.display()
                ),
            });
        }
    }

    // A torn tail: zero it (the space stays preallocated), so that nothing from the previous
    // run can reappear after the records appended next, and make it durable.
    let mut synced = vec![false; segments.len()];
    let mut dirty = dirty.into_iter().peekable();
    let zeros = vec![0u8; WINDOW];
    while let Some((i, mut start, end)) = dirty.next() {
        let seg = &mut segments[i];
        while start < end {
            let n = (end - start).min(WINDOW as u64) as usize;
            seg.file
                .write_all_at(start, &zeros[..n])
                .map_err(|e| WalError::io("zero", &seg.path, e))?;
            start += n as u64;
        }
        if dirty.peek().is_none_or(|&(next, _, _)| next != i) {
            sync(seg)?;
            synced[i] = true;
        }
    }
    // Records the flusher writes next claim that everything replayed is synced, and a process
    // killed between a write and its fdatasync may have left the last segments unsynced.
    for i in tail.saturating_sub(1)..=tail {
        if !synced[i] {
            sync(&mut segments[i])?;
        }
    }
    // A previous run may have been killed between renaming a prepared segment into place and
    // syncing the directory; a seal will soon point at such a spare, so its name must be
    // durable first. This also removes the leftover `.tmp` files durably.
    remove_temps(storage, &temps)?;
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("sync_dir", dir, e))?;

    let spares = segments.split_off(tail + 1);
    let seg = segments.pop().expect("the tail segment");
    Ok(Recovered {
        tail: Tail {
            seg,
            pos: end_offset,
            last_seq,
            bytes: seg_bytes,
        },
        spares,
        sealed,
        bytes,
    })
}

/// Opens a segment and checks its header.
fn open_segment(storage: &dyn Storage, path: PathBuf, index: u64) -> Result<Segment, WalError> {
    let mut file = storage
        .open(&path)
        .map_err(|e| WalError::io("open", &path, e))?;
    let len = file.len().map_err(|e| WalError::io("stat", &path, e))?;
    let corrupt = |reason: String| WalError::Corruption {
        path: path.clone(),
        offset: 0,
        reason,
    };
    if len < SEGMENT_HEADER_LEN as u64 {
        return Err(corrupt(format!(
            "the segment is {len} bytes long, shorter than its header"
        )));
    }
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    file.read_exact_at(0, &mut header)
        .map_err(|e| WalError::io("read", &path, e))?;
    match decode_segment_header(&header) {
        Ok(found) if found == index => {}
        Ok(found) => {
            return Err(corrupt(format!(
                "the segment's header names segment {found}"
            )))
        }
        Err(reason) => return Err(corrupt(reason)),
    }
    Ok(Segment {
        index,
        path,
        file,
        capacity: len,
    })
}

fn sync(seg: &mut Segment) -> Result<(), WalError> {
    seg.file
        .sync_data()
        .map_err(|e| WalError::io("fdatasync", &seg.path, e))
}

/// Removes segments a previous run was still preparing (not synced: the caller syncs the
/// directory).
fn remove_temps(storage: &dyn Storage, temps: &[PathBuf]) -> Result<(), WalError> {
    for path in temps {
        storage
            .remove(path)
            .map_err(|e| WalError::io("remove", path, e))?;
    }
    Ok(())
}

/// Reads a segment through a window of up to [`WINDOW`] bytes (more for a larger record).
struct Reader<'a> {
    seg: &'a mut Segment,
    len: u64,
    window: &'a mut Vec<u8>,
    /// File offset of `window[0]`.
    start: u64,
}

impl<'a> Reader<'a> {
    fn new(seg: &'a mut Segment, window: &'a mut Vec<u8>) -> Self {
        window.clear();
        Reader {
            len: seg.capacity,
            seg,
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
            self.load(offset, n)?;
        }
        let from = usize::try_from(offset - self.start).expect("inside the window");
        Ok(&self.window[from..from + n])
    }

    /// The bytes from `offset` to the end of what is loaded (at least one byte; `offset` is
    /// inside the file).
    fn peek(&mut self, offset: u64) -> Result<&[u8], WalError> {
        let end = self.start + self.window.len() as u64;
        if offset < self.start || offset >= end {
            self.load(offset, 1)?;
        }
        let from = usize::try_from(offset - self.start).expect("inside the window");
        Ok(&self.window[from..])
    }

    fn load(&mut self, offset: u64, n: usize) -> Result<(), WalError> {
        let want = n
            .max(WINDOW)
            .min(usize::try_from(self.len - offset).unwrap_or(usize::MAX));
        if self.window.capacity() > 4 * WINDOW && want <= WINDOW {
            // Do not keep a huge record's buffer around for the rest of the scan.
            *self.window = Vec::new();
        }
        self.window.clear();
        self.window.resize(want, 0);
        if let Err(e) = self.seg.file.read_exact_at(offset, self.window) {
            self.window.clear();
            return Err(WalError::io("read", &self.seg.path, e));
        }
        self.start = offset;
        Ok(())
    }

    /// Checks the record at `offset`: header crc, kind, length, then (when `last_seq` is given)
    /// the seq (a commit's must be above it, a seal's equal to it), then the payload crc.
    fn check(
        &mut self,
        offset: u64,
        last_seq: Option<u64>,
    ) -> Result<Result<Header, BadRecord>, WalError> {
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
        match (last_seq, header.kind) {
            (Some(last), Kind::Commit) if header.seq <= last => {
                return Ok(Err(BadRecord::SeqNotIncreasing {
                    seq: header.seq,
                    last,
                }));
            }
            (Some(last), Kind::Seal) if header.seq != last => {
                return Ok(Err(BadRecord::SealMismatch {
                    seq: header.seq,
                    last,
                }));
            }
            _ => {}
        }
        let payload = self.get(offset + HEADER_LEN as u64, header.len)?;
        if crc32c::crc32c(payload) != header.payload_crc {
            return Ok(Err(BadRecord::PayloadChecksum));
        }
        Ok(Ok(header))
    }

    /// The offset of the first non-zero byte at or after `from`.
    fn next_nonzero(&mut self, from: u64) -> Result<Option<u64>, WalError> {
        let mut offset = from;
        while offset < self.len {
            let bytes = self.peek(offset)?;
            if let Some(i) = first_nonzero(bytes) {
                return Ok(Some(offset + i as u64));
            }
            offset += bytes.len() as u64;
        }
        Ok(None)
    }

    /// Scans `from..` for intact records (commits or seals, whatever their seq) and returns the
    /// first one whose `synced` is above `last_seq`, with that value. Every non-zero range seen
    /// is added to `dirty` as `(segment, start, end)`.
    ///
    /// A header is never all zeros, so runs of zeros are skipped quickly; every other offset is
    /// tried (most fail the header crc).
    fn scan(
        &mut self,
        from: u64,
        last_seq: u64,
        dirty: &mut Vec<(usize, u64, u64)>,
        segment: usize,
    ) -> Result<Option<(u64, u64)>, WalError> {
        let mut offset = from;
        while offset < self.len {
            let Some(nonzero) = self.next_nonzero(offset)? else {
                break;
            };
            mark(dirty, segment, nonzero, nonzero + 1);
            // No header that ends before `nonzero` can hold a non-zero byte.
            offset = offset.max((nonzero + 1).saturating_sub(HEADER_LEN as u64));
            match self.check(offset, None)? {
                Ok(header) => {
                    let end = offset + (HEADER_LEN + header.len) as u64;
                    mark(dirty, segment, offset, end);
                    if header.synced > last_seq {
                        return Ok(Some((offset, header.synced)));
                    }
                    offset = end;
                }
                Err(_) => offset += 1,
            }
        }
        Ok(None)
    }
}

/// Adds `start..end` of `segment` to the ranges to zero, merging with the last one when close.
fn mark(dirty: &mut Vec<(usize, u64, u64)>, segment: usize, start: u64, end: u64) {
    if let Some(last) = dirty.last_mut() {
        if last.0 == segment && start <= last.2 + COALESCE {
            last.2 = last.2.max(end);
            return;
        }
    }
    dirty.push((segment, start, end));
}

/// The index of the first non-zero byte, looking at 64 bytes at a time.
fn first_nonzero(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(64);
    let mut base = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            return chunk.iter().position(|&b| b != 0).map(|i| base + i);
        }
        base += 64;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b != 0)
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_first_nonzero_finds_every_position() {
        for len in [0usize, 1, 63, 64, 65, 200] {
            assert_eq!(first_nonzero(&vec![0u8; len]), None);
            for at in 0..len {
                let mut bytes = vec![0u8; len];
                bytes[at] = 1;
                if at + 1 < len {
                    bytes[len - 1] = 7;
                }
                assert_eq!(first_nonzero(&bytes), Some(at), "len {len} at {at}");
            }
        }
    }
}
