//! The engine's error type. Each variant says what the caller can do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use chronokv_wal::WalError;

/// Result alias for engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an engine call can fail with. A failed call changes nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something the engine cannot accept (empty or over-long key, value over
    /// the limit, bad timestamp, bad option). Fix the input; nothing was written.
    InvalidArgument(String),
    /// The handle (or the whole engine) was closed. Open the database again.
    Closed,
    /// Another process holds the database directory. Close it there, or wait.
    Locked {
        /// The database directory.
        path: PathBuf,
    },
    /// The database was opened read-only and the call would write.
    ReadOnly,
    /// A transaction lost a conflict: another commit after its snapshot wrote a key it writes
    /// (or, under serializable isolation, a key or range it read). Nothing was written; run
    /// the transaction again on a fresh snapshot.
    Conflict {
        /// The key the conflict was found on.
        key: Vec<u8>,
    },
    /// Stored data failed a checksum or a structural check. The data at `path` and `offset`
    /// needs repair or restoring from a backup; the engine refuses to guess.
    Corruption {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the damage in that file.
        offset: u64,
        /// What check failed.
        reason: String,
    },
    /// An operating-system call failed. The database may be usable again after the cause is
    /// fixed and it is reopened.
    Io {
        /// What the engine was doing.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// An earlier write or fsync of the log failed; to never acknowledge a write that may not be
    /// durable, the engine refuses all writes until it is reopened (which recovers from disk).
    Poisoned {
        /// The failure that poisoned the engine.
        cause: String,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::Closed => write!(f, "the database is closed"),
            Error::Locked { path } => write!(
                f,
                "the database at {} is held by another process",
                path.display()
            ),
            Error::ReadOnly => write!(f, "the database was opened read-only"),
            Error::Conflict { key } => write!(
                f,
                "transaction conflict on key {}: it changed after the transaction's snapshot",
                String::from_utf8_lossy(key)
            ),
            Error::Corruption {
                path,
                offset,
                reason,
            } => write!(
                f,
                "corruption in {} at byte offset {offset}: {reason}",
                path.display()
            ),
            Error::Io { op, path, source } => {
                write!(
                    f,
                    "I/O error while trying to {op} {}: {source}",
                    path.display()
                )
            }
            Error::Poisoned { cause } => write!(
                f,
                "the database refuses writes after a failed log write or fsync ({cause}); reopen it"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<WalError> for Error {
    fn from(err: WalError) -> Self {
        match err {
            WalError::Io { op, path, source } => Error::Io { op, path, source },
            WalError::Corruption {
                path,
                offset,
                reason,
            } => Error::Corruption {
                path,
                offset,
                reason,
            },
            WalError::Poisoned { cause } => Error::Poisoned { cause },
            WalError::Closed => Error::Closed,
            WalError::RecordTooLarge { len, max } => Error::InvalidArgument(format!(
                "a commit of {len} bytes is over the log's record limit of {max} bytes"
            )),
            other => Error::Poisoned {
                cause: other.to_string(),
            },
        }
    }
}
