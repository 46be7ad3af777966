/**
 * Options: their types, defaults and validation. Every option object and every time or limit
 * argument a user passes is checked here, so the binding only ever sees well-typed input.
 * Unknown option names and wrong types are refused with {@link InvalidArgumentError}.
 *
 * @packageDocumentation
 */

import { types } from 'node:util'
import {
  binaryCodec,
  describe,
  isCodec,
  jsonCodec,
  msgpackCodec,
  preloadMsgpack,
  utf8Codec,
  type Codec,
} from './codecs'
import { InvalidArgumentError } from './errors'
import type { NativeChangesOptions, NativeHistoryOptions, NativeOpenOptions, NativeRangeOptions } from './native'
import type { ChangesOptions, HistoryOptions, LiveChangesOptions, ProgressListener, RangeOptions, Timestamp } from './types'
import { DEFAULT_POLL_MS, type FeedOptions } from './change-feed'

/**
 * When a write's promise resolves:
 * - `'sync'` (default): after the write-ahead log is fsynced (writes arriving together share one fsync);
 * - `'async'`: once the operating system has the write; the fsync follows shortly after;
 * - `'none'`: the log is never fsynced (tests, caches): a machine crash can lose recent writes.
 */
export type Durability = 'sync' | 'async' | 'none'

/**
 * How keys are encoded: `'utf8'` for string keys (the default), `'binary'` for Buffer or
 * Uint8Array keys (read back as Buffers), or a {@link Codec}. Keys sort by their encoded bytes.
 */
export type KeyEncoding<K> =
  | Codec<K>
  | ([K] extends [string] ? 'utf8' : never)
  | ([K] extends [Uint8Array] ? 'binary' : never)

/**
 * How values are encoded: `'json'` (the default), `'msgpack'`, `'utf8'` for strings, `'binary'`
 * for Buffer or Uint8Array values (read back as Buffers), or a {@link Codec}.
 */
export type ValueEncoding<V> =
  | Codec<V>
  | 'json'
  | 'msgpack'
  | ([V] extends [string] ? 'utf8' : never)
  | ([V] extends [Uint8Array] ? 'binary' : never)

/**
 * How long history is kept. `db.compact()` collects versions older than `maxAgeMs`, except the
 * ones a read inside the window still sees, the newest `minVersions` of every key, and whatever
 * an open snapshot or transaction can see. Reads (`get`, `getRange`, `snapshot`...) at a time
 * before the retention horizon (`stats().retentionHorizon`) then fail with InvalidArgumentError
 * rather than answer from partial history; `history()` and `changes()` list what remains.
 */
export interface RetentionOptions {
  /** History older than this many milliseconds may be collected (a number > 0). */
  maxAgeMs?: number
  /** Always keep at least this many versions per key (an integer > 0). */
  minVersions?: number
}

/** Options of `open()`. */
export interface OpenOptions<K = string, V = any> {
  /** How keys are encoded (default `'utf8'`). */
  keyEncoding?: KeyEncoding<K>
  /**
   * How values are encoded (default `'json'`). With `'binary'` (and custom codecs, which get
   * the bytes to keep), point reads return Buffers that are views of a shared 16 KiB slab, as
   * `Buffer.allocUnsafe` returns views of Node's pool: each value's bytes are its own and never
   * overwritten, but `value.buffer` is the whole slab (use `byteOffset` and `byteLength`).
   */
  valueEncoding?: ValueEncoding<V>
  /** When writes resolve (default `'sync'`). */
  durability?: Durability
  /** Create the database when the directory holds none (default true). */
  createIfMissing?: boolean
  /** Refuse every write with ReadOnlyError (default false). */
  readOnly?: boolean
  /** History retention, applied by `db.compact()` (default: keep every version). */
  retention?: RetentionOptions
  /**
   * Memtable budget in bytes (default 64 MiB): past it, the in-memory table is frozen and
   * written to extents on disk in the background. Writers wait only when two frozen tables
   * are already waiting for their flush.
   */
  memtableBytes?: number
}

/** Open options after validation and defaults. @internal */
export interface ResolvedOpenOptions<K, V> {
  keyCodec: Codec<K>
  valueCodec: Codec<V>
  readOnly: boolean
  native: NativeOpenOptions
  retention: Required<RetentionOptions> | undefined
  memtableBytes: number | undefined
}

/** The largest timestamp chronokv accepts: 2^53 - 1. */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER

const OPEN_OPTION_NAMES = new Set([
  'keyEncoding',
  'valueEncoding',
  'durability',
  'createIfMissing',
  'readOnly',
  'retention',
  'memtableBytes',
])
const RETENTION_OPTION_NAMES = new Set(['maxAgeMs', 'minVersions'])
const READ_OPTION_NAMES = new Set(['at'])
const RANGE_OPTION_NAMES = new Set(['gt', 'gte', 'lt', 'lte', 'reverse', 'limit', 'at'])
const CHANGES_OPTION_NAMES = new Set(['gte', 'lt', 'since', 'until', 'limit', 'live'])
const LIVE_CHANGES_OPTION_NAMES = new Set(['live', 'gte', 'lt', 'since', 'until', 'signal', 'pollIntervalMs'])
const MAX_POLL_MS = 3_600_000
const HISTORY_OPTION_NAMES = new Set(['since', 'until', 'reverse', 'limit'])
const DURABILITIES: ReadonlySet<unknown> = new Set<Durability>(['sync', 'async', 'none'])

/**
 * Checks that `value` is undefined or a plain options object whose keys are all in `allowed`.
 * Returns the object (or undefined).
 */
function optionsObject(
  what: string,
  value: unknown,
  allowed: ReadonlySet<string>,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(value)}.`)
  }
  // for-in rather than Object.keys: no array per call (point reads pass options millions of
  // times); inherited enumerable names are skipped like Object.keys skips them.
  for (const name in value) {
    if (!allowed.has(name) && Object.prototype.hasOwnProperty.call(value, name)) {
      throw new InvalidArgumentError(
        `Unknown option '${name}' in ${what}; expected one of: ${[...allowed].join(', ')}.`,
      )
    }
  }
  return value as Record<string, unknown>
}

function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(`Option '${name}' must be a boolean, got ${describe(value)}.`)
  }
  return value
}

function positiveNumber(name: string, value: unknown, integer: boolean): number {
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (integer ? Number.isSafeInteger(value) : Number.isFinite(value))
  if (!ok) {
    const kind = integer ? 'a positive integer' : 'a positive finite number'
    throw new InvalidArgumentError(`Option '${name}' must be ${kind}, got ${describe(value)}.`)
  }
  return value as number
}

function keyCodecFor(value: unknown): Codec<any> {
  if (value === undefined || value === 'utf8') return utf8Codec
  if (value === 'binary') return binaryCodec
  if (isCodec(value)) return value
  throw new InvalidArgumentError(
    `Option 'keyEncoding' must be 'utf8', 'binary' or a codec { encode, decode }, got ${describe(value)}.`,
  )
}

function valueCodecFor(value: unknown): Codec<any> {
  if (value === undefined || value === 'json') return jsonCodec
  if (value === 'utf8') return utf8Codec
  if (value === 'binary') return binaryCodec
  if (value === 'msgpack') {
    preloadMsgpack()
    return msgpackCodec
  }
  if (isCodec(value)) return value
  throw new InvalidArgumentError(
    `Option 'valueEncoding' must be 'json', 'utf8', 'binary', 'msgpack' or a codec { encode, decode }, got ${describe(value)}.`,
  )
}

function retentionFrom(value: unknown): Required<RetentionOptions> | undefined {
  const retention = optionsObject("option 'retention'", value, RETENTION_OPTION_NAMES)
  if (retention === undefined) return undefined
  return {
    maxAgeMs:
      retention.maxAgeMs === undefined
        ? Infinity
        : positiveNumber('retention.maxAgeMs', retention.maxAgeMs, false),
    minVersions:
      retention.minVersions === undefined
        ? 1
        : positiveNumber('retention.minVersions', retention.minVersions, true),
  }
}

/**
 * Validates the options of `open()` and applies the defaults.
 * @throws InvalidArgumentError for unknown names or wrong types.
 * @internal
 */
export function resolveOpenOptions<K, V>(options: unknown): ResolvedOpenOptions<K, V> {
  const o = optionsObject('open() options', options, OPEN_OPTION_NAMES) ?? {}
  const durability = o.durability === undefined ? 'sync' : o.durability
  if (!DURABILITIES.has(durability)) {
    throw new InvalidArgumentError(
      `Option 'durability' must be 'sync', 'async' or 'none', got ${describe(durability)}.`,
    )
  }
  const readOnly = optionalBoolean('readOnly', o.readOnly, false)
  const retention = retentionFrom(o.retention)
  const memtableBytes =
    o.memtableBytes === undefined ? undefined : positiveNumber('memtableBytes', o.memtableBytes, true)
  return {
    keyCodec: keyCodecFor(o.keyEncoding),
    valueCodec: valueCodecFor(o.valueEncoding),
    readOnly,
    native: {
      durability: durability as Durability,
      createIfMissing: optionalBoolean('createIfMissing', o.createIfMissing, true),
      readOnly,
      memtableBytes,
      // An infinite window keeps everything: the same as no retention.
      retentionMaxAgeMs:
        retention !== undefined && Number.isFinite(retention.maxAgeMs)
          ? Math.min(Math.ceil(retention.maxAgeMs), Math.floor(MAX_TIMESTAMP / 1000))
          : undefined,
      retentionMinVersions: retention?.minVersions,
    },
    retention,
    memtableBytes,
  }
}

/**
 * Converts an `at`, `since` or `until` argument to a timestamp in microseconds: a number must be
 * an integer in 0..2^53-1; a valid Date counts as its milliseconds * 1000.
 * @param name - the argument's name, for the error message.
 * @throws InvalidArgumentError
 * @internal
 */
export function toTimestamp(name: string, value: unknown): Timestamp {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value + 0 // + 0 turns -0 into 0
    throw new InvalidArgumentError(
      `'${name}' must be an integer number of microseconds in 0..2^53-1 or a Date, got ${describe(value)}.`,
    )
  }
  if (types.isDate(value)) {
    const micros = (value as Date).getTime() * 1000
    if (Number.isSafeInteger(micros) && micros >= 0) return micros + 0
    throw new InvalidArgumentError(
      `'${name}' must be a valid Date between 1970 and 2255, got ${String(value)}.`,
    )
  }
  throw new InvalidArgumentError(
    `'${name}' must be a timestamp (integer microseconds) or a Date, got ${describe(value)}.`,
  )
}

/**
 * Validates a `limit`: a non-negative safe integer.
 * @throws InvalidArgumentError
 * @internal
 */
export function toLimit(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value + 0
  throw new InvalidArgumentError(`'limit' must be a non-negative integer, got ${describe(value)}.`)
}

function optionalTimestamp(name: string, value: unknown): Timestamp | undefined {
  return value === undefined ? undefined : toTimestamp(name, value)
}

/**
 * The `at` of point-read options (`get`, `getEntry`, `has`, `getMany`); undefined means now.
 * @throws InvalidArgumentError
 * @internal
 */
export function readAt(options: unknown): Timestamp | undefined {
  if (options === undefined) return undefined
  const o = optionsObject('read options', options, READ_OPTION_NAMES)
  return optionalTimestamp('at', o?.at)
}

/**
 * Validates `getRange` options and encodes their bounds with `encodeKey`. `at` is left
 * undefined when not given; the caller fixes it.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveRangeOptions<K>(
  options: RangeOptions<K> | undefined,
  encodeKey: (key: K) => Buffer,
): NativeRangeOptions {
  const o = optionsObject('getRange() options', options, RANGE_OPTION_NAMES) ?? {}
  if (o.gt !== undefined && o.gte !== undefined) {
    throw new InvalidArgumentError("getRange() accepts 'gt' or 'gte', not both.")
  }
  if (o.lt !== undefined && o.lte !== undefined) {
    throw new InvalidArgumentError("getRange() accepts 'lt' or 'lte', not both.")
  }
  const resolved: NativeRangeOptions = { reverse: optionalBoolean('reverse', o.reverse, false) }
  if (o.gt !== undefined) resolved.gt = encodeKey(o.gt as K)
  if (o.gte !== undefined) resolved.gte = encodeKey(o.gte as K)
  if (o.lt !== undefined) resolved.lt = encodeKey(o.lt as K)
  if (o.lte !== undefined) resolved.lte = encodeKey(o.lte as K)
  if (o.limit !== undefined) resolved.limit = toLimit(o.limit)
  if (o.at !== undefined) resolved.at = toTimestamp('at', o.at)
  return resolved
}

/**
 * Validates `history` options.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveHistoryOptions(options: HistoryOptions | undefined): NativeHistoryOptions {
  const o = optionsObject('history() options', options, HISTORY_OPTION_NAMES) ?? {}
  const resolved: NativeHistoryOptions = { reverse: optionalBoolean('reverse', o.reverse, false) }
  if (o.since !== undefined) resolved.since = toTimestamp('since', o.since)
  if (o.until !== undefined) resolved.until = toTimestamp('until', o.until)
  if (o.limit !== undefined) resolved.limit = toLimit(o.limit)
  return resolved
}

/**
 * Validates `changes` options and encodes their key bounds with `encodeKey`.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveChangesOptions<K>(
  options: ChangesOptions<K> | undefined,
  encodeKey: (key: K) => Buffer,
): NativeChangesOptions {
  const o = optionsObject('changes() options', options, CHANGES_OPTION_NAMES) ?? {}
  const resolved: NativeChangesOptions = {}
  if (o.gte !== undefined) resolved.gte = encodeKey(o.gte as K)
  if (o.lt !== undefined) resolved.lt = encodeKey(o.lt as K)
  if (o.since !== undefined) resolved.since = toTimestamp('since', o.since)
  if (o.until !== undefined) resolved.until = toTimestamp('until', o.until)
  if (o.limit !== undefined) resolved.limit = toLimit(o.limit)
  if (o.live !== undefined && o.live !== false) {
    throw new InvalidArgumentError(`Option 'live' must be true or false, got ${describe(o.live)}.`)
  }
  return resolved
}

/** True when `options` asks `changes()` for a live feed (`live: true`). @internal */
export function isLive(options: unknown): boolean {
  return typeof options === 'object' && options !== null && (options as { live?: unknown }).live === true
}

/**
 * Validates the options of a live feed, `changes({ live: true, ... })`, and encodes its key
 * bounds; `since` defaults to 0.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveLiveChangesOptions<K>(
  options: LiveChangesOptions<K>,
  encodeKey: (key: K) => Buffer,
): { range: NativeChangesOptions; feed: FeedOptions } {
  const o = optionsObject('changes() options', options, LIVE_CHANGES_OPTION_NAMES)!
  const range: NativeChangesOptions = {}
  if (o.gte !== undefined) range.gte = encodeKey(o.gte as K)
  if (o.lt !== undefined) range.lt = encodeKey(o.lt as K)
  const signal = o.signal
  if (
    signal !== undefined &&
    (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean' ||
      typeof (signal as AbortSignal).addEventListener !== 'function')
  ) {
    throw new InvalidArgumentError(`Option 'signal' must be an AbortSignal, got ${describe(signal)}.`)
  }
  const pollIntervalMs = o.pollIntervalMs === undefined ? DEFAULT_POLL_MS : positiveNumber('pollIntervalMs', o.pollIntervalMs, false)
  if (pollIntervalMs > MAX_POLL_MS) {
    throw new InvalidArgumentError(`Option 'pollIntervalMs' must be at most ${MAX_POLL_MS}, got ${pollIntervalMs}.`)
  }
  return {
    range,
    feed: {
      since: o.since === undefined ? 0 : toTimestamp('since', o.since),
      until: optionalTimestamp('until', o.until),
      pollIntervalMs,
      signal: signal as AbortSignal | undefined,
    },
  }
}

const BACKUP_OPTION_NAMES: ReadonlySet<string> = new Set(['at', 'onProgress'])
const CHECK_OPTION_NAMES: ReadonlySet<string> = new Set(['onProgress'])

function optionalListener(value: unknown): ProgressListener | undefined {
  if (value === undefined || typeof value === 'function') return value as ProgressListener | undefined
  throw new InvalidArgumentError(`'onProgress' must be a function, got ${describe(value)}.`)
}

/**
 * Validates `backup` options: `at` (default: now) and an `onProgress` listener.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveBackupOptions(options: unknown): { at: Timestamp | undefined; onProgress: ProgressListener | undefined } {
  const o = optionsObject('backup options', options, BACKUP_OPTION_NAMES)
  return { at: optionalTimestamp('at', o?.at), onProgress: optionalListener(o?.onProgress) }
}

/**
 * Validates `check` options: an `onProgress` listener.
 * @throws InvalidArgumentError
 * @internal
 */
export function resolveCheckOptions(options: unknown): { onProgress: ProgressListener | undefined } {
  const o = optionsObject('check options', options, CHECK_OPTION_NAMES)
  return { onProgress: optionalListener(o?.onProgress) }
}
