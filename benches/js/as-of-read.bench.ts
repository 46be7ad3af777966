/**
 * T1: as-of point reads: a random key of the temporal data set (20 versions per key, some
 * deletes) read as of a random time within its history. Native for chronokv; emulated by hand
 * for the peers (see HOW in lib/stores.ts).
 *
 * Run: node --import tsx benches/js/as-of-read.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { randomTimes, runWorkload } from './lib/measure'

const MASK = (1 << 16) - 1

runWorkload({
  id: 'T1',
  title: 'as-of point read at a random past time',
  unit: 'reads/s',
  dataset: 'temporal',
  op(store, ctx) {
    const idx = randomIndexes(MASK + 1, ctx.keys.length, 11)
    const times = randomTimes(ctx, MASK + 1, 12)
    let i = 0
    return () => {
      const j = i++ & MASK
      return store.getAt(ctx.keys[idx[j] as number] as Buffer, times[j] as number)
    }
  },
  async sample(store, ctx) {
    const idx = randomIndexes(300, ctx.keys.length, 13)
    const times = randomTimes(ctx, 300, 14)
    const out = []
    for (let j = 0; j < idx.length; j++) out.push(await store.getAt(ctx.keys[idx[j] as number] as Buffer, times[j] as number))
    return out
  },
})
