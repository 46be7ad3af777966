/**
 * chronokv: an embedded, durable, temporal key-value store. Every committed write is kept as a
 * version with a commit timestamp, so any key can be read as of any past moment.
 *
 * @example
 * ```ts
 * import { open } from 'chronokv'
 *
 * const db = await open<string, { name: string }>('./data/users')
 * const ts = await db.put('alice', { name: 'Alice' })
 * await db.delete('alice')
 * db.get('alice')            // undefined
 * db.get('alice', { at: ts }) // { name: 'Alice' }
 * await db.close()
 * ```
 *
 * @packageDocumentation
 */

import { resolve } from 'node:path'
import { Database } from './database'
import { ChronoError, ErrorCode, fromNative, InvalidArgumentError } from './errors'
import { loadNative } from './native'
import { resolveCheckOptions, resolveOpenOptions, type OpenOptions } from './options'
import { withProgress } from './progress'
import type { CheckOptions, CheckReport } from './types'

/**
 * Opens the database in directory `path`, creating it unless `createIfMissing: false`.
 * Opening a path that this process already has open (from any worker thread) joins the same
 * engine.
 *
 * @typeParam K - the key type: string by default; Uint8Array (or Buffer) with
 *   `keyEncoding: 'binary'`; anything with a custom codec.
 * @typeParam V - the value type.
 * @returns a promise of the open {@link Database}. It rejects with InvalidArgumentError for bad
 *   options, LockedError when another process holds the database, CorruptionError or IoError
 *   when it cannot be recovered or read.
 */
export async function open<K = string, V = any>(
  path: string,
  options?: OpenOptions<K, V>,
): Promise<Database<K, V>> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('open() expects a non-empty directory path.')
  }
  const resolved = resolveOpenOptions<K, V>(options)
  const absolute = resolve(path)
  let binding
  try {
    binding = loadNative()
  } catch (err) {
    throw new ChronoError(
      `chronokv's native binding could not be loaded: ${(err as Error)?.message ?? String(err)}`,
      ErrorCode.INTERNAL,
      { cause: err },
    )
  }
  try {
    return new Database<K, V>(binding.NativeDatabase.open(absolute, resolved.native), absolute, resolved)
  } catch (err) {
    throw fromNative(err)
  }
}

/**
 * Verifies every checksum of the database in directory `path` — its log segments, its
 * manifest and every block of every extent — without changing anything, and lists every
 * problem with its file and byte offset (not only the first). The database must not be open:
 * not in another process, nor in this one.
 *
 * @returns a promise of the report; `report.problems` is empty for a healthy database. It
 *   rejects with LockedError while the database is open, IoError when `path` is not a chronokv
 *   database or cannot be read.
 */
export async function check(path: string, options?: CheckOptions): Promise<CheckReport> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('check() expects a non-empty directory path.')
  }
  const { onProgress } = resolveCheckOptions(options)
  try {
    const binding = loadNative()
    const progress = new binding.NativeProgress()
    return await withProgress(progress, onProgress, binding.checkDatabase(resolve(path), progress))
  } catch (err) {
    throw fromNative(err)
  }
}

export { MAX_KEY_BYTES, MAX_VALUE_BYTES, MIN_KEY_BYTES, type Codec } from './codecs'
export { ChangeFeed } from './change-feed'
export { Database } from './database'
export { Snapshot } from './snapshot'
export { Transaction } from './transaction'
export {
  ChronoError,
  ClosedError,
  ConflictError,
  CorruptionError,
  ErrorCode,
  InvalidArgumentError,
  IoError,
  LockedError,
  ReadOnlyError,
} from './errors'
export {
  MAX_TIMESTAMP,
  type Durability,
  type KeyEncoding,
  type OpenOptions,
  type RetentionOptions,
  type ValueEncoding,
} from './options'
export { RangeIterable } from './range-iterable'
export type {
  At,
  BackupOptions,
  BackupResult,
  BatchOp,
  CheckOptions,
  CheckProblem,
  CheckReport,
  ChangesOptions,
  CompactResult,
  DeleteVersion,
  Entry,
  HistoryOptions,
  Isolation,
  LiveChangesOptions,
  PendingEntry,
  RunTransactionOptions,
  SnapshotOptions,
  TransactionEntry,
  TransactionOptions,
  ProgressListener,
  PutVersion,
  RangeOptions,
  ReadOptions,
  Stats,
  Timestamp,
  Version,
} from './types'
