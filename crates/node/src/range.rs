//! `NativeRangeCursor`: batches of a range scan.

use chronokv_engine::RangeCursor;
use napi_derive::napi;

use crate::convert::{count, ts_to_js};
use crate::errors::{from_engine, guard, Result};
use napi::bindgen_prelude::Buffer;

/// Bytes before each packed entry's key: key_len u32, ts f64, value_len u32.
const PACKED_HEADER: usize = 4 + 8 + 4;

#[napi]
pub struct NativeRangeCursor {
    cursor: Option<RangeCursor>,
}

impl NativeRangeCursor {
    pub fn new(cursor: RangeCursor) -> Self {
        NativeRangeCursor {
            cursor: Some(cursor),
        }
    }
}

#[napi]
impl NativeRangeCursor {
    /// Up to `max` further entries packed into one Buffer (empty once exhausted or closed):
    /// per entry `key_len:u32 LE | ts:f64 LE | value_len:u32 LE | key | value`. One allocation
    /// per batch instead of two Buffers and an object per entry.
    #[napi]
    pub fn next_packed(&mut self, max: f64) -> Result<Buffer> {
        guard(|| {
            let max = count("max", max)?;
            let Some(cursor) = self.cursor.as_mut() else {
                return Ok(Vec::new().into());
            };
            let mut out = Vec::new();
            cursor
                .next_batch(max, |key, ts, value| {
                    out.reserve(PACKED_HEADER + key.len() + value.len());
                    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                    out.extend_from_slice(&ts_to_js(ts).to_le_bytes());
                    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                    out.extend_from_slice(key);
                    out.extend_from_slice(value);
                })
                .map_err(from_engine)?;
            Ok(out.into())
        })
    }

    /// Releases the cursor's hold on the engine. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.cursor = None;
    }
}
