/**
 * The persistent layer at scale (issue #6): 1,000,000 keys x 20 versions of 100-byte values
 * loaded with `memtableBytes` = 64 MiB, then as-of point reads at random times, and a
 * rectangle of ~1% of the keys x 10% of the time against a full-scan filter, before and after
 * `compact()`. Peak RSS is the process's (`resourceUsage().maxRSS`), so run it alone.
 *
 * Usage: node --import tsx benches/js/extents-scale.ts [--keys=1000000] [--versions=20]
 *        [--memtable-mib=64] [--reads=300000] [--out=<file.json>] [--skip-full-scan]
 *        [--peers=lmdb,better-sqlite3 | --peers=none] [--save]
 *
 * `npm run bench:extents` runs it with `--save`: the result goes to benches/extents-scale.json
 * and into the "Persistent layer at scale" section of benches/RESULTS.md and RESULTS-full.md
 * (lib/scale-report.ts). The peers load the same versions into their T1/T4 emulations after
 * chronokv is done (chronokv's peak RSS is read before that), then answer the same reads.
 *
 * Keys and values are the harness's (lib/data.ts): 16-byte keys, 100-byte values from a pool of
 * random ones. Round r writes version r of every key in key order, in batches of 2,000 keys.
 *
 * @packageDocumentation
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

import { keyOf, rng, valueOf } from './lib/data'
import { machineInfo } from './lib/machine'
import { loadChronokv, type ChronoDatabase } from './lib/peers'
import { writeScaleResult, type ScalePhase, type ScaleResult } from './lib/scale-report'
import { freshDir, openStore, removeDir, STORE_NAMES, type Store, type StoreName } from './lib/stores'

interface Args {
  keys: number
  versions: number
  memtableMiB: number
  reads: number
  out: string | undefined
  fullScan: boolean
  peers: StoreName[]
  save: boolean
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
    peers: parsePeers(get('peers') ?? 'lmdb,better-sqlite3'),
    save: argv.includes('--save'),
  }
}

function parsePeers(list: string): StoreName[] {
  if (list === 'none') return []
  return list.split(',').map((name) => {
    if (name === 'chronokv' || !(STORE_NAMES as readonly string[]).includes(name)) throw new Error(`--peers: unknown peer ${name}`)
    return name as StoreName
  })
}

const BATCH = 2000
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function log(msg: string): void {
  console.log(`[extents ${new Date().toISOString().slice(11, 19)}] ${msg}`)
}

/** `reads` as-of point reads at random (key, time) pairs, in 3 rounds; median reads/s. */
function asOfReads(db: ChronoDatabase, args: Args, stamps: number[], seed: number): { rates: number[]; median: number } {
  const { keys, fractions } = draws(args, args.reads, seed)
  const first = stamps[0]!
  const span = stamps[stamps.length - 1]! - first
  const ats = fractions.map((f) => first + Math.floor(f * span))
  const n = keys.length
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

/** The rectangle: ~1% of the keys (a third of the way in) x 10% of the rounds (from the middle). */
function rectangleQuery(args: Args, stamps: number[]) {
  const span = Math.max(1, Math.round(args.keys / 100))
  const start = Math.floor(args.keys / 3)
  const r0 = Math.floor(args.versions / 2)
  const rounds = Math.max(1, Math.round(args.versions / 10))
  return {
    gte: keyOf(start),
    lt: keyOf(start + span),
    since: stamps[r0]! + 1,
    until: stamps[r0 + rounds]! + 1,
    expected: span * rounds,
  }
}

/** The rectangle through changes(), 3 times; the median run. */
function rectangle(db: ChronoDatabase, args: Args, stamps: number[]): Rectangle {
  const { expected, ...query } = rectangleQuery(args, stamps)
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
  if (runs[0]!.versions !== expected) throw new Error(`the rectangle returned ${runs[0]!.versions} versions, expected ${expected}`)
  return runs.sort((a, b) => a.ms - b.ms)[1]!
}

/** The same rectangle answered by reading every version and filtering (what a store without a
 *  key x time index must do). */
function fullScanFilter(db: ChronoDatabase, args: Args, stamps: number[]): { versions: number; ms: number } {
  const { gte: lo, lt: hi, since, until } = rectangleQuery(args, stamps)
  const started = process.hrtime.bigint()
  let versions = 0
  for (const v of db.changes()) {
    if (v.ts >= since && v.ts < until && Buffer.compare(v.key, lo) >= 0 && Buffer.compare(v.key, hi) < 0) versions++
  }
  return { versions, ms: Number(process.hrtime.bigint() - started) / 1e6 }
}

/** Bytes the directory takes on disk (allocated blocks: punched holes do not count). */
function diskBytes(dir: string): number {
  return Number(execFileSync('du', ['-s', '--block-size=1', dir], { encoding: 'utf8' }).split('\t')[0])
}

/** (key, time) draws shared by every store: a key index and a fraction of the history. */
function draws(args: Args, count: number, seed: number): { keys: Buffer[]; fractions: Float64Array } {
  const next = rng(seed)
  const keys = new Array<Buffer>(count)
  const fractions = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    keys[i] = keyOf(Math.floor(next() * args.keys))
    fractions[i] = next()
  }
  return { keys, fractions }
}

/** A peer loads the same versions (round by round, batches of 2,000, one timestamp per batch)
 *  into its emulation, then answers the same as-of reads and rectangle. */
async function peer(name: StoreName, args: Args): Promise<ScaleResult['peers'][number]> {
  const dir = freshDir(name)
  try {
    const store: Store = await openStore(name, dir)
    log(`${name}: loading the same ${args.keys} keys x ${args.versions} versions`)
    const started = Date.now()
    const stamps: number[] = []
    let ts = 1_000_000
    for (let round = 0; round < args.versions; round++) {
      for (let i = 0; i < args.keys; i += BATCH) {
        const ops = []
        for (let j = i; j < Math.min(i + BATCH, args.keys); j++) ops.push({ key: keyOf(j), value: valueOf(j, round) })
        ts += 10
        await store.loadVersions(ops, ts)
      }
      stamps.push(ts)
    }
    const loadSeconds = (Date.now() - started) / 1000
    const onDisk = diskBytes(dir)
    log(`${name}: loaded in ${loadSeconds.toFixed(0)} s, ${(onDisk / 2 ** 30).toFixed(2)} GiB on disk`)
    const { keys, fractions } = draws(args, args.reads, 7)
    const first = stamps[0]!
    const span = stamps[stamps.length - 1]! - first
    const ats = fractions.map((f) => first + Math.floor(f * span))
    const rates: number[] = []
    for (let round = 0; round < 4; round++) {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < keys.length; i++) {
        const got = store.getAt(keys[i]!, ats[i]!)
        if (!store.syncReads) await got
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      if (round > 0) rates.push(keys.length / seconds)
    }
    const q = rectangleQuery(args, stamps)
    const runs: number[] = []
    let versions = 0
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint()
      versions = (await store.rectangle(q.gte, q.lt, q.since, q.until)).length
      runs.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    if (versions !== q.expected) throw new Error(`${name}: the rectangle returned ${versions} versions, expected ${q.expected}`)
    const phase: ScalePhase = { asOfReadsPerSecond: median(rates), asOfRates: rates, rectangle: { versions, ms: median(runs) } }
    log(`${name}: as-of reads ${Math.round(phase.asOfReadsPerSecond)}/s, rectangle ${phase.rectangle.ms.toFixed(1)} ms`)
    await store.close()
    return { name, loadSeconds, diskBytes: onDisk, phase }
  } finally {
    removeDir(dir)
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2))
  const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' / ')
  const { open } = loadChronokv()
  const dir = mkdtempSync(join(tmpdir(), 'chronokv-extents-'))
  const path = join(dir, 'db')
  let result: Omit<ScaleResult, 'peers' | 'command' | 'date' | 'machine' | 'loadAverage'>
  const stats: Record<string, unknown> = {}
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
    stats.loaded = loaded
    const load = {
      seconds: loadSeconds,
      versionsPerSecond: (args.keys * args.versions) / loadSeconds,
      peakRssMiB: mib(loadPeakKiB * 1024),
      extents: loaded.extents,
      blocks: loaded.extentBlocks,
      diskBytes: diskBytes(path),
    }
    log(`loaded in ${loadSeconds.toFixed(0)} s, peak RSS ${mib(loadPeakKiB * 1024)} MiB, ${loaded.extents} extents, ${loaded.extentBlocks} blocks`)

    const phase = (name: string): ScalePhase => {
      const reads = asOfReads(db, args, stamps, 7)
      log(`${name}: as-of reads ${Math.round(reads.median)}/s (rounds ${reads.rates.map(Math.round).join(', ')})`)
      const many = asOfGetMany(db, args, stamps, 11)
      log(`${name}: as-of reads through getMany ${Math.round(many.median)}/s (rounds ${many.rates.map(Math.round).join(', ')})`)
      const rect = rectangle(db, args, stamps)
      log(`${name}: rectangle ${rect.versions} versions in ${rect.ms.toFixed(1)} ms, ${rect.blocksRead} of ${rect.blocks} blocks read`)
      return { asOfReadsPerSecond: reads.median, asOfRates: reads.rates, asOfGetManyPerSecond: many.median, rectangle: rect }
    }
    const flushed = phase('after load')
    let fullScan: ScaleResult['fullScan']
    if (args.fullScan) {
      fullScan = fullScanFilter(db, args, stamps)
      log(`full-scan filter: ${fullScan.versions} versions in ${(fullScan.ms / 1000).toFixed(1)} s`)
    }
    const compactStarted = Date.now()
    const compacted = await db.compact()
    const compaction = {
      seconds: (Date.now() - compactStarted) / 1000,
      extentsIn: compacted.extentsIn,
      extentsOut: compacted.extentsOut,
      diskBytes: diskBytes(path),
    }
    log(`compacted in ${compaction.seconds.toFixed(0)} s: ${compacted.extentsIn} -> ${compacted.extentsOut} extents`)
    result = {
      args: { keys: args.keys, versions: args.versions, memtableMiB: args.memtableMiB, reads: args.reads },
      load,
      flushed,
      fullScan,
      compaction,
      compacted: phase('after compaction'),
    }
    stats.final = db.stats()
    stats.peakRssMiB = mib(process.resourceUsage().maxRSS * 1024)
    await db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const peers = []
  for (const name of args.peers) peers.push(await peer(name, args))
  const machine = machineInfo()
  const full: ScaleResult = {
    command: `node --import tsx benches/js/extents-scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
    machine: { cpu: machine.cpu, cores: machine.cores, ramGiB: machine.ramGiB, kernel: machine.kernel },
    loadAverage: { start: loadAtStart, end: loadavg().map((l) => l.toFixed(2)).join(' / ') },
    ...result,
    peers,
  }
  const json = JSON.stringify({ ...full, stats }, null, 2)
  if (args.out) writeFileSync(args.out, json)
  if (args.save) {
    writeScaleResult(full)
    log('wrote benches/extents-scale.json and the scale section of benches/RESULTS*.md')
  }
  console.log(json)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
