//! `NativeProgress`: a counter pair the facade polls to draw a progress bar while a check or a
//! backup runs on a pool thread.

use std::sync::Arc;

use chronokv_engine::Progress;
use napi_derive::napi;

#[napi]
pub struct NativeProgress {
    inner: Arc<Progress>,
}

impl NativeProgress {
    /// The engine's counters, for a task to update.
    pub fn shared(&self) -> Arc<Progress> {
        Arc::clone(&self.inner)
    }
}

#[napi]
impl NativeProgress {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeProgress {
            inner: Arc::new(Progress::new()),
        }
    }

    /// Units done so far.
    #[napi(getter)]
    pub fn done(&self) -> f64 {
        self.inner.done() as f64
    }

    /// The total as far as it is known (0 = not known yet).
    #[napi(getter)]
    pub fn total(&self) -> f64 {
        self.inner.total() as f64
    }
}
