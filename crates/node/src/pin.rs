//! `NativeSnapshotPin`: keeps what a snapshot or transaction can see from being collected.

use chronokv_engine::SnapshotPin;
use napi_derive::napi;

use crate::convert::ts_to_js;

/// Released by `release()` or, if the facade never calls it, when V8 collects this object.
#[napi]
pub struct NativeSnapshotPin {
    pin: Option<SnapshotPin>,
    ts: f64,
}

impl NativeSnapshotPin {
    pub fn new(pin: SnapshotPin) -> Self {
        let ts = ts_to_js(pin.ts());
        NativeSnapshotPin { pin: Some(pin), ts }
    }
}

#[napi]
impl NativeSnapshotPin {
    /// The pinned timestamp.
    #[napi(getter)]
    pub fn ts(&self) -> f64 {
        self.ts
    }

    /// Lets compaction collect what only this pin kept. Idempotent.
    #[napi]
    pub fn release(&mut self) {
        self.pin = None;
    }
}
