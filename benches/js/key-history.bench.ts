/**
 * T2: the full history (20 versions, deletes included) of a random key, oldest first.
 *
 * Run: node --import tsx benches/js/key-history.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { runWorkload } from './lib/measure'

const MASK = (1 << 16) - 1

runWorkload({
  id: 'T2',
  title: 'full history of one key',
  unit: 'histories/s',
  dataset: 'temporal',
  op(store, ctx) {
    const idx = randomIndexes(MASK + 1, ctx.keys.length, 21)
    let i = 0
    return () => store.history(ctx.keys[idx[i++ & MASK] as number] as Buffer)
  },
  async sample(store, ctx) {
    const out = []
    for (const i of randomIndexes(50, ctx.keys.length, 22)) out.push(await store.history(ctx.keys[i] as Buffer))
    return out
  },
})
