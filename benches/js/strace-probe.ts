/**
 * The workload side of benches/strace-fsync.sh: runs W1 (3 chunks of 10,000), W4 (200 awaited
 * puts) or W5 (10,000 puts in flight) on one store and writes a marker to /dev/null right before
 * each write (or chunk) is issued ("P<i>") and right after its promise resolves ("A<i>"), so that
 * strace shows, for every acknowledged write, whether a sync of the store's files completed in
 * between. Prints `DIR <store directory>` first.
 *
 * Run (normally through benches/strace-fsync.sh):
 *   node --import tsx benches/js/strace-probe.ts --store=lmdb --workload=W4
 */

import { closeSync, openSync, writeSync } from 'node:fs'

import { keyOf, plainChunks, valueOf } from './lib/data'
import { freshDir, openStore, removeDir, STORE_NAMES, type StoreName } from './lib/stores'

async function main(): Promise<void> {
  const opts = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]))
  const name = opts.get('store') as StoreName
  const workload = opts.get('workload') ?? 'W4'
  if (!STORE_NAMES.includes(name)) throw new Error(`--store must be one of ${STORE_NAMES.join(', ')}`)
  const marker = openSync('/dev/null', 'w')
  const mark = (s: string) => writeSync(marker, s)
  const dir = freshDir(name)
  console.log(`DIR ${dir}`)
  const store = await openStore(name, dir)
  try {
    if (workload === 'W1') {
      let i = 0
      for (const chunk of plainChunks(30_000)) {
        mark(`P${i}`)
        await store.load(chunk)
        mark(`A${i++}`)
      }
    } else if (workload === 'W4') {
      const value = valueOf(1)
      for (let i = 0; i < 200; i++) {
        mark(`P${i}`)
        await store.put(keyOf(i), value)
        mark(`A${i}`)
      }
    } else if (workload === 'W5') {
      const acks: Array<Promise<void>> = []
      for (let i = 0; i < 10_000; i++) {
        const key = keyOf(i)
        const value = valueOf(i)
        mark(`P${i}`)
        acks.push(store.putInFlight(key, value).then(() => void mark(`A${i}`)))
      }
      await Promise.all(acks)
    } else {
      throw new Error('--workload must be W1, W4 or W5')
    }
  } finally {
    await store.close()
    closeSync(marker)
    removeDir(dir)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
