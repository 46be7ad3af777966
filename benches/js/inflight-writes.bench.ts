/**
 * W5: 10,000 durable writes in flight at once: issued in one tick, each with its own promise,
 * then all awaited. Hand-timed per store and round: whole batches of 10,000 are run until
 * `maxTime` has passed (at least 2 batches, after one untimed warm-up batch per store), and the
 * rate is reported in writes/s. (A benny operation of 10,000 writes would take ~1 s on the
 * slowest store, and benny's minimum of 5 samples per round would blow the quick run's budget.)
 *
 * Run: node --import tsx benches/js/inflight-writes.bench.ts [--full]
 */

import { keyOf, valueOf, type LoadOp } from './lib/data'
import { runWorkload } from './lib/measure'
import type { Store, StoreName } from './lib/stores'

const IN_FLIGHT = 10_000

/** Ten sets of 10,000 keys, cycled (later cycles overwrite: still one durable write each). */
const SETS: LoadOp[][] = []
for (let s = 0; s < 10; s++) {
  const ops: LoadOp[] = []
  for (let i = s * IN_FLIGHT; i < (s + 1) * IN_FLIGHT; i++) ops.push({ key: keyOf(i), value: valueOf(i) })
  SETS.push(ops)
}

const next = new Map<StoreName, number>()

function batch(store: Store): Promise<void[]> {
  const n = next.get(store.name) ?? 0
  next.set(store.name, n + 1)
  const ops = SETS[n % SETS.length] as LoadOp[]
  const acks = new Array<Promise<void>>(ops.length)
  for (let i = 0; i < ops.length; i++) acks[i] = store.putInFlight((ops[i] as LoadOp).key, (ops[i] as LoadOp).value as Buffer)
  return Promise.all(acks)
}

runWorkload({
  id: 'W5',
  title: '10,000 durable writes in flight',
  unit: 'writes/s',
  dataset: 'empty',
  async custom(name, ctx, round, opened) {
    const store = opened.get(name) as Store
    if (round === 0) await batch(store)
    const t0 = process.hrtime.bigint()
    let batches = 0
    let seconds = 0
    do {
      await batch(store)
      batches++
      seconds = Number(process.hrtime.bigint() - t0) / 1e9
    } while (seconds < ctx.args.maxTime || batches < 2)
    return { rate: (batches * IN_FLIGHT) / seconds }
  },
})
