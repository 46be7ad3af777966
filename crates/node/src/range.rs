//! `NativeRangeCursor`: batches of a range scan.

use chronokv_engine::RangeCursor;
use napi_derive::napi;

use crate::convert::{count, ts_to_js};
use crate::errors::{from_engine, guard, Result};
use napi::bindgen_prelude::Buffer;

#[napi(object)]
pub struct NativeKeyedEntry {
    pub key: Buffer,
    pub ts: f64,
    pub value: Buffer,
}

#[napi]
pub struct NativeRangeCursor {
    cursor: Option<RangeCursor>,
}

impl NativeRangeCursor {
    pub fn new(cursor: RangeCursor) -> Self {
        NativeRangeCursor { cursor: Some(cursor) }
    }
}

#[napi]
impl NativeRangeCursor {
    /// Up to `max` further entries; an empty array once exhausted or closed.
    #[napi]
    pub fn next(&mut self, max: f64) -> Result<Vec<NativeKeyedEntry>> {
        guard(|| {
            let max = count("max", max)?;
            let Some(cursor) = self.cursor.as_mut() else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(max.min(1024));
            cursor
                .next_batch(max, |key, ts, value| {
                    out.push(NativeKeyedEntry {
                        key: key.to_vec().into(),
                        ts: ts_to_js(ts),
                        value: value.to_vec().into(),
                    });
                })
                .map_err(from_engine)?;
            Ok(out)
        })
    }

    /// Releases the cursor's hold on the engine. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.cursor = None;
    }
}
