//! Support for the crash harness (`__test__/recovery.spec.ts`).

use napi_derive::napi;

/// The engine's named crash points (`CHRONOKV_CRASH_AT=<point>[:<n>]` kills the process there).
#[napi]
pub fn crash_points() -> Vec<String> {
    chronokv_engine::CRASH_POINTS
        .iter()
        .map(|p| (*p).to_owned())
        .collect()
}
