//! The one error of the format layer.

use std::fmt;

/// An extent failed a check: a checksum, a length, a structural rule. `offset` is relative to
/// the start of the extent; the engine adds the extent's place in its file and names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Byte offset of the damaged part, from the start of the extent.
    pub offset: u64,
    /// What check failed.
    pub reason: String,
}

impl FormatError {
    pub(crate) fn new(offset: usize, reason: impl Into<String>) -> Self {
        FormatError { offset: offset as u64, reason: reason.into() }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extent damaged at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for FormatError {}
