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

/** Where a {@link BatchIterator} pulls raw rows from: a native cursor or anything shaped like it. @internal */
export interface BatchSource<R> {
  /** Up to `max` further rows; an empty array once exhausted. */
  next(max: number): R[]
  /** Releases the source; called exactly once. */
  close(): void
}

/**
 * An iterator over a {@link BatchSource}: pulls growing batches and converts each row with
 * `convert` as it is handed out. Closes the source when exhausted, on `return()` and on any error.
 * @internal
 */
export class BatchIterator<R, T> implements IterableIterator<T> {
  #source: BatchSource<R> | undefined
  #batch: R[] = []
  #index = 0
  #batchSize = FIRST_BATCH
  readonly #convert: (row: R) => T

  constructor(source: BatchSource<R>, convert: (row: R) => T) {
    this.#source = source
    this.#convert = convert
  }

  next(): IteratorResult<T, undefined> {
    try {
      if (this.#index === this.#batch.length) {
        if (this.#source === undefined) return { done: true, value: undefined }
        this.#batch = this.#source.next(this.#batchSize)
        this.#index = 0
        this.#batchSize = Math.min(this.#batchSize * 2, MAX_BATCH)
        if (this.#batch.length === 0) {
          this.#close()
          return { done: true, value: undefined }
        }
      }
      return { done: false, value: this.#convert(this.#batch[this.#index++] as R) }
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
    this.#batch = []
    this.#index = 0
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
