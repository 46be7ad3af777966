/**
 * T4: a key-range x time-window rectangle: every version whose key is in a random range of about
 * 1% of the keys and whose timestamp is in a random window of 10% of the history.
 *
 * Native for chronokv (`db.changes({ gte, lt, since, until })`); emulated by hand for the peers
 * (see HOW in lib/stores.ts).
 *
 * Run: node --import tsx benches/js/rectangle.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { runWorkload, type Ctx } from './lib/measure'

const MASK = (1 << 12) - 1

/** `count` rectangles: [lo, hi) over ~1% of the keys and [since, until) over 10% of the history. */
function rectangles(ctx: Ctx, count: number, seed: number): Array<[Buffer, Buffer, number, number]> {
  const width = Math.max(1, Math.round(ctx.keys.length / 100))
  const first = ctx.stamps[0] as number
  const last = ctx.stamps[ctx.stamps.length - 1] as number
  const window = Math.max(1, Math.round((last - first) / 10))
  const starts = randomIndexes(count, ctx.keys.length - width, seed)
  const times = randomIndexes(count, last - first - window + 1, seed + 1)
  return [...starts].map((s, j) => [
    ctx.keys[s] as Buffer,
    ctx.keys[s + width] as Buffer,
    first + (times[j] as number),
    first + (times[j] as number) + window,
  ])
}

runWorkload({
  id: 'T4',
  title: 'key-range x time-window rectangle (1% of keys x 10% of time)',
  unit: 'queries/s',
  dataset: 'temporal',
  op(store, ctx) {
    const rects = rectangles(ctx, MASK + 1, 41)
    let i = 0
    return () => {
      const [lo, hi, since, until] = rects[i++ & MASK] as [Buffer, Buffer, number, number]
      return store.rectangle(lo, hi, since, until)
    }
  },
  async sample(store, ctx) {
    const out = []
    for (const [lo, hi, since, until] of rectangles(ctx, 10, 43)) out.push(await store.rectangle(lo, hi, since, until))
    return out
  },
})
