/**
 * Snapshots: read views pinned at one commit timestamp.
 *
 * @packageDocumentation
 */

import { ClosedError, fromNative } from './errors'
import type { Database } from './database'
import type { NativeSnapshotPin } from './native'
import { RangeIterable } from './range-iterable'
import { rejectAt } from './transaction'
import type { Entry, RangeOptions, Timestamp } from './types'

/**
 * A read view of the database as it was at {@link Snapshot.ts}: every read through it sees
 * exactly the commits with a timestamp up to `ts`, however many commits land meanwhile.
 * History inside a snapshot stays readable until it is closed (retention never collects what
 * an open snapshot can see). Obtain one with `db.snapshot()`.
 */
export class Snapshot<K = string, V = any> {
  /** The commit timestamp this view is pinned at. */
  readonly ts: Timestamp
  readonly #db: Database<K, V>
  /** Keeps retention from collecting what this snapshot sees; released by close() (or by GC). */
  readonly #pin: NativeSnapshotPin
  #closed = false

  /** @internal Use `db.snapshot()`. */
  constructor(db: Database<K, V>, ts: Timestamp, pin: NativeSnapshotPin) {
    this.#db = db
    this.ts = ts
    this.#pin = pin
  }

  /** The value of `key` in this snapshot, or undefined. */
  get(key: K): V | undefined {
    this.#checkOpen()
    return this.#db.get(key, { at: this.ts })
  }

  /** `{ key, value, ts }` of `key` in this snapshot, or undefined. */
  getEntry(key: K): Entry<K, V> | undefined {
    this.#checkOpen()
    return this.#db.getEntry(key, { at: this.ts })
  }

  /** True when `key` has a value in this snapshot. */
  has(key: K): boolean {
    this.#checkOpen()
    return this.#db.has(key, { at: this.ts })
  }

  /** The values of several keys in this snapshot. */
  getMany(keys: readonly K[]): Array<V | undefined> {
    this.#checkOpen()
    return this.#db.getMany(keys, { at: this.ts })
  }

  /**
   * A lazy scan of this snapshot (the options of `db.getRange`, without `at`). Iterating it
   * after the snapshot is closed throws ClosedError.
   */
  getRange(options?: Omit<RangeOptions<K>, 'at'>): RangeIterable<Entry<K, V>> {
    this.#checkOpen()
    rejectAt(options, 'on a snapshot', 'the snapshot ts')
    let range: RangeIterable<Entry<K, V>>
    try {
      // Validates the options as db.getRange does (a non-object is refused there).
      this.#db._resolveRange(options as RangeOptions<K> | undefined)
      range = this.#db.getRange({ ...(options as object), at: this.ts })
    } catch (err) {
      throw fromNative(err)
    }
    return new RangeIterable(() => {
      this.#checkOpen()
      const inner = range[Symbol.iterator]()
      return {
        next: () => {
          this.#checkOpen()
          return inner.next()
        },
        return: (value?: unknown) => inner.return?.(value) ?? { done: true, value: undefined },
      }
    })
  }

  /** Releases the snapshot; later reads through it throw ClosedError. Idempotent. */
  close(): void {
    this.#closed = true
    this.#pin.release()
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('The snapshot is closed.')
  }
}
