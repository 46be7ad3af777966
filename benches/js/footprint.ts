/**
 * Footprint of one store, in a process of its own so that its peak RSS is its own: loads the
 * plain data set (N keys) or the temporal one (N/20 keys x 20 versions), reads every key back
 * once, closes, and prints a JSON line with the peak RSS, the RSS before opening the store, and
 * the bytes on disk after closing.
 *
 * Run: node --import tsx benches/js/footprint.ts --store=chronokv --dataset=plain [--n=100000]
 */

import { parseArgs } from './lib/args'
import { makeKeys, plainChunks, temporalChunks } from './lib/data'
import { diskUsage } from './lib/measure'
import { freshDir, openStore, removeDir, STORE_NAMES, type StoreName } from './lib/stores'

export interface Footprint {
  store: StoreName
  dataset: 'plain' | 'temporal'
  /** Versions written. */
  versions: number
  /** Peak RSS of the process, KiB. */
  peakRssKiB: number
  /** RSS just before the store was opened (Node, the modules, the data to load), KiB. */
  baseRssKiB: number
  diskBytes: number
}

async function main(): Promise<void> {
  const own = process.argv.slice(2).filter((a) => a.startsWith('--store=') || a.startsWith('--dataset='))
  const args = parseArgs(process.argv.slice(2).filter((a) => !own.includes(a)))
  const opts = new Map(own.map((a) => a.slice(2).split('=') as [string, string]))
  const name = opts.get('store') as StoreName
  const dataset = (opts.get('dataset') ?? 'plain') as 'plain' | 'temporal'
  if (!STORE_NAMES.includes(name)) throw new Error(`--store must be one of ${STORE_NAMES.join(', ')}`)
  const keyCount = dataset === 'plain' ? args.n : args.temporalKeys
  const keys = makeKeys(keyCount)
  const chunks = dataset === 'plain' ? [...plainChunks(args.n)] : [...temporalChunks(args.temporalKeys)]
  const versions = chunks.reduce((n, c) => n + c.length, 0)
  const dir = freshDir(name)
  try {
    const baseRssKiB = Math.round(process.memoryUsage().rss / 1024)
    const store = await openStore(name, dir)
    let ts = Date.now() * 1000
    for (const chunk of chunks) {
      if (dataset === 'plain') await store.load(chunk)
      else ts = await store.loadVersions(chunk, ts + 1000)
    }
    for (const key of keys) await (dataset === 'plain' ? store.get(key) : store.getAt(key, ts))
    await store.close()
    const result: Footprint = {
      store: name,
      dataset,
      versions,
      peakRssKiB: process.resourceUsage().maxRSS,
      baseRssKiB,
      diskBytes: diskUsage(dir),
    }
    console.log(JSON.stringify(result))
  } finally {
    removeDir(dir)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
