//! The napi-rs binding of chronokv: marshalling and error mapping only. No engine logic, no
//! defaults (those live in ts/options.ts), no atomics.
//!
//! - Every entry point runs inside [`errors::guard`], so a panic becomes a `CHRONOKV_INTERNAL`
//!   error instead of unwinding into Node.
//! - Every error's message starts with its stable code (`CHRONOKV_CLOSED: ...`), for sync
//!   throws and async rejections alike; sync throws also carry it as `err.code`. The facade's
//!   one mapping function (ts/errors.ts) reads either.
//! - Writes return their commit timestamp synchronously; durability is awaited separately
//!   through `waitDurable`, which the facade coalesces (one wait per batch of writes).
//! - The two point reads (`getInto`, `hasKey`) are plain Node-API callbacks (raw.rs): napi-rs's
//!   per-call bookkeeping cost more than the read. Same rules, no napi-rs glue.

// napi objects hold JS references that have no useful Debug form.
#![allow(missing_debug_implementations)]

mod changes;
mod check;
mod convert;
mod database;
mod errors;
mod fast;
mod maintenance;
mod pin;
mod progress;
mod range;
mod raw;
mod testing;
mod transaction;
mod wait;

pub use changes::NativeChangesCursor;
pub use check::check_database;
pub use database::NativeDatabase;
pub use fast::{delete_key, put_value};
pub use pin::NativeSnapshotPin;
pub use progress::NativeProgress;
pub use range::NativeRangeCursor;
pub use raw::register_raw_reads;
pub use testing::crash_points;
pub use transaction::commit_transaction;
