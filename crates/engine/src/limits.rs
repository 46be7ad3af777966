//! Limits on user input, checked before anything is written.

use crate::{Error, Result};

/// Longest key, in encoded bytes.
pub const MAX_KEY_BYTES: usize = 4096;
/// Largest value, in encoded bytes (64 MiB).
pub const MAX_VALUE_BYTES: usize = 64 << 20;
/// Largest timestamp a JavaScript number holds exactly (2^53 - 1).
pub const MAX_TIMESTAMP: u64 = (1 << 53) - 1;

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidArgument("a key must not be empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidArgument(format!(
            "a key is {} bytes long; the limit is {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(())
}

pub(crate) fn check_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::InvalidArgument(format!(
            "a value is {} bytes long; the limit is {MAX_VALUE_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

pub(crate) fn check_timestamp(what: &str, ts: u64) -> Result<()> {
    if ts > MAX_TIMESTAMP {
        return Err(Error::InvalidArgument(format!(
            "{what} {ts} is above the largest timestamp {MAX_TIMESTAMP}"
        )));
    }
    Ok(())
}
