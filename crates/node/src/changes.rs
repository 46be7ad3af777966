//! `NativeChangesCursor`: batches of a rectangle query (every version in a key range x time
//! window).

use chronokv_engine::ChangesCursor;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::convert::{count, ts_to_js};
use crate::errors::{from_engine, guard, Result};

/// Bytes before each packed version's key: key_len u32, ts f64, value_len i32.
const PACKED_HEADER: usize = 4 + 8 + 4;

#[napi]
pub struct NativeChangesCursor {
    cursor: Option<ChangesCursor>,
}

impl NativeChangesCursor {
    pub fn new(cursor: ChangesCursor) -> Self {
        NativeChangesCursor {
            cursor: Some(cursor),
        }
    }
}

#[napi]
impl NativeChangesCursor {
    /// Up to `max` further versions packed into one Buffer (empty once exhausted or closed):
    /// per version `key_len:u32 LE | ts:f64 LE | value_len:i32 LE | key | value`, with
    /// value_len -1 for a delete.
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
                    out.reserve(PACKED_HEADER + key.len() + value.map_or(0, <[u8]>::len));
                    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                    out.extend_from_slice(&ts_to_js(ts).to_le_bytes());
                    // Values are at most 64 MiB, so the length fits an i32.
                    out.extend_from_slice(&value.map_or(-1, |v| v.len() as i32).to_le_bytes());
                    out.extend_from_slice(key);
                    out.extend_from_slice(value.unwrap_or_default());
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
