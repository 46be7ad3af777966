/**
 * W3: range scans of 100 consecutive keys from random start keys (keys and values read).
 *
 * Run: node --import tsx benches/js/range-scan.bench.ts [--full]
 */

import { randomIndexes } from './lib/data'
import { runWorkload } from './lib/measure'

const MASK = (1 << 14) - 1
const LENGTH = 100

runWorkload({
  id: 'W3',
  title: 'range scans of 100 keys',
  unit: 'scans/s',
  dataset: 'plain',
  op(store, { keys }) {
    const idx = randomIndexes(MASK + 1, keys.length - LENGTH, 4)
    let i = 0
    return () => store.scan(keys[idx[i++ & MASK] as number] as Buffer, LENGTH)
  },
  async sample(store, { keys }) {
    const out = []
    for (const i of randomIndexes(20, keys.length, 5)) out.push(await store.scan(keys[i] as Buffer, LENGTH))
    return out
  },
})
