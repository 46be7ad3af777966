/**
 * Iterators of the abstract-level adapter: entries, keys and values.
 *
 * Each iterator reads through a {@link Cursor}: a chronokv `getRange` at one fixed commit
 * timestamp, so the whole iteration — including every `seek()`, which starts a new `getRange`
 * at the same timestamp — sees one consistent snapshot. Unless the iterator reads an explicit
 * snapshot (which pins itself), the cursor pins its timestamp with a chronokv snapshot, so
 * retention cannot collect what the iterator may still read; the pin is released on close.
 *
 * chronokv reads are synchronous. Without a `signal`, `_next`, `_nextv` and `_all` do all
 * their work before they return. With one, a call first yields a microtask and then reads in
 * chunks of {@link SIGNAL_CHUNK} entries, yielding to the event loop between chunks, and checks
 * the signal before each chunk: aborting it while a call is in flight rejects the call with
 * `LEVEL_ABORTED` (abstract-level rejects every later call).
 *
 * @packageDocumentation
 */

import { setImmediate as nextMacrotask } from 'node:timers/promises'
import {
  AbstractIterator,
  AbstractKeyIterator,
  AbstractValueIterator,
  type AbstractIteratorOptions,
  type AbstractKeyIteratorOptions,
  type AbstractLevel,
  type AbstractValueIteratorOptions,
} from 'abstract-level'
import type { Database } from '../database'
import type { Snapshot } from '../snapshot'
import type { Entry, Timestamp } from '../types'
import { abortError, toLevelError } from './errors'
import { levelKey, seekRange, type StoreRange } from './keys'

/** The database type iterators are created for. @internal */
export type AnyLevel = AbstractLevel<Buffer, any, any>

/** Entries read between two checks of an iterator's signal. */
const SIGNAL_CHUNK = 1024

/** A stored entry with the adapter's key prefix removed. */
type LevelEntry = [key: Buffer, value: Buffer]

/**
 * A position in a key range of one chronokv snapshot; see the module comment.
 * @internal
 */
export class Cursor {
  readonly #db: Database<Buffer, Buffer>
  readonly #range: StoreRange
  readonly #reverse: boolean
  readonly #at: Timestamp
  /** The chronokv snapshot pinning `#at`, owned (and closed) by this cursor; none for explicit snapshots. */
  readonly #pin: Snapshot<Buffer, Buffer> | undefined
  /** The first scan's limit; a scan after seek() runs unlimited (abstract-level counts the total). */
  #limit: number | undefined
  /** Bounds of the next scan: `#range`, narrowed by the last seek(). */
  #next: StoreRange
  #entries: Iterator<Entry<Buffer, Buffer>> | undefined
  #exhausted = false
  readonly #signal: AbortSignal | undefined

  /**
   * @param limit - at most this many entries from the first scan (negative: no limit).
   * @param pin - a chronokv snapshot at `at` that the cursor closes on close(), if any.
   * @param signal - the iterator's abort signal, if any.
   */
  constructor(
    db: Database<Buffer, Buffer>,
    range: StoreRange,
    reverse: boolean,
    limit: number,
    at: Timestamp,
    pin: Snapshot<Buffer, Buffer> | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.#db = db
    this.#range = range
    this.#next = range
    this.#reverse = reverse
    this.#limit = limit >= 0 ? limit : undefined
    this.#at = at
    this.#pin = pin
    this.#signal = signal
  }

  /** The next entry, or undefined at the end of the range. */
  read(): LevelEntry | undefined {
    if (this.#exhausted) return undefined
    try {
      this.#entries ??= this.#db
        .getRange({ ...this.#next, reverse: this.#reverse, limit: this.#limit, at: this.#at })
        [Symbol.iterator]()
      const result = this.#entries.next()
      if (result.done === true) {
        this.#exhausted = true
        this.#entries = undefined
        return undefined
      }
      return [levelKey(result.value.key), result.value.value]
    } catch (err) {
      throw toLevelError(err)
    }
  }

  /** Up to `size` further entries; fewer only at the end of the range. */
  readMany(size: number): LevelEntry[] {
    const entries: LevelEntry[] = []
    while (entries.length < size) {
      const entry = this.read()
      if (entry === undefined) break
      entries.push(entry)
    }
    return entries
  }

  /**
   * Up to `size` further entries (fewer only at the end of the range), honouring the signal:
   * see the module comment.
   */
  async take(size: number): Promise<LevelEntry[]> {
    const signal = this.#signal
    if (signal === undefined) return this.readMany(size)
    const entries: LevelEntry[] = []
    for (let first = true; entries.length < size; first = false) {
      if (first) await undefined
      else await nextMacrotask()
      if (signal.aborted) throw abortError(signal.reason)
      const chunk = this.readMany(Math.min(SIGNAL_CHUNK, size - entries.length))
      for (const entry of chunk) entries.push(entry)
      if (chunk.length < SIGNAL_CHUNK) break
    }
    return entries
  }

  /**
   * Moves to the first key at or after `target` (at or before it when reversed) that lies in the
   * iterator's range, in the same snapshot.
   * @param target - an encoded level key (any length; it need not exist).
   */
  seek(target: Uint8Array): void {
    this.#entries?.return?.()
    this.#entries = undefined
    this.#exhausted = false
    this.#limit = undefined
    this.#next = seekRange(this.#range, target, this.#reverse)
  }

  /** Releases the scan and the pin. */
  close(): void {
    this.#exhausted = true
    try {
      this.#entries?.return?.()
    } finally {
      this.#entries = undefined
      this.#pin?.close()
    }
  }
}

/** Iterator of `[key, value]` entries, for `db.iterator()`. @internal */
export class ChronoIterator extends AbstractIterator<AnyLevel, Buffer, Buffer> {
  readonly #cursor: Cursor

  constructor(db: AnyLevel, options: AbstractIteratorOptions<Buffer, Buffer>, cursor: Cursor) {
    super(db, options)
    this.#cursor = cursor
  }

  async _next(): Promise<LevelEntry | undefined> {
    return (await this.#cursor.take(1))[0]
  }

  async _nextv(size: number): Promise<LevelEntry[]> {
    return this.#cursor.take(size)
  }

  async _all(): Promise<LevelEntry[]> {
    return this.#cursor.take(Infinity)
  }

  _seek(target: Buffer): void {
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}

/** Iterator of keys, for `db.keys()`. @internal */
export class ChronoKeyIterator extends AbstractKeyIterator<AnyLevel, Buffer> {
  readonly #cursor: Cursor

  constructor(db: AnyLevel, options: AbstractKeyIteratorOptions<Buffer>, cursor: Cursor) {
    super(db, options)
    this.#cursor = cursor
  }

  async _next(): Promise<Buffer | undefined> {
    return (await this.#cursor.take(1))[0]?.[0]
  }

  async _nextv(size: number): Promise<Buffer[]> {
    return (await this.#cursor.take(size)).map((entry) => entry[0])
  }

  async _all(): Promise<Buffer[]> {
    return (await this.#cursor.take(Infinity)).map((entry) => entry[0])
  }

  _seek(target: Buffer): void {
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}

/** Iterator of values, for `db.values()`. @internal */
export class ChronoValueIterator extends AbstractValueIterator<AnyLevel, Buffer, Buffer> {
  readonly #cursor: Cursor

  constructor(db: AnyLevel, options: AbstractValueIteratorOptions<Buffer, Buffer>, cursor: Cursor) {
    super(db, options)
    this.#cursor = cursor
  }

  async _next(): Promise<Buffer | undefined> {
    return (await this.#cursor.take(1))[0]?.[1]
  }

  async _nextv(size: number): Promise<Buffer[]> {
    return (await this.#cursor.take(size)).map((entry) => entry[1])
  }

  async _all(): Promise<Buffer[]> {
    return (await this.#cursor.take(Infinity)).map((entry) => entry[1])
  }

  _seek(target: Buffer): void {
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}
