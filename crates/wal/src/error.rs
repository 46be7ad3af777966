//! The one error type of the write-ahead log.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the write-ahead log.
#[derive(Debug)]
#[non_exhaustive]
pub enum WalError {
    /// A file-system call failed while opening or recovering the log (a write or sync failure
    /// in the flusher is reported as [`WalError::Poisoned`] instead).
    ///
    /// What the caller can do: report it with the path; fix the cause (permissions, disk full,
    /// missing mount) and open the log again. Nothing was acknowledged that is not on disk.
    Io {
        /// The operation that failed, for example `"open"`, `"read"`, `"truncate"`.
        op: &'static str,
        /// The file or directory it was applied to.
        path: PathBuf,
        /// The error the operating system returned.
        source: io::Error,
    },
    /// Recovery found a damaged record followed by intact records: the damage is in the
    /// middle of the log, not a torn tail, so dropping it would lose acknowledged commits.
    ///
    /// What the caller can do: refuse to open and report the file and offset; restore from a
    /// backup, or (with the user's consent) truncate the file at `offset` by hand, which drops
    /// every record from there on.
    Corruption {
        /// The segment file holding the bad record.
        path: PathBuf,
        /// Byte offset of the bad record's header in that file.
        offset: u64,
        /// What was wrong with the record.
        reason: String,
    },
    /// An earlier write or sync of the log failed, so the log accepts nothing more. Records
    /// that were not acknowledged before the failure may or may not be on disk.
    ///
    /// What the caller can do: fail the commit, stop writing, and close and reopen the database
    /// (recovery decides what survived). Retrying on the same handle cannot succeed.
    Poisoned {
        /// The failure that poisoned the log, as text.
        cause: String,
    },
    /// The log was closed (or its flusher stopped) before the request could be served.
    ///
    /// What the caller can do: nothing on this handle; open the log again if more writes are
    /// needed.
    Closed,
    /// A payload was larger than [`MAX_RECORD_LEN`](crate::MAX_RECORD_LEN). Nothing was queued.
    ///
    /// What the caller can do: reject the write as an invalid argument, or split it.
    RecordTooLarge {
        /// The payload's length.
        len: usize,
        /// The largest payload accepted.
        max: usize,
    },
    /// An append's seq was not greater than the seq of the previous append (or of the last
    /// recovered record). Nothing was queued; writing it would make the log unrecoverable.
    ///
    /// What the caller can do: this is a bug in the caller's sequencing (appends must be made
    /// in seq order under one lock); fail the commit.
    OutOfOrder {
        /// The seq that was rejected.
        seq: u64,
        /// The highest seq appended before it.
        last: u64,
    },
}

impl WalError {
    /// Wraps an I/O error with the operation and path it came from.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalError::Io { op, path, source } => {
                write!(f, "wal i/o error: {op} {}: {source}", path.display())
            }
            WalError::Corruption {
                path,
                offset,
                reason,
            } => write!(
                f,
                "wal corruption in {} at offset {offset}: {reason}",
                path.display()
            ),
            WalError::Poisoned { cause } => {
                write!(f, "wal is poisoned by an earlier failure: {cause}")
            }
            WalError::Closed => f.write_str("wal is closed"),
            WalError::RecordTooLarge { len, max } => {
                write!(f, "wal record of {len} bytes exceeds the maximum of {max}")
            }
            WalError::OutOfOrder { seq, last } => {
                write!(f, "wal append of seq {seq} is not after seq {last}")
            }
        }
    }
}

impl std::error::Error for WalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WalError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
