/**
 * The Database class: typed reads, writes and scans over one native handle.
 *
 * Reads are synchronous and go straight to the binding. Writes call the binding synchronously
 * (it logs and applies them and returns the commit timestamp) and then wait, coalesced, for
 * durability through {@link DurabilityWaiter}. Every failure, sync or async, is a ChronoError
 * mapped by `fromNative`; async methods never throw synchronously.
 *
 * @packageDocumentation
 */

import { resolve as resolvePath } from 'node:path'
import {
  copiesOnDecode,
  decodeOwned,
  decodeSlice,
  decodeWith,
  describe,
  encodeKey,
  encodeValue,
  MAX_KEY_BYTES,
  utf8Codec,
  type Codec,
} from './codecs'
import { ChangeFeed, wakeFeeds, type FeedSource } from './change-feed'
import { DurabilityWaiter } from './durability-waiter'
import { ClosedError, ConflictError, fromNative, InvalidArgumentError, ReadOnlyError } from './errors'
import {
  loadNative,
  type NativeBinding,
  type NativeChangesOptions,
  type NativeDatabase,
  type NativeHandle,
  type NativeKeyRange,
  type NativeRangeOptions,
  type NativeSnapshotPin,
} from './native'
import {
  isLive,
  MAX_TIMESTAMP,
  readAt,
  resolveBackupOptions,
  toTimestamp,
  resolveChangesOptions,
  resolveHistoryOptions,
  resolveLiveChangesOptions,
  resolveRangeOptions,
  type ResolvedOpenOptions,
} from './options'
import { withProgress } from './progress'
import { PackedIterator, RangeIterable } from './range-iterable'
import { Snapshot } from './snapshot'
import { Transaction } from './transaction'
import type {
  At,
  BackupOptions,
  BackupResult,
  BatchOp,
  ChangesOptions,
  CompactResult,
  Entry,
  HistoryOptions,
  Isolation,
  LiveChangesOptions,
  RangeOptions,
  ReadOptions,
  RunTransactionOptions,
  SnapshotOptions,
  Stats,
  Timestamp,
  TransactionOptions,
  Version,
} from './types'

const EMPTY: readonly never[] = []

/** A scanned entry with its key and value still encoded. @internal */
export interface RawEntry {
  key: Buffer
  value: Buffer
  ts: Timestamp
}

/** Bytes before the value in the fast read path's output buffer: the commit timestamp (f64 LE). */
const TS_BYTES = 8
/**
 * Size of a read slab: point reads land in one at the current offset (see Database.#readBuffer);
 * a value larger than a slab gets a slab of its own.
 */
const READ_SLAB_BYTES = 16 * 1024
/** UTF-8 takes at most 3 bytes per UTF-16 unit, so any string of <= MAX_KEY_BYTES units fits. */
const KEY_SCRATCH_BYTES = 3 * MAX_KEY_BYTES

/**
 * An open chronokv database. Obtain one with `open()`; every committed write is kept as a
 * version, so reads can go back to any past timestamp.
 *
 * @typeParam K - the key type, as encoded by the key encoding (default string).
 * @typeParam V - the value type, as encoded by the value encoding.
 */
export class Database<K = string, V = any> {
  /** The directory this database lives in, as given to `open()` (resolved to an absolute path). */
  readonly path: string

  readonly #native: NativeDatabase
  readonly #binding: NativeBinding
  readonly #handle: NativeHandle
  /**
   * Where point reads land: the engine copies [ts | value] into it at #readOffset. Values of
   * codecs that keep their input (binary, custom codecs) are handed out as views of it and the
   * offset moves past them, so a value is copied once and no view is ever overwritten (Node's
   * Buffer pool works the same way; the slab is zero-filled, so a view's `.buffer` shows only
   * values this database read). String, JSON and msgpack values are decoded out of it and
   * their bytes reused by the next read. A full slab is replaced by a fresh one.
   */
  #readBuffer: Buffer = Buffer.alloc(READ_SLAB_BYTES)
  #readOffset = 0
  /** See #readBuffer: true when values are views of it. */
  readonly #viewValues: boolean
  /** Reused to encode utf8 keys without allocating. */
  readonly #keyScratch: Buffer = Buffer.allocUnsafe(KEY_SCRATCH_BYTES)
  /** The buffer holding the key last encoded by #encodeKeyArg (the scratch, or the codec's output). */
  #keyArg: Buffer = this.#keyScratch
  readonly #utf8Keys: boolean
  readonly #keyCodec: Codec<K>
  readonly #valueCodec: Codec<V>
  readonly #readOnly: boolean
  readonly #writes: DurabilityWaiter
  #closed = false
  #closing: Promise<void> | undefined
  /** Live feeds reading from this handle: ended when it closes. */
  readonly #feeds = new Set<ChangeFeed<K, V>>()

  /**
   * Wraps an open native handle. Use `open()` instead.
   * @internal
   */
  constructor(native: NativeDatabase, path: string, options: ResolvedOpenOptions<K, V>) {
    this.path = path
    this.#native = native
    this.#binding = loadNative()
    this.#handle = native.handle()
    this.#utf8Keys = options.keyCodec === (utf8Codec as Codec<unknown>)
    this.#keyCodec = options.keyCodec
    this.#valueCodec = options.valueCodec
    this.#viewValues = !copiesOnDecode(options.valueCodec)
    this.#readOnly = options.readOnly
    this.#writes = new DurabilityWaiter(
      (ts) => native.waitDurable(ts),
      () => wakeFeeds(path),
    )
  }

  // ---- reads -------------------------------------------------------------------------------

  /**
   * The value of `key` as of `at` (default: now): the newest version with `ts <= at`, or
   * undefined when the key did not exist or was deleted at that time.
   * @throws InvalidArgumentError for a bad key or `at`; ClosedError after close().
   */
  get(key: K, options?: ReadOptions): V | undefined {
    this.#checkOpen()
    try {
      const length = this.#readInto(key, options)
      return length < 0 ? undefined : this.#takeValue(length)
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * Like {@link Database.get}, with the commit timestamp of the version read:
   * `{ key, value, ts }`, or undefined when the key did not exist or was deleted at `at`.
   */
  getEntry(key: K, options?: ReadOptions): Entry<K, V> | undefined {
    this.#checkOpen()
    try {
      const length = this.#readInto(key, options)
      if (length < 0) return undefined
      const ts = this.#readBuffer.readDoubleLE(this.#readOffset)
      return { key, value: this.#takeValue(length), ts }
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** True when `key` had a value (was not absent or deleted) as of `at` (default: now). */
  has(key: K, options?: ReadOptions): boolean {
    this.#checkOpen()
    try {
      const at = options === undefined ? undefined : readAt(options)
      const length = this.#encodeKeyArg(key)
      return this.#binding.hasKey(this.#handle, this.#keyArg, length, at)
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * The values of several keys as of one time `at` (default: now), in the order of `keys`;
   * undefined for keys that had no value.
   */
  getMany(keys: readonly K[], options?: ReadOptions): Array<V | undefined> {
    this.#checkOpen()
    try {
      if (!Array.isArray(keys)) {
        throw new InvalidArgumentError(`getMany() expects an array of keys, got ${describe(keys)}.`)
      }
      // One snapshot for every key: without `at`, fix it at the current watermark first. Each
      // key then takes the single-read fast path (getInto), which costs less per key than one
      // native call returning a Buffer per value.
      const at = readAt(options) ?? this.#native.now()
      const values = new Array<V | undefined>(keys.length)
      for (let i = 0; i < keys.length; i++) {
        const length = this.#readIntoAt(keys[i] as K, at)
        values[i] = length < 0 ? undefined : this.#takeValue(length)
      }
      return values
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * A lazy scan of the live entries in a key range, ordered by encoded key bytes (descending
   * with `reverse`), as of one snapshot. The snapshot is fixed now: `at`, or `db.now()` at the
   * moment getRange is called; every iteration of the result reads that same snapshot.
   *
   * @example
   * ```ts
   * for (const { key, value } of db.getRange({ gte: 'user:', lt: 'user;' })) console.log(key, value)
   * const firstTen = db.getRange({ limit: 10 }).asArray
   * ```
   */
  getRange(options?: RangeOptions<K>): RangeIterable<Entry<K, V>> {
    this.#checkOpen()
    let range: NativeRangeOptions
    try {
      range = resolveRangeOptions(options, (key) => encodeKey(this.#keyCodec, key))
      // One snapshot for the whole iteration: an `at` in the future reads as of now, or a
      // commit made while iterating (its ts <= at) could show up part way through.
      const now = this.#native.now()
      range.at = range.at === undefined ? now : Math.min(range.at, now)
    } catch (err) {
      throw fromNative(err)
    }
    if (range.limit === 0) return new RangeIterable(() => this.#emptyIteration())
    const keyCodec = this.#keyCodec
    const valueCodec = this.#valueCodec
    const decodeEntry = (buf: Buffer, keyStart: number, keyEnd: number, ts: number, valueStart: number, valueEnd: number): Entry<K, V> => ({
      key: decodeSlice(keyCodec, buf, keyStart, keyEnd, 'key'),
      value: decodeSlice(valueCodec, buf, valueStart, valueEnd, 'value'),
      ts,
    })
    return new RangeIterable(() => new PackedIterator(this.#packedSource(range), decodeEntry))
  }

  /**
   * Every version of one key, oldest first (newest first with `reverse`), tombstones included:
   * `{ key, ts, value, deleted: false }` for puts and `{ key, ts, deleted: true }` for deletes.
   * `since` is inclusive and `until` exclusive. Versions committed after history() was called
   * are not listed, however often the result is iterated. A key that never existed has an
   * empty history.
   */
  history(key: K, options?: HistoryOptions): RangeIterable<Version<K, V>> {
    this.#checkOpen()
    let encoded: Buffer
    let query
    try {
      encoded = encodeKey(this.#keyCodec, key)
      query = resolveHistoryOptions(options)
      const now = this.#native.now()
      if (now < MAX_TIMESTAMP) query.until = Math.min(query.until ?? MAX_TIMESTAMP, now + 1)
    } catch (err) {
      throw fromNative(err)
    }
    if (query.limit === 0) return new RangeIterable(() => this.#emptyIteration())
    const valueCodec = this.#valueCodec
    return new RangeIterable(() => {
      this.#checkOpen()
      let packed: Buffer
      try {
        packed = this.#native.history(encoded, query)
      } catch (err) {
        throw fromNative(err)
      }
      // Per version: ts f64 | value_len i32 (-1: a tombstone) | value; a fresh Buffer per call.
      return (function* (): Generator<Version<K, V>> {
        let at = 0
        while (at < packed.length) {
          const ts = packed.readDoubleLE(at)
          const length = packed.readInt32LE(at + 8)
          at += 12
          if (length < 0) {
            yield { key, ts, value: undefined, deleted: true }
          } else {
            yield { key, ts, value: decodeSlice(valueCodec, packed, at, at + length, 'value'), deleted: false }
            at += length
          }
        }
      })()
    })
  }

  /**
   * Every version whose key is in `[gte, lt)` and whose commit timestamp is in `[since, until)`:
   * the key-range x time-window rectangle, in key order and, per key, oldest first. Deletes are
   * listed as `{ key, ts, deleted: true }`. Commits after `changes()` was called are not listed.
   * On disk, only the extents and blocks whose key and time bounds meet the rectangle are read
   * (see `stats().blocksRead` / `blocksSkipped`).
   *
   * With `live: true`, see the other signature: a {@link ChangeFeed} in commit-timestamp order
   * that goes on with new commits.
   */
  changes(options?: ChangesOptions<K>): RangeIterable<Version<K, V>>
  /**
   * A live change feed: every version whose key is in `[gte, lt)`, in commit-timestamp order
   * (the versions of one batch or transaction, which share a timestamp, next to each other),
   * first those already committed with `ts >= since`, then each new commit as it becomes
   * visible. Iterate it with `for await`; it ends on `break`, when `signal` aborts, once
   * `until` is reached or when this database handle closes.
   *
   * Commits made through this thread wake the feed at once; commits from other worker threads
   * are noticed by polling `db.now()` every `pollIntervalMs` (default 50 ms).
   *
   * @example
   * ```ts
   * for await (const v of db.changes({ live: true, since: db.now() + 1 })) {
   *   console.log(v.ts, v.key, v.deleted ? '(deleted)' : v.value)
   * }
   * ```
   * @throws InvalidArgumentError for bad options, or a `since` before `stats().retentionHorizon`.
   */
  changes(options: LiveChangesOptions<K>): ChangeFeed<K, V>
  changes(options?: ChangesOptions<K> | LiveChangesOptions<K>): RangeIterable<Version<K, V>> | ChangeFeed<K, V> {
    this.#checkOpen()
    if (isLive(options)) return this.#liveChanges(options as LiveChangesOptions<K>)
    let query: ReturnType<typeof resolveChangesOptions>
    try {
      query = resolveChangesOptions(options as ChangesOptions<K> | undefined, (key) => encodeKey(this.#keyCodec, key))
      const now = this.#native.now()
      if (now < MAX_TIMESTAMP) query.until = Math.min(query.until ?? MAX_TIMESTAMP, now + 1)
    } catch (err) {
      throw fromNative(err)
    }
    if (query.limit === 0) return new RangeIterable(() => this.#emptyIteration())
    return new RangeIterable(() => this.#versions(query))
  }

  #liveChanges(options: LiveChangesOptions<K>): ChangeFeed<K, V> {
    let resolved: ReturnType<typeof resolveLiveChangesOptions<K>>
    try {
      resolved = resolveLiveChangesOptions(options, (key) => encodeKey(this.#keyCodec, key))
      const horizon = this.#native.stats().retentionHorizon
      if (resolved.feed.since < horizon && options.since !== undefined) {
        throw new InvalidArgumentError(
          `changes() cannot resume from ${resolved.feed.since}: retention may have collected versions before ${horizon} (stats().retentionHorizon).`,
        )
      }
      resolved.feed.since = Math.max(resolved.feed.since, horizon)
    } catch (err) {
      throw fromNative(err)
    }
    const { range } = resolved
    const feeds = this.#feeds
    const isClosed = () => this.#closed
    const source: FeedSource<K, V> = {
      path: this.path,
      get closed() {
        return isClosed()
      },
      now: () => this.now(),
      scan: (since, until, limit) => {
        const query: NativeChangesOptions = { ...range, since, until }
        if (limit !== undefined) query.limit = limit
        return [...this.#versions(query)]
      },
      pin: (at) => {
        try {
          return this.#native.pin(at)
        } catch (err) {
          throw fromNative(err)
        }
      },
      release: (feed) => feeds.delete(feed),
    }
    let feed: ChangeFeed<K, V>
    try {
      feed = new ChangeFeed<K, V>(source, resolved.feed)
    } catch (err) {
      throw fromNative(err)
    }
    if (!feed.ended) feeds.add(feed)
    return feed
  }

  /** Decoded versions of a native changes() query, read in growing batches. */
  #versions(query: ReturnType<typeof resolveChangesOptions>): Generator<Version<K, V>> {
    this.#checkOpen()
    let cursor: ReturnType<NativeDatabase['changes']>
    try {
      cursor = this.#native.changes(query)
    } catch (err) {
      throw fromNative(err)
    }
    const keyCodec = this.#keyCodec
    const valueCodec = this.#valueCodec
    const checkOpen = () => this.#checkOpen()
    // Per version: key_len u32 | ts f64 | value_len i32 (-1: a delete) | key | value.
    return (function* (): Generator<Version<K, V>> {
      try {
        for (let batch = 64; ; batch = Math.min(batch * 2, 4096)) {
          checkOpen()
          let packed: Buffer
          try {
            packed = cursor.nextPacked(batch)
          } catch (err) {
            throw fromNative(err)
          }
          if (packed.length === 0) return
          let at = 0
          while (at < packed.length) {
            const keyLength = packed.readUInt32LE(at)
            const ts = packed.readDoubleLE(at + 4)
            const valueLength = packed.readInt32LE(at + 12)
            at += 16
            const key = decodeSlice(keyCodec, packed, at, at + keyLength, 'key')
            at += keyLength
            if (valueLength < 0) {
              yield { key, ts, value: undefined, deleted: true }
            } else {
              yield { key, ts, value: decodeSlice(valueCodec, packed, at, at + valueLength, 'value'), deleted: false }
              at += valueLength
            }
          }
        }
      } finally {
        cursor.close()
      }
    })()
  }

  /** The newest visible commit timestamp (integer microseconds); 0 for an empty database. */
  now(): Timestamp {
    this.#checkOpen()
    try {
      return this.#native.now()
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** Counters describing the database. */
  stats(): Stats {
    this.#checkOpen()
    try {
      const s = this.#native.stats()
      return {
        keys: s.keys,
        versions: s.versions,
        memtableBytes: s.memtableBytes,
        memtables: s.memtables,
        extents: s.extents,
        extentBlocks: s.extentBlocks,
        extentBytes: s.extentBytes,
        dataFileBytes: s.dataFileBytes,
        blocksRead: s.blocksRead,
        blocksSkipped: s.blocksSkipped,
        flushes: s.flushes,
        compactions: s.compactions,
        versionsCollected: s.versionsCollected,
        retentionHorizon: s.retentionHorizon,
        pins: s.pins,
        walBytes: s.walBytes,
        now: s.now,
      }
    } catch (err) {
      throw fromNative(err)
    }
  }

  // ---- maintenance -------------------------------------------------------------------------

  /**
   * Writes everything held in memory to extents on disk (normally done in the background once
   * a memtable passes `memtableBytes`), so the write-ahead log can be trimmed.
   * @returns a promise that rejects with ReadOnlyError, ClosedError or IoError.
   */
  async flush(): Promise<void> {
    this.#checkWritable()
    try {
      await this.#native.flush()
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * Flushes, then merges every extent into new ones and applies the `retention` policy (see
   * `retention` option): disk space of collected versions is given back.
   * @returns a promise that rejects with ReadOnlyError, ClosedError or IoError.
   */
  async compact(): Promise<CompactResult> {
    this.#checkWritable()
    try {
      return await this.#native.compact()
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * Copies the database as it was at `at` (default: now) into `dir`, which must not exist or
   * must be empty: the copy opens as a chronokv database with every version up to `at`, and
   * its `now()` is `at`. The database stays open and writable while the copy is made; a failed
   * backup removes what it wrote.
   * @returns a promise of what was copied. It rejects with InvalidArgumentError when `dir`
   * already holds a database or other files or `at` is bad, ClosedError, or IoError.
   */
  async backup(dir: string, options?: BackupOptions): Promise<BackupResult> {
    this.#checkOpen()
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new InvalidArgumentError(`backup() expects a directory path, got ${describe(dir)}.`)
    }
    const { at, onProgress } = resolveBackupOptions(options)
    try {
      const progress = new this.#binding.NativeProgress()
      return await withProgress(progress, onProgress, this.#native.backup(resolvePath(dir), at, progress))
    } catch (err) {
      throw fromNative(err)
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * Writes a new version of `key`. Resolves with its commit timestamp once the write is durable
   * (under the database's durability mode) and visible to reads.
   * @returns a promise that rejects with InvalidArgumentError for a bad key or value (nothing is
   * written), ReadOnlyError, ClosedError or IoError.
   */
  put(key: K, value: V): Promise<Timestamp> {
    if (this.#closed) return Promise.reject(new ClosedError())
    if (this.#readOnly) return Promise.reject(new ReadOnlyError())
    let ts: Timestamp
    try {
      const length = this.#encodeKeyArg(key)
      ts = this.#binding.putValue(this.#handle, this.#keyArg, length, encodeValue(this.#valueCodec, value))
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return this.#writes.track(ts)
  }

  /**
   * Deletes `key` by writing a tombstone version; earlier versions stay readable as of earlier
   * times and in `history`. Resolves with the tombstone's commit timestamp once durable. Deleting
   * a key that does not exist still writes a tombstone.
   */
  delete(key: K): Promise<Timestamp> {
    if (this.#closed) return Promise.reject(new ClosedError())
    if (this.#readOnly) return Promise.reject(new ReadOnlyError())
    let ts: Timestamp
    try {
      const length = this.#encodeKeyArg(key)
      ts = this.#binding.deleteKey(this.#handle, this.#keyArg, length)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return this.#writes.track(ts)
  }

  /**
   * Applies several puts and deletes atomically: all of them get one commit timestamp, and a
   * reader sees all or none. Every key and value is encoded before anything is written, so a bad
   * operation fails the whole batch and writes nothing. An empty batch writes nothing and
   * resolves with `db.now()`.
   */
  batch(ops: ReadonlyArray<BatchOp<K, V>>): Promise<Timestamp> {
    if (this.#closed) return Promise.reject(new ClosedError())
    if (this.#readOnly) return Promise.reject(new ReadOnlyError())
    let ts: Timestamp
    try {
      const { keys, values } = this.#encodeOps('batch', ops)
      if (keys.length === 0) return Promise.resolve(this.#native.now())
      ts = this.#native.batch(keys, values)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return this.#writes.track(ts)
  }

  /**
   * Like {@link Database.batch}, committed at the given timestamp `ts` instead of a fresh one:
   * for restoring exported history (`chronokv import`). `ts` must be newer than every commit
   * in the database (so history only grows at its end), and afterwards the database never
   * commits at or below it. Versions that share a timestamp must come in one call.
   * @returns a promise of `ts`, resolved once the batch is durable. It rejects with
   * InvalidArgumentError (nothing is written) when `ts` is not newer than the newest commit,
   * `ops` is empty, or a key or value is bad.
   */
  batchAt(ts: At, ops: ReadonlyArray<BatchOp<K, V>>): Promise<Timestamp> {
    if (this.#closed) return Promise.reject(new ClosedError())
    if (this.#readOnly) return Promise.reject(new ReadOnlyError())
    let committed: Timestamp
    try {
      const at = toTimestamp('ts', ts)
      const { keys, values } = this.#encodeOps('batchAt', ops)
      committed = this.#native.writeAt(at, keys, values)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return this.#writes.track(committed)
  }

  /** Encodes the operations of a batch, checking each. */
  #encodeOps(what: string, ops: ReadonlyArray<BatchOp<K, V>>): { keys: Buffer[]; values: Array<Buffer | null> } {
    if (!Array.isArray(ops)) {
      throw new InvalidArgumentError(`${what}() expects an array of operations, got ${describe(ops)}.`)
    }
    const keys: Buffer[] = new Array(ops.length)
    const values: Array<Buffer | null> = new Array(ops.length)
    for (let i = 0; i < ops.length; i++) {
      const op: unknown = ops[i]
      const type = typeof op === 'object' && op !== null ? (op as { type?: unknown }).type : undefined
      if (type !== 'put' && type !== 'del') {
        throw new InvalidArgumentError(
          `${what}() operation ${i} must be { type: 'put', key, value } or { type: 'del', key }, got ${describe(op)}.`,
        )
      }
      const { key, value } = op as { key: K; value: V }
      keys[i] = encodeKey(this.#keyCodec, key)
      values[i] = type === 'put' ? encodeValue(this.#valueCodec, value) : null
    }
    return { keys, values }
  }

  // ---- snapshots and transactions ----------------------------------------------------------

  /**
   * A read view pinned at `at` (default: now): its reads see exactly the commits up to that
   * timestamp, whatever commits later. Close it when done.
   */
  snapshot(options?: SnapshotOptions): Snapshot<K, V> {
    this.#checkOpen()
    try {
      const pin = this.#native.pin(readAt(options))
      return new Snapshot(this, pin.ts, pin)
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * Starts a transaction reading from the snapshot of now. Its writes are buffered until
   * `commit()`; see {@link Transaction} for the isolation guarantees. Prefer
   * {@link Database.transaction}, which commits and retries for you.
   */
  beginTransaction(options?: TransactionOptions): Transaction<K, V> {
    this.#checkOpen()
    const isolation = resolveIsolation(options, ['isolation'])
    let pin: NativeSnapshotPin
    try {
      pin = this.#native.pin(undefined)
    } catch (err) {
      throw fromNative(err)
    }
    return new Transaction(this, pin.ts, isolation, pin)
  }

  /**
   * Runs `fn` in a transaction and commits it; on a ConflictError runs `fn` again on a fresh
   * snapshot, up to `retries` times (default 3), then rejects with the ConflictError. If `fn`
   * throws, the transaction is aborted and the error passed on. Resolves with `fn`'s result;
   * `tx.commitTs` holds the commit timestamp.
   */
  async transaction<R>(fn: (tx: Transaction<K, V>) => R | Promise<R>, options?: RunTransactionOptions): Promise<R> {
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(`transaction() expects a function, got ${describe(fn)}.`)
    }
    const isolation = resolveIsolation(options, ['isolation', 'retries'])
    const retriesOption = (options as { retries?: unknown } | undefined)?.retries
    const retries = retriesOption === undefined ? 3 : toRetries(retriesOption)
    for (let attempt = 0; ; attempt++) {
      const tx = this.beginTransaction({ isolation })
      let result: R
      try {
        result = await fn(tx)
      } catch (err) {
        tx.abort()
        throw err
      }
      try {
        if (tx.active) await tx.commit()
        return result
      } catch (err) {
        if (err instanceof ConflictError && attempt < retries) continue
        throw err
      }
    }
  }

  /** @internal Throws ClosedError once the database is closed. */
  _checkOpen(): void {
    this.#checkOpen()
  }

  /** @internal Encodes a key (a fresh Buffer the caller may keep). */
  _encodeKey(key: K): Buffer {
    return encodeKey(this.#keyCodec, key)
  }

  /** @internal Encodes a value. */
  _encodeValue(value: V): Buffer {
    return encodeValue(this.#valueCodec, value)
  }

  /** @internal Decodes a stored key. */
  _decodeKey(bytes: Buffer): K {
    return decodeWith(this.#keyCodec, bytes, 'key')
  }

  /** @internal Decodes a stored value. */
  _decodeValue(bytes: Buffer): V {
    return decodeWith(this.#valueCodec, bytes, 'value')
  }

  /** @internal Validates getRange options and encodes their bounds. */
  _resolveRange(options: RangeOptions<K> | undefined): NativeRangeOptions {
    return resolveRangeOptions(options, (key) => encodeKey(this.#keyCodec, key))
  }

  /** @internal A raw scan (encoded keys and values) of `range`, which must have `at` set. */
  _rawRange(range: NativeRangeOptions): Iterator<RawEntry> {
    return new PackedIterator(this.#packedSource(range), (buf, keyStart, keyEnd, ts, valueStart, valueEnd) => ({
      key: buf.subarray(keyStart, keyEnd),
      value: buf.subarray(valueStart, valueEnd),
      ts,
    }))
  }

  /** A native cursor over `range` (which has `at` set), checking the database on every batch. */
  #packedSource(range: NativeRangeOptions) {
    this.#checkOpen()
    let cursor: ReturnType<NativeDatabase['range']>
    try {
      cursor = this.#native.range(range)
    } catch (err) {
      throw fromNative(err)
    }
    return {
      next: (max: number) => {
        this.#checkOpen()
        return cursor.nextPacked(max)
      },
      close: () => cursor.close(),
    }
  }

  /** @internal Commits a transaction's writes after validating what it read. */
  _commitTransaction(
    keys: Buffer[],
    values: Array<Buffer | null>,
    readTs: Timestamp,
    readKeys: Buffer[],
    readRanges: NativeKeyRange[],
  ): Promise<Timestamp> {
    if (this.#closed) return Promise.reject(new ClosedError())
    let ts: Timestamp
    try {
      ts = this.#binding.commitTransaction(this.#handle, keys, values, readTs, readKeys, readRanges)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    return keys.length === 0 ? Promise.resolve(ts) : this.#writes.track(ts)
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Closes the database: new calls fail with ClosedError at once, writes already issued settle,
   * then the native handle is released (the engine drains and fsyncs its log when the process's
   * last handle closes). Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown()
    return this.#closing
  }

  async #shutDown(): Promise<void> {
    this.#closed = true
    for (const feed of [...this.#feeds]) feed.end()
    await this.#writes.idle()
    try {
      this.#native.close()
    } catch (err) {
      throw fromNative(err)
    }
  }

  /**
   * Encodes `key` for a fast-path call: utf8 string keys go into the reused scratch buffer,
   * other keys through their codec. Sets #keyArg and returns the key's length in bytes.
   * @throws InvalidArgumentError for a key that is empty, too long or not encodable.
   */
  #encodeKeyArg(key: K): number {
    if (this.#utf8Keys && typeof key === 'string' && key.length <= MAX_KEY_BYTES) {
      const length = this.#keyScratch.write(key, 0, 'utf8')
      if (length > 0 && length <= MAX_KEY_BYTES) {
        this.#keyArg = this.#keyScratch
        return length
      }
    }
    // Every other case, errors included, takes the general path with its checks and messages.
    const bytes = encodeKey(this.#keyCodec, key)
    this.#keyArg = bytes
    return bytes.length
  }

  /**
   * Reads the live value of `key` as of `options.at` into #readBuffer at #readOffset (timestamp
   * first) and returns its length, or -1 when there is none. Takes a fresh slab when the value
   * does not fit after the offset and reads again (a newer, larger version may have landed in
   * between, hence the loop).
   */
  #readInto(key: K, options: ReadOptions | undefined): number {
    return this.#readIntoAt(key, options === undefined ? undefined : readAt(options))
  }

  /** {@link Database.#readInto} with `at` already validated (undefined: now). */
  #readIntoAt(key: K, at: Timestamp | undefined): number {
    const keyLength = this.#encodeKeyArg(key)
    for (;;) {
      const offset = this.#readOffset
      const length = this.#binding.getInto(this.#handle, this.#keyArg, keyLength, at, this.#readBuffer, offset)
      if (length < 0 || offset + TS_BYTES + length <= this.#readBuffer.length) return length
      this.#readBuffer = Buffer.alloc(Math.max(READ_SLAB_BYTES, TS_BYTES + length))
      this.#readOffset = 0
    }
  }

  /** The value #readIntoAt just placed at #readOffset (`length` bytes), decoded. */
  #takeValue(length: number): V {
    const start = this.#readOffset + TS_BYTES
    const end = start + length
    if (!this.#viewValues) return decodeSlice(this.#valueCodec, this.#readBuffer, start, end, 'value')
    // The view is the caller's for good: later reads land after it (8-byte aligned).
    this.#readOffset = (end + 7) & ~7
    return decodeOwned(this.#valueCodec, this.#readBuffer.subarray(start, end), 'value')
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError()
  }

  #checkWritable(): void {
    this.#checkOpen()
    if (this.#readOnly) throw new ReadOnlyError()
  }

  #emptyIteration(): Iterator<never> {
    this.#checkOpen()
    return EMPTY[Symbol.iterator]()
  }
}

function resolveIsolation(options: unknown, allowed: string[]): Isolation {
  if (options === undefined) return 'snapshot'
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`Transaction options must be an object, got ${describe(options)}.`)
  }
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) throw new InvalidArgumentError(`Unknown transaction option '${name}'.`)
  }
  const isolation = (options as { isolation?: unknown }).isolation
  if (isolation === undefined) return 'snapshot'
  if (isolation !== 'snapshot' && isolation !== 'serializable') {
    throw new InvalidArgumentError(`isolation must be 'snapshot' or 'serializable', got ${describe(isolation)}.`)
  }
  return isolation
}

function toRetries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) {
    throw new InvalidArgumentError(`retries must be an integer from 0 to 1000000, got ${describe(value)}.`)
  }
  return value
}
