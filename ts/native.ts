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
 *  generates from the Rust source (native/index.d.ts, committed and shipped). */
export type NativeBinding = typeof import('../native/index')

/** The opaque engine handle the hot-path functions take (see NativeDatabase.handle()). */
export type NativeHandle = ReturnType<import('../native/index').NativeDatabase['handle']>

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
