/**
 * `history()` and `changes()` of the adapter's databases and sublevels: chronokv's version
 * listings, with keys and values decoded by abstract-level encodings.
 *
 * A database or sublevel is a *scope*: the stored keys behind the adapter prefix and, for a
 * sublevel, its abstract-level prefix (such as `!users!`). Both listings stay inside it.
 *
 * @packageDocumentation
 */

import type { Database } from '../database'
import type { Version } from '../types'
import { LevelError, toLevelError } from './errors'
import { levelKey, LOWEST_KEY, PAST_HIGHEST_KEY, storeKey } from './keys'
import type { ChronoChangesOptions, ChronoHistoryOptions, LevelVersion } from './options'

/** An encoding from `db.keyEncoding()` / `db.valueEncoding()`; its format is 'buffer' here. @internal */
export interface BufferEncoding {
  encode(data: unknown): Buffer
  decode(data: Buffer): any
}

/**
 * Where a database or sublevel keeps its keys, as level keys (before the adapter prefix).
 * @internal
 */
export interface Scope {
  /** The abstract-level prefix of the scope's keys: empty for a database, `!name!` for a sublevel. */
  prefix: Buffer
  /** The first level key past the scope; undefined for a database (its scope ends with the adapter's). */
  end: Buffer | undefined
}

/** The scope of a root database: every key. @internal */
export const ROOT_SCOPE: Scope = { prefix: Buffer.alloc(0), end: undefined }

/**
 * The scope of a sublevel with the global prefix `prefix` (as abstract-level builds it: names
 * between separators, ending in a separator): its keys are the ones that start with `prefix`,
 * and the first key past them is `prefix` with its final separator raised by one.
 * @internal
 */
export function sublevelScope(prefix: string): Scope {
  const bytes = Buffer.from(prefix, 'utf8')
  const end = Buffer.from(bytes)
  end[end.length - 1]! += 1
  return { prefix: bytes, end }
}

/** `history()`: every version of the scope's `key`. @internal */
export function readHistory<K, V>(
  db: Database<Buffer, Buffer>,
  scope: Scope,
  key: K,
  keyEncoding: BufferEncoding,
  valueEncoding: BufferEncoding,
  options: ChronoHistoryOptions<K, V> | undefined,
): Array<LevelVersion<K, V>> {
  if (key === null || key === undefined) {
    throw new LevelError('Key cannot be null or undefined', 'LEVEL_INVALID_KEY')
  }
  const stored = storeKey(Buffer.concat([scope.prefix, keyEncoding.encode(key)]))
  try {
    const query = { since: options?.since, until: options?.until, reverse: options?.reverse, limit: options?.limit }
    return db.history(stored, query).map((version) => toLevelVersion<K, V>(version, key, valueEncoding)).asArray
  } catch (err) {
    throw toLevelError(err)
  }
}

/** `changes()`: every version in a key range of the scope and a time window. @internal */
export function readChanges<K, V>(
  db: Database<Buffer, Buffer>,
  scope: Scope,
  keyEncoding: BufferEncoding,
  valueEncoding: BufferEncoding,
  options: ChronoChangesOptions<K, V> | undefined,
): Array<LevelVersion<K, V>> {
  const inScope = (key: K) => storeKey(Buffer.concat([scope.prefix, keyEncoding.encode(key)]))
  const gte = options?.gte !== undefined ? inScope(options.gte) : scope.prefix.length > 0 ? storeKey(scope.prefix) : LOWEST_KEY
  const lt = options?.lt !== undefined ? inScope(options.lt) : scope.end !== undefined ? storeKey(scope.end) : PAST_HIGHEST_KEY
  const strip = scope.prefix.length
  try {
    const query = { gte, lt, since: options?.since, until: options?.until, limit: options?.limit }
    return db
      .changes(query)
      .map((version) => toLevelVersion<K, V>(version, decodeKey<K>(keyEncoding, levelKey(version.key).subarray(strip)), valueEncoding))
      .asArray
  } catch (err) {
    throw toLevelError(err)
  }
}

function toLevelVersion<K, V>(version: Version<Buffer, Buffer>, key: K, valueEncoding: BufferEncoding): LevelVersion<K, V> {
  if (version.deleted) return { key, ts: version.ts, deleted: true }
  let value: V
  try {
    value = valueEncoding.decode(version.value) as V
  } catch (err) {
    throw new LevelError('Could not decode value', 'LEVEL_DECODE_ERROR', { cause: err })
  }
  return { key, ts: version.ts, value, deleted: false }
}

function decodeKey<K>(encoding: BufferEncoding, key: Buffer): K {
  try {
    return encoding.decode(key) as K
  } catch (err) {
    throw new LevelError('Could not decode key', 'LEVEL_DECODE_ERROR', { cause: err })
  }
}
