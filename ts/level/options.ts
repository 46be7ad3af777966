/**
 * Option types of the abstract-level adapter: the constructor's chronokv options and the
 * time-travel option `at` that its reads accept.
 *
 * @packageDocumentation
 */

import type {
  AbstractClearOptions,
  AbstractDatabaseOptions,
  AbstractGetManyOptions,
  AbstractGetOptions,
  AbstractHasManyOptions,
  AbstractHasOptions,
  AbstractIteratorOptions,
  AbstractKeyIteratorOptions,
  AbstractValueIteratorOptions,
  Transcoder,
} from 'abstract-level'
import type { Durability, RetentionOptions } from '../options'
import type { At, Timestamp } from '../types'

/**
 * Options of `new ChronoLevel(location, options)`: abstract-level's (`keyEncoding`,
 * `valueEncoding`, `createIfMissing`, `errorIfExists`) plus the chronokv options that apply to
 * an adapter. They are read on every `open()`.
 */
export interface ChronoLevelOptions<K, V> extends AbstractDatabaseOptions<K, V> {
  /** When writes resolve: `'sync'` (default), `'async'` or `'none'`; see chronokv's `open()`. */
  durability?: Durability | undefined
  /** Refuse every write (abstract-level then rejects them with `LEVEL_READONLY`). Default false. */
  readOnly?: boolean | undefined
  /** History retention, applied by `db.chronokv.compact()`; default: keep every version. */
  retention?: RetentionOptions | undefined
  /** chronokv's memtable budget in bytes (default 64 MiB). */
  memtableBytes?: number | undefined
}

/**
 * The time-travel option: read the database as it was at `at`, a commit timestamp (integer
 * microseconds) or a `Date`. It cannot be combined with `snapshot`; an explicit snapshot can be
 * created at a past time instead (`db.snapshot({ at })`).
 */
export interface TimeTravelOptions {
  /** Read as of this time (default: now). */
  at?: At | undefined
}

/** Options of `db.get()` and `db.getSync()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoGetOptions<K, V> extends AbstractGetOptions<K, V>, TimeTravelOptions {}

/** Options of `db.getMany()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoGetManyOptions<K, V> extends AbstractGetManyOptions<K, V>, TimeTravelOptions {}

/** Options of `db.has()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoHasOptions<K> extends AbstractHasOptions<K>, TimeTravelOptions {}

/** Options of `db.hasMany()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoHasManyOptions<K> extends AbstractHasManyOptions<K>, TimeTravelOptions {}

/** Options of `db.iterator()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoIteratorOptions<K, V> extends AbstractIteratorOptions<K, V>, TimeTravelOptions {
  /** Key encoding of this iterator: encodes the range options and `seek()` targets, decodes keys. */
  keyEncoding?: AbstractIteratorOptions<K, V>['keyEncoding']
}

/** Options of `db.keys()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoKeyIteratorOptions<K> extends AbstractKeyIteratorOptions<K>, TimeTravelOptions {
  /** Key encoding of this iterator: encodes the range options and `seek()` targets, decodes keys. */
  keyEncoding?: AbstractKeyIteratorOptions<K>['keyEncoding']
}

/** Options of `db.values()`: abstract-level's plus {@link TimeTravelOptions.at}. */
export interface ChronoValueIteratorOptions<K, V> extends AbstractValueIteratorOptions<K, V>, TimeTravelOptions {
  /** Key encoding of this iterator: encodes the range options and `seek()` targets. */
  keyEncoding?: AbstractValueIteratorOptions<K, V>['keyEncoding']
}

/**
 * Options of `db.clear()`: abstract-level's plus {@link TimeTravelOptions.at}, which deletes the
 * keys of the range that had a value at that time (as `snapshot` does for a snapshot's time).
 */
export interface ChronoClearOptions<K> extends AbstractClearOptions<K>, TimeTravelOptions {}

/** Options of `db.snapshot()`. */
export interface ChronoSnapshotOptions {
  /** The time to pin (default: now): the snapshot then reads the database as it was at `at`. */
  at?: At | undefined
}

/** Options of `db.history()`. */
export interface ChronoHistoryOptions<K, V> {
  /** Only versions with `ts >= since` (inclusive). */
  since?: At | undefined
  /** Only versions with `ts < until` (exclusive). */
  until?: At | undefined
  /** Newest first when true; oldest first otherwise (default). */
  reverse?: boolean | undefined
  /** At most this many versions. */
  limit?: number | undefined
  /** Encoding of `key` (default: the database's key encoding). */
  keyEncoding?: AbstractGetOptions<K, V>['keyEncoding']
  /** Encoding of the values returned (default: the database's value encoding). */
  valueEncoding?: AbstractGetOptions<K, V>['valueEncoding']
}

/** Options of `db.changes()`: the key range x time window to list. */
export interface ChronoChangesOptions<K, V> {
  /** Only keys greater than or equal to this one. */
  gte?: K | undefined
  /** Only keys strictly less than this one. */
  lt?: K | undefined
  /** Only versions with `ts >= since` (inclusive). */
  since?: At | undefined
  /** Only versions with `ts < until` (exclusive). */
  until?: At | undefined
  /** At most this many versions. */
  limit?: number | undefined
  /** Encoding of the bounds and of the keys returned (default: the database's key encoding). */
  keyEncoding?: string | Transcoder.PartialEncoding<K> | undefined
  /** Encoding of the values returned (default: the database's value encoding). */
  valueEncoding?: AbstractGetOptions<K, V>['valueEncoding']
}

/** A version written by a put, as `db.history()` and `db.changes()` list it. */
export interface LevelPutVersion<K, V> {
  /** The key, decoded with the key encoding. */
  key: K
  /** The commit timestamp (integer microseconds). */
  ts: Timestamp
  /** The value, decoded with the value encoding. */
  value: V
  /** Always false: a put. */
  deleted: false
}

/** A version written by a delete, as `db.history()` and `db.changes()` list it. */
export interface LevelDeleteVersion<K> {
  /** The key, decoded with the key encoding. */
  key: K
  /** The commit timestamp (integer microseconds). */
  ts: Timestamp
  /** Always undefined: a delete has no value. */
  value?: undefined
  /** Always true: a delete. */
  deleted: true
}

/**
 * One version of a key, as `db.history()` and `db.changes()` list them: check `deleted` to
 * narrow `value`.
 */
export type LevelVersion<K, V> = LevelPutVersion<K, V> | LevelDeleteVersion<K>
