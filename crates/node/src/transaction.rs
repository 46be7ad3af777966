//! Committing a transaction: its buffered writes plus what it read, validated by the engine.

use std::ops::Bound;
use std::sync::Arc;

use chronokv_engine::{Handle, Validation};
use napi::bindgen_prelude::{Buffer, External};
use napi_derive::napi;

use crate::convert::{bound, ops, timestamp, ts_to_js};
use crate::errors::{from_engine, guard, Result};

/// A key range with owned bounds.
type OwnedKeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// A key range a transaction scanned (at most one bound per side).
#[napi(object)]
pub struct NativeKeyRange {
    pub gt: Option<Buffer>,
    pub gte: Option<Buffer>,
    pub lt: Option<Buffer>,
    pub lte: Option<Buffer>,
}

/// Commits a transaction that read at `readTs`: writes keys[i] = values[i] (null deletes)
/// atomically unless a commit after `readTs` wrote one of `keys` or, for serializable
/// transactions, one of `readKeys` or a key inside one of `readRanges` (CHRONOKV_CONFLICT,
/// nothing written). Returns the commit timestamp (visible once waitDurable resolves), or
/// `readTs`'s watermark for a transaction with no writes.
#[napi]
pub fn commit_transaction(
    handle: &External<Arc<Handle>>,
    keys: Vec<Buffer>,
    values: Vec<Option<Buffer>>,
    read_ts: f64,
    read_keys: Vec<Buffer>,
    read_ranges: Vec<NativeKeyRange>,
) -> Result<f64> {
    guard(|| {
        let read_ts = timestamp("readTs", read_ts)?;
        let ranges: Vec<OwnedKeyRange> = read_ranges
            .into_iter()
            .map(|r| {
                Ok((
                    bound("gt", r.gt, "gte", r.gte)?,
                    bound("lt", r.lt, "lte", r.lte)?,
                ))
            })
            .collect::<Result<_>>()?;
        let validation = Validation {
            read_ts,
            read_keys: read_keys.iter().map(|k| &k[..]).collect(),
            read_ranges: ranges
                .iter()
                .map(|(lo, hi)| {
                    (
                        lo.as_ref().map(Vec::as_slice),
                        hi.as_ref().map(Vec::as_slice),
                    )
                })
                .collect(),
        };
        let ops = ops("transaction", &keys, &values)?;
        let db = if ops.is_empty() {
            handle.db()
        } else {
            handle.writable()
        }
        .map_err(from_engine)?;
        db.write_transaction(&ops, &validation)
            .map(ts_to_js)
            .map_err(from_engine)
    })
}
