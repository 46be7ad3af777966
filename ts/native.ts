/**
 * The one module that touches the native binding.
 *
 * The binding is loaded on first use rather than at import time, so that importing chronokv
 * never throws and a missing or broken binary surfaces as a rejected `open()` with a clear
 * message. The path is relative to this file's folder: ts/ when run from source (tsx) and dist/
 * when compiled are both one level below the repository root.
 *
 * @internal
 * @packageDocumentation
 */

/** The module object that native/index.js exports, typed by the declarations `napi build`
 *  generates from the Rust source (native/index.d.ts, committed and shipped), plus the point
 *  reads the addon registers by hand (see {@link RawReads}). */
export type NativeBinding = typeof import('../native/index') & RawReads

/** The opaque engine handle the hot-path functions take (see NativeDatabase.handle()). */
export type NativeHandle = ReturnType<import('../native/index').NativeDatabase['handle']>

/**
 * The point reads, registered as plain Node-API callbacks (crates/node/src/raw.rs) because
 * napi-rs's per-call bookkeeping cost more than a read; napi-rs generates no declarations for
 * them. Keys are `key[0..keyLen]`; `at` undefined means now.
 */
export interface RawReads {
  /**
   * Copies [commit ts as f64 LE | value] of the live value into `out` at `offset` and returns
   * the value's length; -1 when there is none. Copies nothing when `out` lacks the room after
   * `offset` (the caller retries with more).
   */
  getInto(handle: NativeHandle, key: Buffer, keyLen: number, at: number | undefined, out: Buffer, offset: number): number
  /** True when the key has a live value at `at`. */
  hasKey(handle: NativeHandle, key: Buffer, keyLen: number, at: number | undefined): boolean
}

export type {
  NativeBackupStats,
  NativeChangesCursor,
  NativeCheckReport,
  NativeChangesOptions,
  NativeCompactStats,
  NativeDatabase,
  NativeSnapshotPin,
  NativeEntry,
  NativeHistoryOptions,
  NativeKeyRange,
  NativeOpenOptions,
  NativeProgress,
  NativeRangeCursor,
  NativeRangeOptions,
  NativeStats,
} from '../native/index'

let binding: NativeBinding | undefined

/**
 * Returns the loaded binding, loading it on the first call.
 * @throws whatever `require` throws when the binary is missing or does not fit this platform.
 */
export function loadNative(): NativeBinding {
  binding ??= require('../native/index.js') as NativeBinding
  return binding
}
