/**
 * Transactions: reads from one snapshot plus the transaction's own writes, buffered writes,
 * and an atomic commit validated by the engine.
 *
 * Writes stay in this object until `commit()`, so nothing of an unfinished or aborted
 * transaction is ever visible to anyone else. At commit the engine checks, under its commit
 * sequencer and before taking a timestamp, that no commit after `readTs` wrote a key this
 * transaction writes (first committer wins) and, for `'serializable'`, that none changed a key
 * it read or a key inside a range it scanned; otherwise the commit fails with ConflictError and
 * writes nothing.
 *
 * @packageDocumentation
 */

import { ClosedError, fromNative, InvalidArgumentError } from './errors'
import type { Database } from './database'
import type { NativeKeyRange, NativeRangeOptions, NativeSnapshotPin } from './native'
import { RangeIterable } from './range-iterable'
import type {
  Isolation,
  PendingEntry,
  RangeOptions,
  Timestamp,
  TransactionEntry,
} from './types'

/** A buffered write: the encoded key, and the encoded value or null for a delete. */
interface BufferedWrite {
  key: Buffer
  value: Buffer | null
}

type State = 'active' | 'committing' | 'committed' | 'aborted'

/**
 * An open transaction. Obtain one with `db.beginTransaction()`, or let `db.transaction(fn)`
 * run, commit and retry it.
 */
export class Transaction<K = string, V = any> {
  /** The snapshot every read of this transaction sees (plus its own writes). */
  readonly readTs: Timestamp
  /** The isolation level its commit is validated at. */
  readonly isolation: Isolation
  readonly #db: Database<K, V>
  /** Buffered writes by encoded key (latin1 string of the bytes: a faithful map key). */
  readonly #writes = new Map<string, BufferedWrite>()
  /** Keys read from the snapshot (serializable only), by the same map key. */
  readonly #readKeys = new Map<string, Buffer>()
  readonly #readRanges: NativeKeyRange[] = []
  #state: State = 'active'
  #commitTs: Timestamp | undefined
  /** Keeps retention from collecting what readTs sees until the transaction ends (or GC). */
  readonly #pin: NativeSnapshotPin

  /** @internal Use `db.beginTransaction()` or `db.transaction()`. */
  constructor(db: Database<K, V>, readTs: Timestamp, isolation: Isolation, pin: NativeSnapshotPin) {
    this.#db = db
    this.readTs = readTs
    this.isolation = isolation
    this.#pin = pin
  }

  /** The commit timestamp, once `commit()` has resolved; undefined before. */
  get commitTs(): Timestamp | undefined {
    return this.#commitTs
  }

  /** True while the transaction can still read, write and commit. */
  get active(): boolean {
    return this.#state === 'active'
  }

  /** The value of `key`: this transaction's own write if there is one, else the snapshot's. */
  get(key: K): V | undefined {
    return this.getEntry(key)?.value
  }

  /**
   * `{ key, value, ts }` of `key` in the snapshot, or this transaction's pending write
   * (`{ key, value, ts: undefined, pending: true }`), or undefined when there is no value.
   */
  getEntry(key: K): TransactionEntry<K, V> | undefined {
    this.#checkActive()
    const bytes = this.#db._encodeKey(key)
    const own = this.#writes.get(mapKey(bytes))
    if (own !== undefined) return own.value === null ? undefined : this.#pending(own.key, own.value)
    this.#noteRead(bytes)
    return this.#db.getEntry(key, { at: this.readTs })
  }

  /** True when `get(key)` would return a value. */
  has(key: K): boolean {
    return this.getEntry(key) !== undefined
  }

  /**
   * A lazy scan of the snapshot merged with this transaction's own writes (its puts appear, its
   * deletes hide keys), in encoded-key order. Takes the options of `db.getRange` without `at`.
   */
  getRange(options?: Omit<RangeOptions<K>, 'at'>): RangeIterable<TransactionEntry<K, V>> {
    this.#checkActive()
    rejectAt(options, 'in a transaction', 'its readTs')
    let range: NativeRangeOptions
    try {
      range = this.#db._resolveRange(options)
    } catch (err) {
      throw fromNative(err)
    }
    const limit = range.limit ?? Infinity
    delete range.limit
    range.at = this.readTs
    if (this.isolation === 'serializable') {
      const read: NativeKeyRange = {}
      if (range.gt !== undefined) read.gt = range.gt
      if (range.gte !== undefined) read.gte = range.gte
      if (range.lt !== undefined) read.lt = range.lt
      if (range.lte !== undefined) read.lte = range.lte
      this.#readRanges.push(read)
    }
    return new RangeIterable(() => {
      this.#checkActive()
      return this.#merge(range, limit)
    })
  }

  /** Buffers a put; it is visible to this transaction's reads at once and to others after commit. */
  put(key: K, value: V): void {
    this.#checkActive()
    const bytes = this.#db._encodeKey(key)
    this.#writes.set(mapKey(bytes), { key: bytes, value: this.#db._encodeValue(value) })
  }

  /** Buffers a delete. */
  delete(key: K): void {
    this.#checkActive()
    const bytes = this.#db._encodeKey(key)
    this.#writes.set(mapKey(bytes), { key: bytes, value: null })
  }

  /**
   * Commits atomically: resolves with the commit timestamp once durable, or rejects with
   * ConflictError (nothing written) when another commit got in first. A transaction without
   * writes commits at `readTs`: it read one consistent snapshot, which is serializable as is.
   */
  async commit(): Promise<Timestamp> {
    this.#checkActive()
    const writes = [...this.#writes.values()]
    if (writes.length === 0) {
      // A read-only transaction read one consistent snapshot, so it serializes at readTs
      // whatever committed since: nothing to validate, nothing to write.
      this.#state = 'committed'
      this.#commitTs = this.readTs
      this.#pin.release()
      return this.readTs
    }
    this.#state = 'committing'
    try {
      const ts = await this.#db._commitTransaction(
        writes.map((w) => w.key),
        writes.map((w) => w.value),
        this.readTs,
        [...this.#readKeys.values()],
        this.#readRanges,
      )
      this.#commitTs = ts
      this.#state = 'committed'
      return this.#commitTs
    } catch (err) {
      this.#state = 'aborted'
      throw fromNative(err)
    } finally {
      this.#pin.release()
    }
  }

  /** Drops the buffered writes. Idempotent; a no-op after commit. */
  abort(): void {
    if (this.#state === 'active') this.#state = 'aborted'
    this.#writes.clear()
    if (this.#state !== 'committing') this.#pin.release()
  }

  #checkActive(): void {
    this.#db._checkOpen()
    if (this.#state !== 'active') {
      throw new ClosedError(`The transaction is ${this.#state === 'committing' ? 'committing' : this.#state}; start a new one.`)
    }
  }

  #noteRead(bytes: Buffer): void {
    if (this.isolation === 'serializable') this.#readKeys.set(mapKey(bytes), bytes)
  }

  #pending(key: Buffer, value: Buffer): PendingEntry<K, V> {
    return { key: this.#db._decodeKey(key), value: this.#db._decodeValue(value), ts: undefined, pending: true }
  }

  *#merge(range: NativeRangeOptions, limit: number): Generator<TransactionEntry<K, V>> {
    const direction = range.reverse ? -1 : 1
    const own = [...this.#writes.values()]
      .filter((w) => inRange(w.key, range))
      .sort((a, b) => Buffer.compare(a.key, b.key) * direction)
    const snapshot = this.#db._rawRange(range)
    let next = snapshot.next()
    let i = 0
    let yielded = 0
    try {
      while (yielded < limit) {
        const mine = own[i]
        const theirs = next.done ? undefined : next.value
        if (mine === undefined && theirs === undefined) return
        const order =
          mine === undefined ? 1 : theirs === undefined ? -1 : Buffer.compare(mine.key, theirs.key) * direction
        if (order <= 0) {
          i++
          if (order === 0) next = snapshot.next()
          if (mine!.value === null) continue
          yielded++
          yield this.#pending(mine!.key, mine!.value)
        } else {
          next = snapshot.next()
          yielded++
          yield { key: this.#db._decodeKey(theirs!.key), value: this.#db._decodeValue(theirs!.value), ts: theirs!.ts }
        }
      }
    } finally {
      snapshot.return?.()
    }
  }
}

function mapKey(bytes: Buffer): string {
  return bytes.toString('latin1')
}

function inRange(key: Buffer, range: NativeRangeOptions): boolean {
  if (range.gt !== undefined && Buffer.compare(key, range.gt) <= 0) return false
  if (range.gte !== undefined && Buffer.compare(key, range.gte) < 0) return false
  if (range.lt !== undefined && Buffer.compare(key, range.lt) >= 0) return false
  if (range.lte !== undefined && Buffer.compare(key, range.lte) > 0) return false
  return true
}

/**
 * Refuses an `at` in the range options of a transaction or snapshot, which read at their own
 * timestamp; anything that is not an options object is left for the shared validation.
 * @internal
 */
export function rejectAt(options: unknown, where: string, own: string): void {
  if (typeof options === 'object' && options !== null && !Array.isArray(options) && (options as { at?: unknown }).at !== undefined) {
    throw new InvalidArgumentError(`getRange() ${where} reads at ${own} and takes no \`at\`.`)
  }
}
