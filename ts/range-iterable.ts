/**
 * Lazy, re-iterable results of range scans and histories.
 *
 * A {@link RangeIterable} holds a recipe, not results: each iteration (each `for...of`, each
 * `asArray`) runs it afresh. Scans read from a native cursor in batches that start at 16 entries
 * and double up to 1024, so a loop that stops after a few entries reads only a few, and a long
 * scan crosses into native code once per 1024 entries. The cursor is closed when the iteration
 * finishes, stops early (`break`, `return`, a thrown error) or fails.
 *
 * @packageDocumentation
 */

import { fromNative, InvalidArgumentError } from './errors'

const FIRST_BATCH = 16
const MAX_BATCH = 1024
/** Bytes before each packed entry's key: key_len u32, ts f64, value_len u32 (all LE). */
const ENTRY_HEADER = 16
const EMPTY = Buffer.alloc(0)

/**
 * Where a {@link PackedIterator} pulls batches from: a native range cursor. A batch is one
 * Buffer of entries `key_len:u32 | ts:f64 | value_len:u32 | key | value`, empty once exhausted.
 * @internal
 */
export interface PackedSource {
  /** Up to `max` further entries, packed; an empty Buffer once exhausted. */
  next(max: number): Buffer
  /** Releases the source; called exactly once. */
  close(): void
}

/**
 * Turns one packed entry into a result: `buf[keyStart, keyEnd)` is the key,
 * `buf[valueStart, valueEnd)` the value. `buf` is a fresh Buffer per batch, never reused, so
 * views into it stay valid.
 * @internal
 */
export type PackedConvert<T> = (buf: Buffer, keyStart: number, keyEnd: number, ts: number, valueStart: number, valueEnd: number) => T

/**
 * An iterator over a {@link PackedSource}: pulls batches that grow from 16 to 1024 entries (one
 * native call and one Buffer per batch) and converts each entry as it is handed out. Closes the
 * source when exhausted, on `return()` and on any error.
 * @internal
 */
export class PackedIterator<T> implements IterableIterator<T> {
  #source: PackedSource | undefined
  #buf: Buffer = EMPTY
  #pos = 0
  #batchSize = FIRST_BATCH
  readonly #convert: PackedConvert<T>

  constructor(source: PackedSource, convert: PackedConvert<T>) {
    this.#source = source
    this.#convert = convert
  }

  next(): IteratorResult<T, undefined> {
    try {
      if (this.#pos >= this.#buf.length) {
        if (this.#source === undefined) return { done: true, value: undefined }
        this.#buf = this.#source.next(this.#batchSize)
        this.#pos = 0
        this.#batchSize = Math.min(this.#batchSize * 2, MAX_BATCH)
        if (this.#buf.length === 0) {
          this.#close()
          return { done: true, value: undefined }
        }
      }
      const buf = this.#buf
      const at = this.#pos
      const keyStart = at + ENTRY_HEADER
      const keyEnd = keyStart + buf.readUInt32LE(at)
      const valueEnd = keyEnd + buf.readUInt32LE(at + 12)
      this.#pos = valueEnd
      return { done: false, value: this.#convert(buf, keyStart, keyEnd, buf.readDoubleLE(at + 4), keyEnd, valueEnd) }
    } catch (err) {
      this.#close()
      throw fromNative(err)
    }
  }

  return(): IteratorResult<T, undefined> {
    this.#close()
    return { done: true, value: undefined }
  }

  [Symbol.iterator](): this {
    return this
  }

  #close(): void {
    const source = this.#source
    this.#source = undefined
    this.#buf = EMPTY
    this.#pos = 0
    if (source !== undefined) source.close()
  }
}

/**
 * A lazy sequence of results (`getRange` entries, `history` versions). Iterate it with
 * `for...of`, spread it, or collect it with {@link RangeIterable.asArray}. It can be iterated
 * more than once; a `getRange` re-reads the same snapshot each time.
 *
 * `map` and `filter` return new lazy RangeIterables: nothing is read until they are iterated.
 */
export class RangeIterable<T> implements Iterable<T> {
  readonly #iterate: () => Iterator<T>

  /**
   * @param iterate - called once per iteration; returns a fresh iterator.
   */
  constructor(iterate: () => Iterator<T>) {
    this.#iterate = iterate
  }

  /** Starts a new iteration. */
  [Symbol.iterator](): Iterator<T> {
    return this.#iterate()
  }

  /** A lazy RangeIterable of `fn(item, index)` for each item. */
  map<U>(fn: (item: T, index: number) => U): RangeIterable<U> {
    requireFunction('map', fn)
    const source = this
    return new RangeIterable(function* () {
      let index = 0
      for (const item of source) yield fn(item, index++)
    })
  }

  /** A lazy RangeIterable of the items for which `predicate(item, index)` is truthy. */
  filter<S extends T>(predicate: (item: T, index: number) => item is S): RangeIterable<S>
  filter(predicate: (item: T, index: number) => unknown): RangeIterable<T>
  filter(predicate: (item: T, index: number) => unknown): RangeIterable<T> {
    requireFunction('filter', predicate)
    const source = this
    return new RangeIterable(function* () {
      let index = 0
      for (const item of source) if (predicate(item, index++)) yield item
    })
  }

  /** Calls `fn(item, index)` for each item, in order. */
  forEach(fn: (item: T, index: number) => void): void {
    requireFunction('forEach', fn)
    let index = 0
    for (const item of this) fn(item, index++)
  }

  /**
   * Every item, read now into an array. A getter (as in lmdb-js): `db.getRange().asArray`.
   * Each access runs the iteration again.
   */
  get asArray(): T[] {
    return Array.from(this)
  }
}

function requireFunction(method: string, fn: unknown): void {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`${method}() expects a function, got ${fn === null ? 'null' : typeof fn}.`)
  }
}
