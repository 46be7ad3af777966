/**
 * Coalesced waiting for durability.
 *
 * The binding's `put`, `delete` and `batch` are synchronous: they log and apply the write and
 * return its commit timestamp at once. A write is acknowledged (durable under the database's
 * durability mode, and visible) once `waitDurable(ts)` resolves with a watermark `>= ts`.
 *
 * Calling `waitDurable` once per write would cost one async round trip each. Instead, as lmdb-js
 * does for its commits, this class queues the pending writes and keeps at most ONE
 * `waitDurable(maxPendingTs)` in flight:
 *
 * - the first write of a tick schedules a wait for the end of the tick (a microtask), so every
 *   write issued synchronously in that tick is covered by one wait for the largest timestamp;
 * - when a wait resolves with watermark W, every pending write with `ts <= W` resolves with its
 *   own timestamp; if writes remain (they arrived while waiting), one more wait starts for the
 *   new largest timestamp;
 * - when a wait rejects (the log failed: CHRONOKV_IO), every pending write rejects with the
 *   mapped error.
 *
 * So 10,000 puts in one tick cost 10,000 cheap synchronous calls and a handful of async round trips.
 *
 * @internal
 * @packageDocumentation
 */

import { fromNative, type ChronoError } from './errors'
import type { Timestamp } from './types'

interface PendingWrite {
  ts: Timestamp
  resolve: (ts: Timestamp) => void
  reject: (err: ChronoError) => void
}

/** Resolves write promises as the durable watermark passes them. @internal */
export class DurabilityWaiter {
  readonly #waitDurable: (ts: Timestamp) => Promise<Timestamp>
  #pending: PendingWrite[] = []
  /** True from the moment a wait is scheduled until the queue is empty again. */
  #waiting = false
  #onIdle: Array<() => void> = []
  readonly #onAcknowledged: (() => void) | undefined

  /**
   * @param waitDurable - the binding's waitDurable, bound to its database.
   * @param onAcknowledged - called after writes were acknowledged (once per durability wait,
   *   not once per write), after their promises resolved.
   */
  constructor(waitDurable: (ts: Timestamp) => Promise<Timestamp>, onAcknowledged?: () => void) {
    this.#waitDurable = waitDurable
    this.#onAcknowledged = onAcknowledged
  }

  /** Number of writes whose promise has not settled yet. */
  get pending(): number {
    return this.#pending.length
  }

  /** A promise of `ts` that resolves once the write with commit timestamp `ts` is acknowledged. */
  track(ts: Timestamp): Promise<Timestamp> {
    return new Promise<Timestamp>((resolve, reject) => {
      this.#pending.push({ ts, resolve, reject })
      if (!this.#waiting) {
        this.#waiting = true
        queueMicrotask(() => this.#waitForNewest())
      }
    })
  }

  /** Resolves once every tracked write has settled (never rejects). */
  idle(): Promise<void> {
    if (!this.#waiting) return Promise.resolve()
    return new Promise((resolve) => this.#onIdle.push(resolve))
  }

  #waitForNewest(): void {
    let newest = 0
    for (const write of this.#pending) if (write.ts > newest) newest = write.ts
    let wait: Promise<Timestamp>
    try {
      wait = this.#waitDurable(newest)
    } catch (err) {
      this.#fail(err)
      return
    }
    wait.then(
      (watermark) => this.#advance(watermark),
      (err: unknown) => this.#fail(err),
    )
  }

  #advance(watermark: Timestamp): void {
    const remaining: PendingWrite[] = []
    for (const write of this.#pending) {
      if (write.ts <= watermark) write.resolve(write.ts)
      else remaining.push(write)
    }
    const acknowledged = remaining.length < this.#pending.length
    this.#pending = remaining
    if (remaining.length > 0) this.#waitForNewest()
    else this.#becomeIdle()
    if (acknowledged) this.#onAcknowledged?.()
  }

  #fail(err: unknown): void {
    const error = fromNative(err)
    const failed = this.#pending
    this.#pending = []
    for (const write of failed) write.reject(error)
    this.#becomeIdle()
  }

  #becomeIdle(): void {
    this.#waiting = false
    const callbacks = this.#onIdle
    this.#onIdle = []
    for (const callback of callbacks) callback()
  }
}
