/**
 * The persistent layer at scale (issue #6): 1,000,000 keys x 20 versions of 100-byte values
 * loaded with `memtableBytes` = 64 MiB, then as-of point reads at random times, and a
 * rectangle of ~1% of the keys x 10% of the time against a full-scan filter, before and after
 * `compact()`. Peak RSS is the process's (`resourceUsage().maxRSS`), so run it alone.
 *
 * Usage: node --import tsx benches/js/extents-scale.ts [--keys=1000000] [--versions=20]
 *        [--memtable-mib=64] [--reads=300000] [--out=<file.json>] [--skip-full-scan]
 *
 * Keys and values are the harness's (lib/data.ts): 16-byte keys, 100-byte values from a pool of
 * random ones. Round r writes version r of every key in key order, in batches of 2,000 keys.
 *
 * @packageDocumentation
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { keyOf, rng, valueOf } from './lib/data'
import { loadChronokv, type ChronoDatabase } from './lib/peers'

interface Args {
  keys: number
  versions: number
  memtableMiB: number
  reads: number
  out: string | undefined
  fullScan: boolean
}

function parse(argv: string[]): Args {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const num = (name: string, fallback: number) => {
    const v = get(name)
    if (v === undefined) return fallback
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`)
    return n
  }
  return {
    keys: num('keys', 1_000_000),
    versions: num('versions', 20),
    memtableMiB: num('memtable-mib', 64),
    reads: num('reads', 300_000),
    out: get('out'),
    fullScan: !argv.includes('--skip-full-scan'),
  }
}

const BATCH = 2000
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function log(msg: string): void {
  console.log(`[extents ${new Date().toISOString().slice(11, 19)}] ${msg}`)
}

/** `reads` as-of point reads at random (key, time) pairs, in 3 rounds; median reads/s. */
function asOfReads(db: ChronoDatabase, args: Args, stamps: number[], seed: number): { rates: number[]; median: number } {
  const next = rng(seed)
  const first = stamps[0]!
  const last = stamps[stamps.length - 1]!
  const n = args.reads
  const keys = new Array<Buffer>(n)
  const ats = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    keys[i] = keyOf(Math.floor(next() * args.keys))
    ats[i] = first + Math.floor(next() * (last - first))
  }
  const rates: number[] = []
  let found = 0
  for (let round = 0; round < 4; round++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) if (db.get(keys[i]!, { at: ats[i]! }) !== undefined) found++
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (round > 0) rates.push(n / seconds) // round 0 warms the page cache and the JIT
  }
  if (found === 0) throw new Error('no as-of read found a value')
  return { rates, median: median(rates) }
}

/** The same reads through getMany: 100 keys per call, each call at its own random time. */
function asOfGetMany(db: ChronoDatabase, args: Args, stamps: number[], seed: number): { rates: number[]; median: number } {
  const next = rng(seed)
  const first = stamps[0]!
  const last = stamps[stamps.length - 1]!
  const calls = Math.ceil(args.reads / 100)
  const groups: Buffer[][] = []
  const ats = new Float64Array(calls)
  for (let c = 0; c < calls; c++) {
    groups.push(Array.from({ length: 100 }, () => keyOf(Math.floor(next() * args.keys))))
    ats[c] = first + Math.floor(next() * (last - first))
  }
  const rates: number[] = []
  for (let round = 0; round < 4; round++) {
    const started = process.hrtime.bigint()
    for (let c = 0; c < calls; c++) db.getMany(groups[c]!, { at: ats[c]! })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (round > 0) rates.push((calls * 100) / seconds)
  }
  return { rates, median: median(rates) }
}

interface Rectangle {
  versions: number
  ms: number
  blocksRead: number
  blocks: number
}

/** ~1% of the keys x 10% of the time through changes(), 3 times; the median run. */
function rectangle(db: ChronoDatabase, args: Args, stamps: number[]): Rectangle {
  const span = Math.max(1, Math.round(args.keys / 100))
  const start = Math.floor(args.keys / 3)
  const r0 = Math.floor(args.versions / 2)
  const rounds = Math.max(1, Math.round(args.versions / 10))
  const query = { gte: keyOf(start), lt: keyOf(start + span), since: stamps[r0]! + 1, until: stamps[r0 + rounds]! + 1 }
  const runs: Rectangle[] = []
  for (let i = 0; i < 3; i++) {
    const before = db.stats()
    const started = process.hrtime.bigint()
    let versions = 0
    for (const _ of db.changes(query)) versions++
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const after = db.stats()
    runs.push({ versions, ms, blocksRead: after.blocksRead - before.blocksRead, blocks: after.extentBlocks })
  }
  const expected = span * rounds
  if (runs[0]!.versions !== expected) throw new Error(`the rectangle returned ${runs[0]!.versions} versions, expected ${expected}`)
  return runs.sort((a, b) => a.ms - b.ms)[1]!
}

/** The same rectangle answered by reading every version and filtering (what a store without a
 *  key x time index must do). */
function fullScanFilter(db: ChronoDatabase, args: Args, stamps: number[]): { versions: number; ms: number } {
  const span = Math.max(1, Math.round(args.keys / 100))
  const start = Math.floor(args.keys / 3)
  const r0 = Math.floor(args.versions / 2)
  const rounds = Math.max(1, Math.round(args.versions / 10))
  const lo = keyOf(start)
  const hi = keyOf(start + span)
  const since = stamps[r0]! + 1
  const until = stamps[r0 + rounds]! + 1
  const started = process.hrtime.bigint()
  let versions = 0
  for (const v of db.changes()) {
    if (v.ts >= since && v.ts < until && Buffer.compare(v.key, lo) >= 0 && Buffer.compare(v.key, hi) < 0) versions++
  }
  return { versions, ms: Number(process.hrtime.bigint() - started) / 1e6 }
}

function diskBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2))
  const { open } = loadChronokv()
  const dir = mkdtempSync(join(tmpdir(), 'chronokv-extents-'))
  const path = join(dir, 'db')
  const result: Record<string, unknown> = { args }
  try {
    const db = await open<Buffer, Buffer>(path, {
      keyEncoding: 'binary',
      valueEncoding: 'binary',
      memtableBytes: args.memtableMiB * 1024 * 1024,
    })
    log(`loading ${args.keys} keys x ${args.versions} versions (memtableBytes ${args.memtableMiB} MiB) into ${path}`)
    const stamps: number[] = []
    const loadStarted = Date.now()
    for (let round = 0; round < args.versions; round++) {
      for (let i = 0; i < args.keys; i += BATCH) {
        const ops = []
        for (let j = i; j < Math.min(i + BATCH, args.keys); j++) ops.push({ type: 'put' as const, key: keyOf(j), value: valueOf(j, round) })
        await db.batch(ops)
      }
      stamps.push(db.now())
      if (round % 5 === 4) log(`round ${round + 1}: ${mib(process.resourceUsage().maxRSS * 1024)} MiB peak RSS, ${JSON.stringify(db.stats().extents)} extents`)
    }
    const loadSeconds = (Date.now() - loadStarted) / 1000
    const loadPeakKiB = process.resourceUsage().maxRSS
    await db.flush()
    const loaded = db.stats()
    result.load = {
      seconds: loadSeconds,
      versionsPerSecond: (args.keys * args.versions) / loadSeconds,
      peakRssMiB: mib(loadPeakKiB * 1024),
      stats: loaded,
      diskBytes: diskBytes(path),
    }
    log(`loaded in ${loadSeconds.toFixed(0)} s, peak RSS ${mib(loadPeakKiB * 1024)} MiB, ${loaded.extents} extents, ${loaded.extentBlocks} blocks`)

    const phase = (name: string) => {
      const reads = asOfReads(db, args, stamps, 7)
      log(`${name}: as-of reads ${Math.round(reads.median)}/s (rounds ${reads.rates.map(Math.round).join(', ')})`)
      const many = asOfGetMany(db, args, stamps, 11)
      log(`${name}: as-of reads through getMany ${Math.round(many.median)}/s (rounds ${many.rates.map(Math.round).join(', ')})`)
      const rect = rectangle(db, args, stamps)
      log(`${name}: rectangle ${rect.versions} versions in ${rect.ms.toFixed(1)} ms, ${rect.blocksRead} of ${rect.blocks} blocks read`)
      return {
        asOfReadsPerSecond: reads.median,
        asOfRates: reads.rates,
        asOfGetManyPerSecond: many.median,
        asOfGetManyRates: many.rates,
        rectangle: rect,
      }
    }
    result.flushed = phase('after load')
    if (args.fullScan) {
      const scan = fullScanFilter(db, args, stamps)
      log(`full-scan filter: ${scan.versions} versions in ${(scan.ms / 1000).toFixed(1)} s`)
      result.fullScan = scan
    }
    const compactStarted = Date.now()
    const compacted = await db.compact()
    result.compaction = { seconds: (Date.now() - compactStarted) / 1000, ...compacted, diskBytes: diskBytes(path) }
    log(`compacted in ${((Date.now() - compactStarted) / 1000).toFixed(0)} s: ${compacted.extentsIn} -> ${compacted.extentsOut} extents`)
    result.compacted = phase('after compaction')
    result.stats = db.stats()
    result.peakRssMiB = mib(process.resourceUsage().maxRSS * 1024)
    await db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const json = JSON.stringify(result, null, 2)
  if (args.out) writeFileSync(args.out, json)
  console.log(json)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
