/**
 * T3: a range scan of 100 live keys from a random start key, as of a random past time.
 *
 * Run: node --import tsx benches/js/range-as-of.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { randomTimes, runWorkload } from './lib/measure'

const MASK = (1 << 14) - 1
const LENGTH = 100

runWorkload({
  id: 'T3',
  title: 'range scan of 100 keys as of a past time',
  unit: 'scans/s',
  dataset: 'temporal',
  op(store, ctx) {
    const idx = randomIndexes(MASK + 1, ctx.keys.length - 2 * LENGTH, 31)
    const times = randomTimes(ctx, MASK + 1, 32)
    let i = 0
    return () => {
      const j = i++ & MASK
      return store.scanAt(ctx.keys[idx[j] as number] as Buffer, times[j] as number, LENGTH)
    }
  },
  async sample(store, ctx) {
    const idx = randomIndexes(20, ctx.keys.length, 33)
    const times = randomTimes(ctx, 20, 34)
    const out = []
    for (let j = 0; j < idx.length; j++) out.push(await store.scanAt(ctx.keys[idx[j] as number] as Buffer, times[j] as number, LENGTH))
    return out
  },
})
