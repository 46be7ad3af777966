/**
 * The workload runner every *.bench.ts uses: one process per workload, all stores opened side by
 * side in fresh temporary directories, the same data loaded into each, a cross-check that every
 * store returns the same answers to the same sample queries, then `rounds` measured rounds in
 * which the stores take turns (the order rotates each round). Results go to `--out` as JSON
 * (run.ts aggregates them into RESULTS.md) and to the console as a table.
 *
 * Per-operation workloads are timed with benny (benchmark.js underneath: calibrated cycles,
 * `maxTime` seconds per case and round). Bulk loads (W1), one-at-a-time durable writes (W4) and
 * batches of 10,000 writes in flight (W5) are timed by hand, because a benny "operation" there
 * would be a whole load, would hide the per-write latencies needed for p50/p99, or would take
 * about a second (benny wants at least 5 samples per case and round).
 *
 * @packageDocumentation
 */

import { lstatSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { parseArgs, type BenchArgs } from './args'
import { keyOf, makeKeys, plainChunks, randomIndexes, temporalChunks, type LoadOp } from './data'
import { loadBenny } from './peers'
import { freshDir, openStore, removeDir, type Store, type StoreName } from './stores'

/** What the workload functions can use. */
export interface Ctx {
  args: BenchArgs
  /** The keys of the data set, in key order (plain: n keys; temporal: temporalKeys keys). */
  keys: Buffer[]
  /** Temporal: the commit timestamp of every load commit, ascending. */
  stamps: number[]
}

/** A hand-timed result of one store in one round. */
export interface CustomResult {
  /** Units (keys, writes) per second. */
  rate: number
  /** Per-operation latencies, microseconds (W4). */
  latenciesUs?: number[]
  /** Bytes on disk after the round (W1). */
  diskBytes?: number
}

export interface WorkloadSpec {
  id: string
  title: string
  /** What the rate counts, e.g. 'reads/s'. */
  unit: string
  /** Which data the stores hold before measuring. */
  dataset: 'plain' | 'temporal' | 'empty'
  /** Units per benny operation (default 1). */
  unitsPerOp?: number
  /** A benny operation on `store`; it may return a promise (then it is awaited). */
  op?: (store: Store, ctx: Ctx) => () => unknown
  /** Answers to a fixed sample of queries, compared across stores before anything is timed. */
  sample?: (store: Store, ctx: Ctx) => Promise<unknown>
  /** True when each round opens its own fresh stores (W1), so none is opened up front. */
  freshStoresPerRound?: boolean
  /** A hand-timed round for one store (W1, W4, W5). */
  custom?: (name: StoreName, ctx: Ctx, round: number, opened: Map<StoreName, Store>) => Promise<CustomResult>
}

/** What a workload process writes to `--out`. */
export interface WorkloadResult {
  id: string
  title: string
  unit: string
  args: BenchArgs
  stores: Partial<Record<StoreName, StoreResult>>
  /** Did every store give the same answers to the sample queries? */
  check: { agree: boolean; detail: string } | undefined
  /** Peak RSS of this process (all stores side by side), KiB. */
  peakRssKiB: number
  /** Wall time of the whole process, ms. */
  wallMs: number
  /** Set by run.ts when the workload's process failed: the end of its error output. */
  error?: string
}

export interface StoreResult {
  /** Rate per round, in `unit`. */
  rates: number[]
  /** Benny's relative margin of error per round, %. */
  rme?: number[]
  latency?: { p50: number; p99: number; samples: number }
  /** Bytes on disk once loaded (plain/temporal data sets, or W1's load). */
  diskBytes?: number
}

let sink: unknown

/** Allocated bytes (st_blocks) under `path`, as du counts them. */
export function diskUsage(path: string): number {
  let total = 0
  const st = lstatSync(path)
  total += st.blocks * 512
  if (st.isDirectory()) for (const entry of readdirSync(path)) total += diskUsage(join(path, entry))
  return total
}

/** Loads the data set of `spec` into every store; returns the context. */
async function prepare(spec: WorkloadSpec, args: BenchArgs, opened: Map<StoreName, Store>): Promise<Ctx> {
  const ctx: Ctx = { args, keys: [], stamps: [] }
  if (spec.dataset === 'plain') {
    ctx.keys = makeKeys(args.n)
    const chunks = [...plainChunks(args.n)]
    for (const store of opened.values()) for (const chunk of chunks) await store.load(chunk)
  } else if (spec.dataset === 'temporal') {
    ctx.keys = makeKeys(args.temporalKeys)
    const chunks = [...temporalChunks(args.temporalKeys)]
    // chronokv assigns commit timestamps; the peers store the very same ones, so every store
    // holds the same versions and must give the same answers.
    const chrono = opened.get('chronokv')
    let synthetic = Date.now() * 1000
    for (const chunk of chunks) {
      ctx.stamps.push(chrono === undefined ? (synthetic += 1000) : await chrono.loadVersions(chunk, 0))
    }
    for (const store of opened.values()) {
      if (store === chrono) continue
      for (let i = 0; i < chunks.length; i++) await store.loadVersions(chunks[i] as LoadOp[], ctx.stamps[i] as number)
    }
  }
  return ctx
}

/** Plain JSON of results: Buffers as hex, undefined as null. */
export function normalize(x: unknown): unknown {
  if (x === undefined || x === null) return null
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')
  if (Array.isArray(x)) return x.map(normalize)
  return x
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Runs one workload for every store and writes the result. Call it from a *.bench.ts. */
export function runWorkload(spec: WorkloadSpec): void {
  main(spec).catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}

async function main(spec: WorkloadSpec): Promise<void> {
  const started = Date.now()
  const args = parseArgs()
  const log = (msg: string) => console.log(`[${spec.id}] ${msg}`)
  log(`${spec.title}: stores ${args.stores.join(', ')}, n=${args.n}, temporal keys=${args.temporalKeys}, rounds=${args.rounds}`)

  const opened = new Map<StoreName, Store>()
  const dirs: string[] = []
  const result: WorkloadResult = {
    id: spec.id,
    title: spec.title,
    unit: spec.unit,
    args,
    stores: {},
    check: undefined,
    peakRssKiB: 0,
    wallMs: 0,
  }
  for (const name of args.stores) result.stores[name] = { rates: [] }

  try {
    if (spec.freshStoresPerRound !== true) {
      for (const name of args.stores) {
        const dir = freshDir(name)
        dirs.push(dir)
        opened.set(name, await openStore(name, dir))
      }
    }
    const t0 = Date.now()
    const ctx = await prepare(spec, args, opened)
    if (spec.dataset !== 'empty') {
      log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      for (const [name, store] of opened) (result.stores[name] as StoreResult).diskBytes = diskUsage(store.dir)
    }

    if (spec.sample !== undefined) {
      const answers = new Map<StoreName, string>()
      for (const [name, store] of opened) answers.set(name, JSON.stringify(normalize(await spec.sample(store, ctx))))
      const reference = answers.values().next().value as string
      const differ = [...answers].filter(([, a]) => a !== reference).map(([n]) => n)
      result.check = {
        agree: differ.length === 0,
        detail:
          differ.length === 0
            ? `all ${answers.size} stores gave identical answers (${reference.length} bytes of JSON)`
            : `DIFFERENT answers from ${differ.join(', ')} (vs ${[...answers.keys()][0]})`,
      }
      log(`cross-check: ${result.check.detail}`)
      if (!result.check.agree) {
        for (const [name, a] of answers) log(`  ${name}: ${a.slice(0, 300)}`)
      }
    }

    const latencies = new Map<StoreName, number[]>()
    const profiler = await startProfiler()
    for (let round = 0; round < args.rounds; round++) {
      const order = rotate(args.stores, round)
      if (spec.custom !== undefined) {
        for (const name of order) {
          const r = await spec.custom(name, ctx, round, opened)
          const sr = result.stores[name] as StoreResult
          sr.rates.push(r.rate)
          if (r.latenciesUs !== undefined) latencies.set(name, [...(latencies.get(name) ?? []), ...r.latenciesUs])
          if (r.diskBytes !== undefined) sr.diskBytes = r.diskBytes
          log(`round ${round + 1} ${name}: ${fmt(r.rate)} ${spec.unit}`)
        }
      } else if (spec.op !== undefined) {
        const b = loadBenny()
        const cases = order.map((name) => {
          const op = (spec.op as NonNullable<WorkloadSpec['op']>)(opened.get(name) as Store, ctx)
          return b.add(name, () => (sink = op()))
        })
        const t = Date.now()
        const summary = await b.suite(
          `${spec.id} round ${round + 1}`,
          b.configure({ cases: { maxTime: args.maxTime, minSamples: 5 } }),
          ...cases,
        )
        for (const r of summary.results) {
          const sr = result.stores[r.name as StoreName] as StoreResult
          const rate = (spec.unitsPerOp ?? 1) / r.details.mean
          sr.rates.push(rate)
          ;(sr.rme ??= []).push(r.details.relativeMarginOfError)
          log(`round ${round + 1} ${r.name}: ${fmt(rate)} ${spec.unit} ±${r.details.relativeMarginOfError.toFixed(1)}% (${r.samples} samples)`)
        }
        log(`round ${round + 1}: ${((Date.now() - t) / 1000).toFixed(1)} s`)
      }
    }
    await profiler?.stop()
    for (const [name, lat] of latencies) {
      lat.sort((a, b) => a - b)
      ;(result.stores[name] as StoreResult).latency = {
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        samples: lat.length,
      }
    }
  } finally {
    for (const store of opened.values()) await store.close()
    for (const dir of dirs) removeDir(dir)
  }
  void sink
  result.peakRssKiB = process.resourceUsage().maxRSS
  result.wallMs = Date.now() - started
  log(`done in ${(result.wallMs / 1000).toFixed(1)} s, peak RSS ${(result.peakRssKiB / 1024).toFixed(0)} MiB`)
  if (args.out !== undefined) writeFileSync(args.out, JSON.stringify(result, null, 2))
}

/**
 * When CHRONOKV_BENCH_CPU_PROFILE names a file, profiles the measured rounds only (not the data
 * loading) with V8's sampling profiler and writes a .cpuprofile there (run.ts uses this to show
 * where chronokv's time goes in the biggest gaps).
 */
async function startProfiler(): Promise<{ stop(): Promise<void> } | undefined> {
  const path = process.env.CHRONOKV_BENCH_CPU_PROFILE
  if (path === undefined || path === '') return undefined
  const { Session } = await import('node:inspector')
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
    )
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 100 })
  await post('Profiler.start')
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown }
      writeFileSync(path, JSON.stringify(profile))
      session.disconnect()
    },
  }
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  if (x >= 100) return Math.round(x).toLocaleString('en-US')
  return x.toPrecision(3)
}

/** `count` random times within the loaded history (temporal data set). */
export function randomTimes(ctx: Ctx, count: number, seed: number): number[] {
  const first = ctx.stamps[0] as number
  const last = ctx.stamps[ctx.stamps.length - 1] as number
  return [...randomIndexes(count, last - first + 1, seed)].map((d) => first + d)
}

// ---- helpers for the hand-timed workloads ---------------------------------------------------

/** W1: loads n keys into a fresh store in chunks, each chunk a durable batch. */
export async function timedLoad(name: StoreName, n: number): Promise<CustomResult> {
  const chunks = [...plainChunks(n)]
  const dir = freshDir(name)
  try {
    const store = await openStore(name, dir)
    const t0 = process.hrtime.bigint()
    for (const chunk of chunks) await store.load(chunk)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    await store.close()
    return { rate: n / seconds, diskBytes: diskUsage(dir) }
  } finally {
    removeDir(dir)
  }
}

/** W4: one awaited durable put at a time for `millis`, new keys each time. */
export async function timedSequentialPuts(store: Store, millis: number, keyBase: number): Promise<CustomResult> {
  const latencies: number[] = []
  const value = Buffer.alloc(100, 7)
  const keys = Array.from({ length: 1 << 16 }, (_, j) => keyOf(keyBase + j))
  const deadline = process.hrtime.bigint() + BigInt(millis) * 1_000_000n
  const t0 = process.hrtime.bigint()
  let t = t0
  let i = 0
  while (t < deadline) {
    await store.put(keys[i++ & 0xffff] as Buffer, value)
    const now = process.hrtime.bigint()
    latencies.push(Number(now - t) / 1000)
    t = now
  }
  return { rate: latencies.length / (Number(t - t0) / 1e9), latenciesUs: latencies }
}
