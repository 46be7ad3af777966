//! Argument conversions shared by the entry points.

use std::ops::Bound;

use chronokv_engine::{Durability, Op, MAX_TIMESTAMP};
use napi::bindgen_prelude::Buffer;

use crate::errors::{coded, Result, INVALID_ARGUMENT};

/// A JS number that must be an integer timestamp in 0..=2^53-1.
pub fn timestamp(what: &str, value: f64) -> Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= MAX_TIMESTAMP as f64 {
        Ok(value as u64)
    } else {
        Err(coded(
            INVALID_ARGUMENT,
            format!("{what} must be an integer timestamp from 0 to 2^53-1, got {value}"),
        ))
    }
}

pub fn optional_timestamp(what: &str, value: Option<f64>) -> Result<Option<u64>> {
    value.map(|v| timestamp(what, v)).transpose()
}

/// A JS number that must be a non-negative integer count.
pub fn count(what: &str, value: f64) -> Result<usize> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
        Ok(value.min(usize::MAX as f64) as usize)
    } else {
        Err(coded(
            INVALID_ARGUMENT,
            format!("{what} must be a non-negative integer, got {value}"),
        ))
    }
}

pub fn durability(value: &str) -> Result<Durability> {
    match value {
        "sync" => Ok(Durability::Sync),
        "async" => Ok(Durability::Async),
        "none" => Ok(Durability::None),
        other => Err(coded(
            INVALID_ARGUMENT,
            format!("durability must be 'sync', 'async' or 'none', got {other:?}"),
        )),
    }
}

/// Timestamps cross into JS as numbers; they are below 2^53, so the conversion is exact.
pub fn ts_to_js(ts: u64) -> f64 {
    ts as f64
}

/// One side of a key range from its exclusive and inclusive spellings; both at once is an error.
pub fn bound(
    exclusive_name: &str,
    exclusive: Option<Buffer>,
    inclusive_name: &str,
    inclusive: Option<Buffer>,
) -> Result<Bound<Vec<u8>>> {
    match (exclusive, inclusive) {
        (Some(_), Some(_)) => Err(coded(
            INVALID_ARGUMENT,
            format!("give {exclusive_name} or {inclusive_name}, not both"),
        )),
        (Some(key), None) => Ok(Bound::Excluded(key.to_vec())),
        (None, Some(key)) => Ok(Bound::Included(key.to_vec())),
        (None, None) => Ok(Bound::Unbounded),
    }
}

/// The operations of a batch or a transaction: keys[i] gets values[i], a null value deletes.
pub fn ops<'a>(
    what: &str,
    keys: &'a [Buffer],
    values: &'a [Option<Buffer>],
) -> Result<Vec<Op<'a>>> {
    if keys.len() != values.len() {
        return Err(coded(
            INVALID_ARGUMENT,
            format!("{what} has {} keys but {} values", keys.len(), values.len()),
        ));
    }
    Ok(keys
        .iter()
        .zip(values)
        .map(|(key, value)| match value {
            Some(value) => Op::Put { key, value },
            None => Op::Delete { key },
        })
        .collect())
}
