/**
 * The live change feed behind `db.changes({ live: true })`.
 *
 * A feed hands out versions in commit-timestamp order, the versions of one commit (one batch or
 * transaction, same `ts`) next to each other, first every version already committed with
 * `ts >= since`, then new commits as they become visible. It keeps one number, the cursor: every
 * version with `ts < cursor` has been read. Each step reads the window `[cursor, now + 1)` with
 * the rectangle query that `changes()` uses (key order), sorts it by timestamp (stably, so keys
 * stay in order within a commit) and moves the cursor to `now + 1`. A window holding more than
 * {@link MAX_CHUNK} versions is halved until it fits (a window of a single timestamp is read
 * whole, however large the commit), so catching up on a long history never holds more than one
 * chunk in memory; the window grows back while chunks come out small.
 *
 * Waking up: once caught up, the feed sleeps until one of
 * - a write through any chronokv handle of this thread on the same database is acknowledged
 *   (immediate: {@link wakeFeeds} is called by the database's durability waiter);
 * - the poll timer fires (`pollIntervalMs`, default {@link DEFAULT_POLL_MS}), which compares
 *   `db.now()` with the cursor: this is how commits from other worker threads are seen, with
 *   at most `pollIntervalMs` of delay. A poll is one cheap synchronous native call.
 * The feed ends (iteration completes normally) on `return()` (a `break` out of `for await`), when
 * its AbortSignal aborts, when `until` is reached, or when its database closes.
 *
 * Retention: while it is open, a feed holds a snapshot pin at (or just below) its cursor, moved
 * forward after each read. Compaction never moves the retention horizon past a pin, so the
 * versions the feed has yet to read are never collected, however far behind it falls.
 *
 * @packageDocumentation
 */

import { ClosedError } from './errors'
import type { Timestamp, Version } from './types'

/** Largest number of versions a feed reads and sorts at once (unless one commit is larger). */
export const MAX_CHUNK = 4096
/** Default interval between two `db.now()` polls of a waiting feed, in milliseconds. */
export const DEFAULT_POLL_MS = 50

/**
 * What a feed needs from its database.
 * @internal
 */
export interface FeedSource<K, V> {
  /** The database directory: feeds of one directory are woken together. */
  readonly path: string
  /** True once the database is closed. */
  readonly closed: boolean
  /** The newest visible commit timestamp. */
  now(): Timestamp
  /**
   * The versions with `since <= ts < until` (and a key in the feed's range), in key order; at
   * most `limit` of them when `limit` is given.
   */
  scan(since: Timestamp, until: Timestamp, limit: number | undefined): Array<Version<K, V>>
  /**
   * Pins `at` against retention (nothing with `ts >= at` is collected while the pin is held).
   * @throws InvalidArgumentError when `at` is already before the retention horizon.
   */
  pin(at: Timestamp): { release(): void }
  /** Called once when the feed ends, so the database stops tracking it. */
  release(feed: ChangeFeed<K, V>): void
}

/**
 * Resolved options of a feed.
 * @internal
 */
export interface FeedOptions {
  since: Timestamp
  until: Timestamp | undefined
  pollIntervalMs: number
  signal: AbortSignal | undefined
}

/** Wake-up callbacks of the waiting feeds of this thread, by database directory. */
const wakersByPath = new Map<string, Set<() => void>>()

/**
 * Wakes every feed of this thread following the database in `path`: called after writes were
 * acknowledged, so the feeds look at `db.now()` at once instead of at their next poll.
 * @internal
 */
export function wakeFeeds(path: string): void {
  const wakers = wakersByPath.get(path)
  if (wakers === undefined) return
  for (const wake of [...wakers]) wake()
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/**
 * A live change feed: an async iterator over every version in a key range, in commit-timestamp
 * order, that waits for new commits once it has caught up. Obtain one with
 * `db.changes({ live: true, since })`.
 *
 * To resume later without losing or repeating a commit, store {@link ChangeFeed.position} after
 * handling a version and pass it back as `since`.
 *
 * @example
 * ```ts
 * const controller = new AbortController() // controller.abort() ends the loop
 * const feed = db.changes({ live: true, since: saved.position, signal: controller.signal })
 * for await (const v of feed) {
 *   await forward(v)                  // v: { key, ts, value, deleted }
 *   saved.position = feed.position    // resume from here after a restart
 * }
 * ```
 *
 * @typeParam K - the key type of the database.
 * @typeParam V - the value type of the database.
 */
export class ChangeFeed<K = string, V = any> implements AsyncIterableIterator<Version<K, V>> {
  readonly #source: FeedSource<K, V>
  readonly #until: Timestamp | undefined
  readonly #pollMs: number
  readonly #signal: AbortSignal | undefined
  /** Every version with ts < #cursor has been read into #buffer (and maybe handed out). */
  #cursor: Timestamp
  #buffer: Array<Version<K, V>> = []
  #next = 0
  /** Width of the next window to read; Infinity reads up to now. */
  #span = Infinity
  #ended = false
  /** Keeps retention from collecting what the feed has not read: held at <= #cursor. */
  #pin: { release(): void } | undefined
  /** Ends the current sleep early; undefined while not sleeping. */
  #wake: (() => void) | undefined
  /** next() calls run one after the other. */
  #queue: Promise<unknown> = Promise.resolve()
  readonly #waker = (): void => this.#wake?.()
  readonly #onAbort = (): void => this.end()

  /**
   * Starts a feed reading from `options.since`. Use `db.changes({ live: true })` instead.
   * @internal
   */
  constructor(source: FeedSource<K, V>, options: FeedOptions) {
    this.#source = source
    this.#cursor = options.since
    this.#until = options.until
    this.#pollMs = options.pollIntervalMs
    this.#signal = options.signal
    this.#pin = source.pin(Math.min(options.since, source.now()))
    let wakers = wakersByPath.get(source.path)
    if (wakers === undefined) wakersByPath.set(source.path, (wakers = new Set()))
    wakers.add(this.#waker)
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
    if (this.#signal?.aborted) this.end()
  }

  /**
   * Where to resume: pass it as `since` to a new feed to get every version this feed has not
   * handed out yet, and none that it has, except that a commit whose versions were only partly
   * handed out is delivered again in full (versions of one commit share their `ts`).
   */
  get position(): Timestamp {
    return this.#next < this.#buffer.length ? this.#buffer[this.#next]!.ts : this.#cursor
  }

  /** True once the feed has ended (return(), abort, `until` reached or database closed). */
  get ended(): boolean {
    return this.#ended
  }

  /**
   * The next version, waiting for a commit when the feed has handed out everything committed.
   * Resolves `{ done: true }` once the feed has ended; rejects with a ChronoError if a read fails
   * (the feed then ends).
   */
  next(): Promise<IteratorResult<Version<K, V>, undefined>> {
    const result = this.#queue.then(() => this.#pull())
    this.#queue = result.catch(() => undefined)
    return result
  }

  /** Ends the feed (what `break` in `for await` calls); a pending next() resolves `{ done: true }`. */
  return(): Promise<IteratorReturnResult<undefined>> {
    this.end()
    return Promise.resolve(DONE)
  }

  /** Ends the feed now: pending and later next() calls resolve `{ done: true }`. Idempotent. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    // Drop what was read but not handed out, except the first such version: `position` stays
    // right after the end.
    this.#buffer = this.#buffer.slice(this.#next, this.#next + 1)
    this.#next = 0
    const wakers = wakersByPath.get(this.#source.path)
    if (wakers !== undefined) {
      wakers.delete(this.#waker)
      if (wakers.size === 0) wakersByPath.delete(this.#source.path)
    }
    this.#signal?.removeEventListener('abort', this.#onAbort)
    const pin = this.#pin
    this.#pin = undefined
    try {
      pin?.release()
    } catch {
      // The database is closed: its pins are gone with it.
    }
    this.#source.release(this)
    this.#wake?.()
  }

  /** The feed itself: `for await (const version of feed)`. */
  [Symbol.asyncIterator](): this {
    return this
  }

  async #pull(): Promise<IteratorResult<Version<K, V>, undefined>> {
    for (;;) {
      if (this.#ended) return DONE
      if (this.#next < this.#buffer.length) return { done: false, value: this.#buffer[this.#next++]! }
      if (this.#until !== undefined && this.#cursor >= this.#until) {
        this.end()
        return DONE
      }
      let now: Timestamp
      try {
        now = this.#source.now()
        if (now >= this.#cursor) {
          this.#read(now)
          continue
        }
      } catch (err) {
        this.end()
        if (err instanceof ClosedError || this.#source.closed) return DONE
        throw err
      }
      await this.#sleep()
    }
  }

  /** Reads the next window up to `now` into the buffer, or narrows the window if it is too full. */
  #read(now: Timestamp): void {
    const lo = this.#cursor
    const to = this.#until === undefined ? now + 1 : Math.min(this.#until, now + 1)
    const hi = this.#span >= to - lo ? to : lo + this.#span
    const limit = hi - lo > 1 ? MAX_CHUNK + 1 : undefined
    const versions = this.#source.scan(lo, hi, limit)
    if (limit !== undefined && versions.length > MAX_CHUNK) {
      this.#span = Math.max(1, Math.floor((hi - lo) / 2))
      return
    }
    // Key order from the scan; a stable sort keeps it within each commit.
    versions.sort((a, b) => a.ts - b.ts)
    this.#buffer = versions
    this.#next = 0
    this.#cursor = hi
    // Move the pin up to min(hi, now): never past the new cursor, never after now. The new pin
    // is taken before the old one goes, so what is left to read stays protected throughout.
    const previous = this.#pin
    this.#pin = this.#source.pin(Math.min(hi, now))
    previous?.release()
    if (this.#span !== Infinity && versions.length < MAX_CHUNK / 4) this.#span *= 2
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, this.#pollMs)
      this.#wake = done
    })
  }
}
