//! The one error of the format layer.

use std::fmt;

/// An extent (or a manifest) failed a check: a checksum, a length, a structural rule.
/// `offset` is relative to the start of the extent (of the manifest file) and always lies
/// within it: inside a compressed block it is the block's start, the reason naming the byte
/// of the decompressed payload. The engine adds the extent's place in its file and names the
/// file. Writers use it too, to refuse versions out of order (offset: bytes written so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Byte offset of the damaged part, from the start of the extent (or manifest).
    pub offset: u64,
    /// What check failed.
    pub reason: String,
}

impl FormatError {
    pub(crate) fn new(offset: usize, reason: impl Into<String>) -> Self {
        FormatError {
            offset: offset as u64,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extent damaged at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for FormatError {}
