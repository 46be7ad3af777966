/**
 * ChronoLevel: an abstract-level database over chronokv.
 *
 * abstract-level owns the public API, the encodings, deferred open, sublevels, hooks and
 * events; this class implements its private `_` methods on a chronokv database opened with
 * binary keys and values. Keys are stored behind a one-byte prefix (see ./keys.ts). Every read
 * runs at one commit timestamp: now, the `at` option, or an explicit snapshot's `ts`.
 *
 * @packageDocumentation
 */

import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AbstractLevel,
  type AbstractIterator,
  type AbstractKeyIterator,
  type AbstractReadOptions,
  type AbstractSublevelOptions,
  type AbstractValueIterator,
  type AbstractDeferOptions,
  type AbstractDelOptions,
  type AbstractResource,
  type Transcoder,
} from 'abstract-level'
import { MAX_VALUE_BYTES } from '../codecs'
import type { Database } from '../database'
import { ChronoError, ErrorCode, InvalidArgumentError } from '../errors'
import { open } from '../index'
import { toTimestamp, type OpenOptions } from '../options'
import type { Snapshot } from '../snapshot'
import type { At, BatchOp, Timestamp } from '../types'
import { LevelError, toLevelError } from './errors'
import { ChronoIterator, ChronoKeyIterator, ChronoValueIterator, Cursor, type AnyLevel } from './iterator'
import { storeKey, storeRange, type EncodedRange } from './keys'
import type {
  ChronoChangesOptions,
  ChronoClearOptions,
  ChronoGetManyOptions,
  ChronoGetOptions,
  ChronoHasManyOptions,
  ChronoHasOptions,
  ChronoHistoryOptions,
  ChronoIteratorOptions,
  ChronoKeyIteratorOptions,
  ChronoLevelOptions,
  ChronoSnapshotOptions,
  ChronoValueIteratorOptions,
  LevelVersion,
  TimeTravelOptions,
} from './options'
import { ChronoLevelSnapshot } from './snapshot'
import { ChronoSublevel, SUBLEVEL_MANIFEST, type ChronoSublevelOf } from './sublevel'
import { readChanges, readHistory, ROOT_SCOPE, type BufferEncoding } from './versions'

/** The file that marks a directory as a chronokv database (written once, at creation). */
const MARKER_FILE = 'CHRONOKV'

/**
 * Keys deleted per chronokv batch by `clear()`, counted in key bytes: a clear of up to this much
 * is one atomic commit; a larger one commits in several, each atomic.
 */
const CLEAR_BATCH_BYTES = 4 * 1024 * 1024

/**
 * What the private API receives as `options` besides encodings (always 'buffer' here): the
 * time-travel option and abstract-level's explicit snapshot. Spelled out inline in the
 * signatures below so that they only name exported types.
 */
type ReadOptions = TimeTravelOptions & AbstractReadOptions

/** The chronokv options an adapter passes on to chronokv's `open()`. */
type ChronokvOpenOptions = Pick<ChronoLevelOptions<unknown, unknown>, 'durability' | 'readOnly' | 'retention' | 'memtableBytes'>

const CHRONOKV_OPTION_NAMES = ['durability', 'readOnly', 'retention', 'memtableBytes'] as const

/**
 * The abstract-level features this adapter has, as `db.supports` reports them. abstract-level
 * adds `deferredOpen`, the events and every encoding that transcodes to `'buffer'`.
 */
const MANIFEST = {
  /** Keys and values reach the private API as Buffers; abstract-level transcodes the rest. */
  encodings: { buffer: true },
  /** Every read (get, getMany, has, hasMany, iterators) reads one commit timestamp, fixed synchronously. */
  implicitSnapshots: true,
  /** `db.snapshot()` pins a chronokv snapshot. */
  explicitSnapshots: true,
  has: true,
  getSync: true,
  seek: true,
  /** chronokv is durable (the `durability` option says when a write's promise resolves). */
  permanence: true,
  createIfMissing: true,
  errorIfExists: true,
  additionalMethods: { history: true, changes: true },
  /** An iterator call in flight when its `signal` is aborted rejects with `LEVEL_ABORTED`. */
  signals: { iterators: true },
}

/**
 * An [abstract-level](https://github.com/Level/abstract-level) database stored in chronokv:
 * usable wherever a `level`-style database is expected (sublevels, encodings, hooks, events,
 * iterators with `seek`, explicit snapshots), with chronokv's time travel on top.
 *
 * - Reads take an `at` option (a commit timestamp in microseconds, or a Date): `get`, `getSync`,
 *   `getMany`, `has`, `hasMany`, `iterator`, `keys`, `values`, `clear` and `snapshot`.
 * - {@link ChronoLevel.history} lists every version of a key, {@link ChronoLevel.changes} every
 *   version in a key range and time window; {@link ChronoLevel.chronokv} is the underlying
 *   chronokv database.
 *
 * Keys are limited to 4095 bytes after encoding (chronokv's 4096 less a one-byte prefix that
 * makes room for the empty key); values to 64 MiB.
 *
 * @typeParam KDefault - the type of keys under the default key encoding (`'utf8'`: string).
 * @typeParam VDefault - the type of values under the default value encoding (`'utf8'`: string).
 *
 * @example
 * ```ts
 * import { ChronoLevel } from 'chronokv/level'
 *
 * const db = new ChronoLevel('./data/level', { valueEncoding: 'json' })
 * await db.put('user:alice', { plan: 'free' })
 * const before = db.chronokv.now()
 * await db.put('user:alice', { plan: 'pro' })
 * await db.get('user:alice')                   // { plan: 'pro' }
 * await db.get('user:alice', { at: before })   // { plan: 'free' }
 * await db.history('user:alice')               // both versions, oldest first
 * ```
 */
export class ChronoLevel<KDefault = string, VDefault = string> extends AbstractLevel<Buffer, KDefault, VDefault> {
  /** The directory of the chronokv database. */
  readonly location: string
  /** The chronokv options given to the constructor; open() options of the same names override them. */
  readonly #chronoOptions: ChronokvOpenOptions
  #db: Database<Buffer, Buffer> | undefined

  /**
   * Creates the database object; it opens itself (abstract-level's deferred open), or call
   * `open()`.
   * @param location - the directory of the chronokv database.
   * @param options - encodings, open options and chronokv options ({@link ChronoLevelOptions}).
   */
  constructor(location: string, options?: ChronoLevelOptions<KDefault, VDefault>) {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string")
    }
    // chronokv's own options stay here rather than among abstract-level's open options (which
    // abstract-level hands to hooks such as postopen).
    const { durability, readOnly, retention, memtableBytes, ...levelOptions } = options ?? {}
    super(MANIFEST, levelOptions)
    this.location = location
    this.#chronoOptions = { durability, readOnly, retention, memtableBytes }
  }

  /**
   * The underlying chronokv database (binary keys and values; each key is the adapter's key
   * behind a 0x00 byte). Use it for what abstract-level has no words for: `now()`, `stats()`,
   * `flush()`, `compact()`. Available while the database is open.
   * @throws LevelError `LEVEL_DATABASE_NOT_OPEN` otherwise.
   */
  get chronokv(): Database<Buffer, Buffer> {
    return this.#database()
  }

  /**
   * Every version of `key`, oldest first (newest first with `reverse`), deletes included:
   * `{ key, ts, value, deleted: false }` for puts, `{ key, ts, deleted: true }` for deletes.
   * Versions committed after the call are not listed.
   */
  async history<K = KDefault, V = VDefault>(key: K, options?: ChronoHistoryOptions<K, V>): Promise<Array<LevelVersion<K, V>>> {
    if (this.status === 'opening') return this.deferAsync(() => this.history(key, options))
    const db = this.#database()
    return readHistory(db, ROOT_SCOPE, key, this.#keyEncoding(options?.keyEncoding), this.#valueEncoding(options?.valueEncoding), options)
  }

  /**
   * Every version whose key is in `[gte, lt)` and whose commit timestamp is in `[since, until)`,
   * in key order and, per key, oldest first; deletes are `{ key, ts, deleted: true }`. Without
   * bounds, every key of the database (its sublevels' included, as its iterators list them).
   * Versions committed after the call are not listed.
   */
  async changes<K = KDefault, V = VDefault>(options?: ChronoChangesOptions<K, V>): Promise<Array<LevelVersion<K, V>>> {
    if (this.status === 'opening') return this.deferAsync(() => this.changes(options))
    const db = this.#database()
    return readChanges(db, ROOT_SCOPE, this.#keyEncoding(options?.keyEncoding), this.#valueEncoding(options?.valueEncoding), options)
  }

  // ---- the private API abstract-level calls ------------------------------------------------

  /** @internal Opens the chronokv database (see the class comment for the options). */
  async _open(
    options: { createIfMissing: boolean; errorIfExists: boolean } & Pick<ChronoLevelOptions<unknown, unknown>, 'durability' | 'readOnly' | 'retention' | 'memtableBytes'>,
  ): Promise<void> {
    if (options.errorIfExists && (await holdsDatabase(this.location))) {
      throw new Error(`A chronokv database already exists at ${this.location} (errorIfExists is true).`)
    }
    const chronoOptions: OpenOptions<Buffer, Buffer> = {
      keyEncoding: 'binary',
      valueEncoding: 'binary',
      createIfMissing: options.createIfMissing,
    }
    for (const name of CHRONOKV_OPTION_NAMES) {
      const value = options[name] ?? this.#chronoOptions[name]
      if (value !== undefined) (chronoOptions as Record<string, unknown>)[name] = value
    }
    try {
      this.#db = await open<Buffer, Buffer>(this.location, chronoOptions)
    } catch (err) {
      if (!options.createIfMissing && err instanceof ChronoError && err.code === ErrorCode.IO && !(await holdsDatabase(this.location))) {
        throw new Error(`The database at ${this.location} does not exist (createIfMissing is false).`, { cause: err })
      }
      throw toLevelError(err)
    }
  }

  /** @internal Closes the chronokv database once its writes have settled. */
  async _close(): Promise<void> {
    const db = this.#db
    if (db === undefined) return
    try {
      await db.close()
    } catch (err) {
      throw toLevelError(err)
    }
    this.#db = undefined
  }

  /** @internal The value of `key` at the read timestamp, or undefined. */
  async _get(key: Buffer, options: TimeTravelOptions & AbstractReadOptions): Promise<Buffer | undefined> {
    return this._getSync(key, options)
  }

  /** @internal The value of `key` at the read timestamp, or undefined; synchronous. */
  _getSync(key: Buffer, options: TimeTravelOptions & AbstractReadOptions): Buffer | undefined {
    const db = this.#database()
    const at = this.#readAt(options)
    const stored = storeKey(key)
    try {
      return db.get(stored, { at })
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal The values of `keys` at one read timestamp. */
  async _getMany(keys: Buffer[], options: TimeTravelOptions & AbstractReadOptions): Promise<Array<Buffer | undefined>> {
    const db = this.#database()
    const at = this.#readAt(options)
    const stored = keys.map(storeKey)
    try {
      return db.getMany(stored, { at }).map((value) => value ?? undefined)
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal Whether `key` has a value at the read timestamp. */
  async _has(key: Buffer, options: TimeTravelOptions & AbstractReadOptions): Promise<boolean> {
    const db = this.#database()
    const at = this.#readAt(options)
    const stored = storeKey(key)
    try {
      return db.has(stored, { at })
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal Whether each of `keys` has a value, at one read timestamp. */
  async _hasMany(keys: Buffer[], options: TimeTravelOptions & AbstractReadOptions): Promise<boolean[]> {
    const db = this.#database()
    const at = this.#readAt(options)
    const stored = keys.map(storeKey)
    try {
      // One timestamp for all keys, so the answers are consistent with each other: `at` capped
      // at now (a later `at` would let a write landing between two reads into the answers).
      const now = db.now()
      const ts = at === undefined ? now : Math.min(toTimestamp('at', at), now)
      return stored.map((key) => db.has(key, { at: ts }))
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal Writes a version of `key`; resolves once chronokv's durability mode says so. */
  async _put(key: Buffer, value: Buffer): Promise<void> {
    const db = this.#database()
    const stored = storeKey(key)
    checkValue(value)
    try {
      await db.put(stored, value)
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal Writes a delete version of `key`. */
  async _del(key: Buffer): Promise<void> {
    const db = this.#database()
    const stored = storeKey(key)
    try {
      await db.delete(stored)
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** @internal Atomic: one chronokv batch, one commit timestamp. */
  async _batch(operations: Array<BatchOp<Buffer, Buffer>>): Promise<void> {
    const db = this.#database()
    const ops = operations.map((op): BatchOp<Buffer, Buffer> => {
      if (op.type === 'put') {
        checkValue(op.value)
        return { type: 'put', key: storeKey(op.key), value: op.value }
      }
      return { type: 'del', key: storeKey(op.key) }
    })
    try {
      await db.batch(ops)
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /**
   * @internal Deletes the keys of the range as of one timestamp (now, `at` or the snapshot's),
   * in key order (reversed with `reverse`), at most `limit` of them, in atomic chronokv batches
   * of up to `CLEAR_BATCH_BYTES` (4 MiB) of keys each. A key written after clear() was called is
   * left alone unless it was in the range at that timestamp.
   */
  async _clear(options: ChronoClearOptions<Buffer> & { reverse: boolean; limit: number }): Promise<void> {
    const db = this.#database()
    const at = this.#readAt(options)
    const explicit = options.snapshot != null
    let pin: Snapshot<Buffer, Buffer> | undefined
    try {
      pin = explicit ? undefined : db.snapshot({ at })
      const range = db.getRange({
        ...storeRange(options),
        reverse: options.reverse,
        limit: options.limit >= 0 ? options.limit : undefined,
        at: pin?.ts ?? at,
      })
      let batch: Array<BatchOp<Buffer, Buffer>> = []
      let bytes = 0
      for (const { key } of range) {
        batch.push({ type: 'del', key })
        bytes += key.length
        if (bytes >= CLEAR_BATCH_BYTES) {
          await db.batch(batch)
          batch = []
          bytes = 0
        }
      }
      if (batch.length > 0) await db.batch(batch)
    } catch (err) {
      throw toLevelError(err)
    } finally {
      pin?.close()
    }
  }

  /** @internal An entry iterator over one snapshot. */
  _iterator(options: ChronoIteratorOptions<Buffer, Buffer> & { reverse: boolean; limit: number }): AbstractIterator<AbstractLevel<Buffer, any, any>, Buffer, Buffer> {
    return new ChronoIterator(this.#self(), options, this.#cursor(options))
  }

  /** @internal A key iterator over one snapshot. */
  _keys(options: ChronoKeyIteratorOptions<Buffer> & { reverse: boolean; limit: number }): AbstractKeyIterator<AbstractLevel<Buffer, any, any>, Buffer> {
    return new ChronoKeyIterator(this.#self(), options, this.#cursor(options))
  }

  /** @internal A value iterator over one snapshot. */
  _values(options: ChronoValueIteratorOptions<Buffer, Buffer> & { reverse: boolean; limit: number }): AbstractValueIterator<AbstractLevel<Buffer, any, any>, Buffer, Buffer> {
    return new ChronoValueIterator(this.#self(), options, this.#cursor(options))
  }

  /** @internal Sublevels are ChronoSublevels, with history() and changes(). */
  _sublevel(name: string | string[], options: AbstractSublevelOptions<unknown, unknown>): ChronoSublevel<unknown, unknown, unknown> {
    return new ChronoSublevel(this, name as string, { ...options, manifest: SUBLEVEL_MANIFEST } as AbstractSublevelOptions<unknown, unknown>)
  }

  /** @internal A snapshot pinning now, or `options.at`. */
  _snapshot(options: ChronoSnapshotOptions & { owner: object }): ChronoLevelSnapshot {
    const db = this.#database()
    try {
      return new ChronoLevelSnapshot(options, db.snapshot({ at: options.at }), db)
    } catch (err) {
      throw toLevelError(err)
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * This database as the iterator classes take it. (Checking `this` against that type directly
   * makes TypeScript expand the sublevel types without end.)
   */
  #self(): AnyLevel {
    return this as unknown as AnyLevel
  }

  /** The open chronokv database. */
  #database(): Database<Buffer, Buffer> {
    const db = this.#db
    if (db === undefined || this.status !== 'open') {
      throw new LevelError('Database is not open', 'LEVEL_DATABASE_NOT_OPEN')
    }
    return db
  }

  /**
   * The timestamp a read runs at: the explicit snapshot's, the `at` option, or undefined (now).
   * @throws InvalidArgumentError when both are given, or for another database's snapshot.
   */
  #readAt(options: ReadOptions): At | undefined {
    const snapshot = options.snapshot
    if (snapshot == null) return options.at
    if (options.at !== undefined) {
      throw new InvalidArgumentError(
        "The options 'at' and 'snapshot' cannot be combined; to read a snapshot of a past time, create it with db.snapshot({ at }).",
      )
    }
    if (!(snapshot instanceof ChronoLevelSnapshot) || !snapshot._belongsTo(this.#database())) {
      throw new InvalidArgumentError("The 'snapshot' option must be a snapshot of this database, from db.snapshot().")
    }
    return snapshot.ts
  }

  /** A cursor for a new iterator, at the read timestamp of `options`. */
  #cursor(options: RangeReadOptions): Cursor {
    const db = this.#database()
    const at = this.#readAt(options)
    const range = storeRange(options)
    const signal = options.signal ?? undefined
    if (options.snapshot != null) return new Cursor(db, range, options.reverse, options.limit, at as Timestamp, undefined, signal)
    let pin: Snapshot<Buffer, Buffer>
    try {
      pin = db.snapshot({ at })
    } catch (err) {
      throw toLevelError(err)
    }
    return new Cursor(db, range, options.reverse, options.limit, pin.ts, pin, signal)
  }

  #keyEncoding(encoding: unknown): BufferEncoding {
    return (this.keyEncoding as (encoding?: unknown) => BufferEncoding)(encoding ?? undefined)
  }

  #valueEncoding(encoding: unknown): BufferEncoding {
    return (this.valueEncoding as (encoding?: unknown) => BufferEncoding)(encoding ?? undefined)
  }
}

/** What `_iterator`, `_keys`, `_values` and `_clear` receive: encoded bounds, order, limit, read time. */
type RangeReadOptions = EncodedRange & ReadOptions & { reverse: boolean; limit: number; signal?: AbortSignal | undefined }

/**
 * The read methods are abstract-level's; at run time they hand every option, `at` included, to
 * the private methods above. This declaration merges into the class (types only) to redeclare
 * their overloads with options that include `at` (each set repeats abstract-level's), and
 * `sublevel()` as returning a {@link ChronoSublevel}. ChronoSublevel repeats it.
 */
export interface ChronoLevel<KDefault = string, VDefault = string> {
  /** Gets a value as of now. */
  get(key: KDefault): Promise<VDefault | undefined>
  /** Gets a value as of now, `options.at` or `options.snapshot`. */
  get<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): Promise<V | undefined>
  /** Gets a value synchronously, as of now. */
  getSync(key: KDefault): VDefault | undefined
  /** Gets a value synchronously, as of now, `options.at` or `options.snapshot`. */
  getSync<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): V | undefined
  /** Gets several values as of now. */
  getMany(keys: KDefault[]): Promise<Array<VDefault | undefined>>
  /** Gets several values as of one time: now, `options.at` or `options.snapshot`. */
  getMany<K = KDefault, V = VDefault>(keys: K[], options: ChronoGetManyOptions<K, V>): Promise<Array<V | undefined>>
  /** True when `key` has a value now. */
  has(key: KDefault): Promise<boolean>
  /** True when `key` had a value as of now, `options.at` or `options.snapshot`. */
  has<K = KDefault>(key: K, options: ChronoHasOptions<K>): Promise<boolean>
  /** For each key, whether it has a value now. */
  hasMany(keys: KDefault[]): Promise<boolean[]>
  /** For each key, whether it had a value as of one time: now, `options.at` or `options.snapshot`. */
  hasMany<K = KDefault>(keys: K[], options: ChronoHasManyOptions<K>): Promise<boolean[]>
  /** An iterator of entries, reading the database as of its creation. */
  iterator(): AbstractIterator<this, KDefault, VDefault>
  /** An iterator of entries, reading one time: now, `options.at` or `options.snapshot`. */
  iterator<K = KDefault, V = VDefault>(options: ChronoIteratorOptions<K, V>): AbstractIterator<this, K, V>
  /** An iterator of keys, reading the database as of its creation. */
  keys(): AbstractKeyIterator<this, KDefault>
  /** An iterator of keys, reading one time: now, `options.at` or `options.snapshot`. */
  keys<K = KDefault>(options: ChronoKeyIteratorOptions<K>): AbstractKeyIterator<this, K>
  /** An iterator of values, reading the database as of its creation. */
  values(): AbstractValueIterator<this, KDefault, VDefault>
  /** An iterator of values, reading one time: now, `options.at` or `options.snapshot`. */
  values<K = KDefault, V = VDefault>(options: ChronoValueIteratorOptions<K, V>): AbstractValueIterator<this, K, V>
  /** Deletes every key. */
  clear(): Promise<void>
  /** Deletes the keys of a range that had a value now, at `options.at`, or in `options.snapshot`. */
  clear<K = KDefault>(options: ChronoClearOptions<K>): Promise<void>
  /** A snapshot of now, or of `options.at`. */
  snapshot(options?: ChronoSnapshotOptions): ChronoLevelSnapshot
  /** A sublevel with utf8 keys and values (a {@link ChronoSublevel} at run time). */
  sublevel(name: string | string[]): ChronoSublevelOf<this, string, string>
  /** A sublevel with the given separator and encodings (a {@link ChronoSublevel} at run time). */
  sublevel<K = string, V = string>(name: string | string[], options: AbstractSublevelOptions<K, V>): ChronoSublevelOf<this, K, V>
  /** Deletes `key`: a delete version; earlier versions stay readable with `at` and in `history`. */
  del(key: KDefault): Promise<void>
  /** Deletes `key`, encoded with `options.keyEncoding`. */
  del<K = KDefault>(key: K, options: AbstractDelOptions<K>): Promise<void>
  /** The key encoding of that name, normalized (a level-transcoder encoding). */
  keyEncoding<N extends Transcoder.KnownEncodingName>(encoding: N): Transcoder.KnownEncoding<N, Buffer>
  /** The given key encoding, normalized (a level-transcoder encoding). */
  keyEncoding<TIn, TOut>(encoding: Transcoder.MixedEncoding<TIn, any, TOut>): Transcoder.Encoding<TIn, Buffer, TOut>
  /** The default key encoding, normalized (a level-transcoder encoding). */
  keyEncoding(): Transcoder.Encoding<KDefault, Buffer, KDefault>
  /** The value encoding of that name, normalized (a level-transcoder encoding). */
  valueEncoding<N extends Transcoder.KnownEncodingName>(encoding: N): Transcoder.KnownEncoding<N, Buffer>
  /** The given value encoding, normalized (a level-transcoder encoding). */
  valueEncoding<TIn, TOut>(encoding: Transcoder.MixedEncoding<TIn, any, TOut>): Transcoder.Encoding<TIn, Buffer, TOut>
  /** The default value encoding, normalized (a level-transcoder encoding). */
  valueEncoding(): Transcoder.Encoding<VDefault, Buffer, VDefault>
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: string, keyFormat: 'utf8', local?: boolean | undefined): string
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: Buffer, keyFormat: 'buffer', local?: boolean | undefined): Buffer
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: Uint8Array, keyFormat: 'view', local?: boolean | undefined): Uint8Array
  /** Calls the synchronous function `fn` once the status changes to 'open' or 'closed' (a deferred operation). */
  defer(fn: Function, options?: AbstractDeferOptions | undefined): void
  /** Calls the asynchronous function `fn` once the status changes to 'open' or 'closed'; resolves with its result. */
  deferAsync<T>(fn: () => Promise<T>, options?: AbstractDeferOptions | undefined): Promise<T>
  /** Closes `resource` when the database closes (iterators, snapshots and sublevels are attached this way). */
  attachResource(resource: AbstractResource): void
  /** Stops tracking `resource`. */
  detachResource(resource: AbstractResource): void
}

/** True when `location` holds a chronokv database (its marker file exists). */
async function holdsDatabase(location: string): Promise<boolean> {
  try {
    await stat(join(location, MARKER_FILE))
    return true
  } catch {
    return false
  }
}

/** @throws LevelError `LEVEL_INVALID_VALUE` for a value chronokv cannot store. */
function checkValue(value: Buffer): void {
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw new LevelError(
      `A value must be at most ${MAX_VALUE_BYTES} bytes (64 MiB) after encoding; this one is ${value.byteLength} bytes.`,
      'LEVEL_INVALID_VALUE',
    )
  }
}
