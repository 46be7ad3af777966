/**
 * W2: random point reads of existing keys, synchronous where the store has a sync read
 * (all four do: chronokv get, lmdb-js get, classic-level getSync, better-sqlite3 statements).
 *
 * Run: node --import tsx benches/js/point-read.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { runWorkload } from './lib/measure'

const MASK = (1 << 16) - 1

runWorkload({
  id: 'W2',
  title: 'random point reads',
  unit: 'reads/s',
  dataset: 'plain',
  op(store, { keys }) {
    const idx = randomIndexes(MASK + 1, keys.length, 2)
    let i = 0
    return () => store.get(keys[idx[i++ & MASK] as number] as Buffer)
  },
  async sample(store, { keys }) {
    const idx = randomIndexes(200, keys.length, 3)
    const out = []
    for (const i of idx) out.push(await store.get(keys[i] as Buffer))
    return out
  },
})
