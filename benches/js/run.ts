/**
 * `npm run bench`: the whole benchmark, start to finish, written to benches/RESULTS.md (quick
 * size) or benches/RESULTS-full.md (`--full`); each links to the other.
 *
 * 1. Installs the peers into benches/js/node_modules when needed (npm install; better-sqlite3 is
 *    compiled from source against the local Node headers) while cargo builds the criterion
 *    benches, so the two slow steps of a first run overlap. The benches are built for the host
 *    triple given explicitly, as `napi build` builds the addon, so they reuse its artifacts
 *    (the engine crates and their dependencies) instead of compiling them again.
 * 2. Rebuilds dist/ if the facade's sources are newer.
 * 3. Runs every workload (W1-W5, T1-T4) in a process of its own, all stores interleaved. A
 *    workload that fails is reported as n/a with its error; the others still run.
 * 4. Measures the cost of one call into the native addon (alone: it is a timing), then each
 *    store's footprint (peak RSS, bytes on disk) in a process of its own, side by side with
 *    5. the durability check under strace (benches/strace-fsync.sh), if strace is installed:
 *    neither of the two measures time, so they share the machine.
 * 6. Runs the criterion benches and reads their estimates.
 * 7. Profiles chronokv in the three workloads farthest from their goals.
 * 8. Writes the report.
 *
 * Usage: npm run bench [-- --full] [-- --only=W2,T1 --stores=chronokv,lmdb --rounds=5
 *        --skip-rust --skip-profile --skip-strace --out=report.md]
 * A run with --only or a subset of --stores writes its report into its temporary directory
 * (or --out), never over RESULTS.md / RESULTS-full.md.
 * Quick (default): N = 100,000; about 4-5 minutes on 2 cores with the peers installed and the
 * Rust benches built; a first run of a fresh clone 6-7 minutes on a quiet or moderately loaded
 * machine, ~10 under heavy load (benches/README.md, "How long it takes"). --full: N = 1,000,000,
 * about 30 minutes.
 */

import { spawn, type SpawnOptions } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { parseArgs, type BenchArgs } from './lib/args'
import { fdatasyncLatency, machineInfo, sqliteVersion, versions } from './lib/machine'
import type { WorkloadResult } from './lib/measure'
import { JS_DIR, REPO_ROOT } from './lib/peers'
import { summarizeProfile } from './lib/profile'
import { goalStatus, render, type RunData, type RustBench } from './lib/report'
import { STORE_NAMES, type StoreName } from './lib/stores'
import type { Footprint } from './footprint'
import type { CallCost } from './napi-call-overhead'
import type { StraceReport } from './strace-analyze'

const WORKLOADS: Array<[id: string, file: string]> = [
  ['W1', 'bulk-load.bench.ts'],
  ['W2', 'point-read.bench.ts'],
  ['W3', 'range-scan.bench.ts'],
  ['W4', 'durable-write.bench.ts'],
  ['W5', 'inflight-writes.bench.ts'],
  ['T1', 'as-of-read.bench.ts'],
  ['T2', 'key-history.bench.ts'],
  ['T3', 'range-as-of.bench.ts'],
  ['T4', 'rectangle.bench.ts'],
]

const BENCHES_DIR = dirname(JS_DIR)

/**
 * How the harness runs a TypeScript file: tsx's CommonJS hook (the benches are CommonJS), which
 * starts in ~0.3 s against ~0.6-1 s for `--import tsx` (that one also sets up an ESM loader
 * thread); the harness starts ~45 processes. `node --import tsx <file>` works as well by hand.
 */
const TSX = ['--require', 'tsx/cjs']

function log(msg: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`)
}

/** Runs a command; resolves with its stdout (also streamed unless quiet); rejects on failure. */
function sh(cmd: string, args: string[], opts: SpawnOptions & { quiet?: boolean; prefix?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString()
      if (!opts.quiet) process.stdout.write(opts.prefix ? b.toString().replace(/^(?=.)/gm, opts.prefix) : b)
    })
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString()
      if (!opts.quiet) process.stderr.write(opts.prefix ? b.toString().replace(/^(?=.)/gm, opts.prefix) : b)
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${stderr.slice(-4000)}`)),
    )
  })
}

// ---- 1. peers and cargo build ---------------------------------------------------------------

const STAMP = join(JS_DIR, 'node_modules', '.chronokv-peers')

function peersStamp(): string {
  const lock = readFileSync(join(JS_DIR, 'package-lock.json'))
  return createHash('sha256').update(lock).update(process.version).update(process.arch).digest('hex')
}

async function peersLoad(): Promise<boolean> {
  try {
    await sh(process.execPath, ['-e', "require('lmdb');require('classic-level');new (require('better-sqlite3'))(':memory:').close();require('benny')"], {
      cwd: JS_DIR,
      quiet: true,
    })
    return true
  } catch {
    return false
  }
}

async function ensurePeers(): Promise<void> {
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === peersStamp() && (await peersLoad())) {
    log('peers already installed (benches/js/node_modules)')
    return
  }
  log('installing the peers: npm install in benches/js (better-sqlite3 compiles SQLite from source, ~2-3 min)')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // better-sqlite3's install script first tries to download a prebuilt binary from GitHub; skip
    // that (unreachable here) and build from source against the local Node headers.
    npm_config_build_from_source: 'better-sqlite3',
  }
  const nodeDir = dirname(dirname(process.execPath))
  if (env.npm_config_nodedir === undefined && existsSync(join(nodeDir, 'include', 'node', 'node.h'))) {
    env.npm_config_nodedir = nodeDir
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  // `npm install` (not `npm ci`): this registry lacks some of msgpackr-extract's optional
  // platform packages, which `npm ci` refuses; `npm install` follows the lock file and skips them.
  await sh(npm, ['install', '--no-audit', '--no-fund'], { cwd: JS_DIR, env, quiet: true })
  if (!(await peersLoad())) throw new Error('the peers were installed but do not load; see benches/README.md')
  writeFileSync(STAMP, peersStamp())
  log('peers installed')
}

interface CargoSetup {
  /** `cargo bench` arguments that select the package and the target. */
  args: string[]
  env: NodeJS.ProcessEnv
  note: string
}

/**
 * `cargo bench -p chronokv-bench --target <host>` in the repository (benches/ is a member of the
 * root workspace). The explicit `--target` is what `napi build` passes too, so cargo looks in the
 * same directory (target/<host>/release) and reuses the addon's build of the engine crates and
 * their dependencies: the bench profile inherits the release profile, and the shared crates have
 * the same features. Without it, a first run compiles all of them a second time.
 */
async function cargoSetup(criterionHome: string): Promise<CargoSetup | string> {
  const rootToml = readFileSync(join(REPO_ROOT, 'Cargo.toml'), 'utf8')
  if (!/members\s*=\s*\[[^\]]*"benches"/.test(rootToml)) {
    return 'n/a: benches/ is not a member of the root Cargo workspace (Cargo.toml `[workspace] members`), so `cargo bench -p chronokv-bench` cannot build it.'
  }
  const host = /^host:\s*(\S+)/m.exec(await sh('rustc', ['-vV'], { quiet: true }))?.[1]
  const args = ['-p', 'chronokv-bench', ...(host === undefined ? [] : ['--target', host])]
  return {
    args,
    env: { ...process.env, CRITERION_HOME: criterionHome },
    note: `Built and run with \`cargo bench ${args.join(' ')}\` in the workspace (one bench target, benches/rust/main.rs).`,
  }
}

// ---- 6. criterion results ---------------------------------------------------------------------

function readCriterion(home: string): RustBench[] {
  const out: RustBench[] = []
  if (!existsSync(home)) return out
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (!statSync(path).isDirectory()) continue
      const bench = join(path, 'new', 'benchmark.json')
      const est = join(path, 'new', 'estimates.json')
      if (existsSync(bench) && existsSync(est)) {
        const b = JSON.parse(readFileSync(bench, 'utf8')) as {
          group_id: string
          function_id: string | null
          throughput: { Elements?: number } | null
        }
        type Estimate = { point_estimate: number; confidence_interval: { lower_bound: number; upper_bound: number } }
        const e = JSON.parse(readFileSync(est, 'utf8')) as { slope: Estimate | null; mean: Estimate }
        const pick = e.slope ?? e.mean
        out.push({
          group: b.group_id,
          fn: b.function_id ?? '',
          ns: pick.point_estimate,
          lo: pick.confidence_interval.lower_bound,
          hi: pick.confidence_interval.upper_bound,
          elements: b.throughput?.Elements,
        })
      } else {
        visit(path)
      }
    }
  }
  visit(home)
  return out.sort((a, b) => a.group.localeCompare(b.group))
}

// ---- main -------------------------------------------------------------------------------------

/** Runs `fn` over `items` with at most `limit` in flight; resolves when all have settled. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item)
    }),
  )
}

/** A failed command's error for the report: the command and its exit code, the first error line, the last lines. */
function reason(err: unknown): string {
  const lines = String((err as Error).message ?? err).trim().split('\n').filter((l) => l.trim() !== '')
  const first = lines.findIndex((l, i) => i > 0 && /error/i.test(l))
  const keep = new Set([0, first, ...lines.map((_, i) => i).slice(-6)].filter((i) => i >= 0))
  return [...keep].sort((a, b) => a - b).map((i) => lines[i]).join('\n')
}

const RESULTS = { quick: 'RESULTS.md', full: 'RESULTS-full.md' } as const

/** The header of the other size's report (benches/RESULTS*.md), for the link between the two. */
function otherReport(size: 'quick' | 'full'): RunData['other'] {
  const file = RESULTS[size === 'full' ? 'quick' : 'full']
  const path = join(BENCHES_DIR, file)
  if (!existsSync(path)) return { file, exists: false }
  const text = readFileSync(path, 'utf8')
  const field = (name: string) => new RegExp(`^- \\*\\*${name}:\\*\\* (.+)$`, 'm').exec(text)?.[1]
  return { file, exists: true, date: field('Date'), command: field('Command'), wall: field('Wall time')?.split(' (')[0] }
}

/** Modification times of the native addon and the compiled facade: the build being measured. */
function buildStamp(): string {
  const files = [
    ...readdirSync(join(REPO_ROOT, 'native')).filter((f) => f.endsWith('.node')).map((f) => join('native', f)),
    join('dist', 'index.js'),
    join('dist', 'database.js'),
  ]
  return files
    .map((f) => {
      try {
        return `${f} ${statSync(join(REPO_ROOT, f)).mtimeMs}`
      } catch {
        return `${f} missing`
      }
    })
    .join('; ')
}

async function main(): Promise<void> {
  const started = new Date()
  const t0 = Date.now()
  const argv = process.argv.slice(2)
  const skipStrace = argv.includes('--skip-strace')
  const args: BenchArgs = parseArgs(argv.filter((a) => a !== '--skip-strace'))
  const passthrough = argv.filter((a) => !/^--(only|skip-rust|skip-profile|skip-strace|out)\b/.test(a))
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
      : `node --import tsx benches/js/run.ts${argv.length ? ` ${argv.join(' ')}` : ''}`
  const phases: RunData['phases'] = []
  let phaseStart = Date.now()
  const phase = (name: string) => {
    phases.push({ name, ms: Date.now() - phaseStart })
    phaseStart = Date.now()
  }
  // The 1-minute load average every 10 s, so the report can say how busy the machine was.
  const loadSamples: number[] = [loadavg()[0] as number]
  const sampler = setInterval(() => loadSamples.push(loadavg()[0] as number), 10_000)
  sampler.unref()
  const machine = machineInfo()
  log(`${command}: ${args.size} size, N = ${args.n}; load average ${machine.loadAverage}`)
  const fsync = fdatasyncLatency()
  log(`this disk: write + fdatasync p50 ${fsync.p50.toFixed(0)} µs, p99 ${fsync.p99.toFixed(0)} µs`)
  const work = mkdtempSync(join(tmpdir(), 'chronokv-bench-run-'))
  const partial = args.only !== undefined || args.stores.length < STORE_NAMES.length
  const target = args.out ?? (partial ? join(work, 'RESULTS.md') : join(BENCHES_DIR, RESULTS[args.size]))

  // 1. Peers and the cargo build, side by side.
  const criterionHome = join(work, 'criterion')
  const setup = args.skipRust ? undefined : await cargoSetup(criterionHome)
  const cargo = typeof setup === 'string' ? undefined : setup
  const build =
    cargo === undefined
      ? Promise.resolve()
      : (log(`building the Rust benches (cargo bench ${cargo.args.join(' ')} --no-run)`),
        sh('cargo', ['bench', ...cargo.args, '--no-run'], { env: cargo.env, quiet: true }).then(() => log('Rust benches built')))
  const [peers, built] = await Promise.allSettled([ensurePeers(), build])
  if (peers.status === 'rejected') throw peers.reason
  phase('install and build')

  // 2. The facade must match its sources.
  const native = readdirSync(join(REPO_ROOT, 'native')).some((f) => f.endsWith('.node'))
  if (!native) throw new Error('native/*.node is missing: run `npm run build` first')
  const newest = (dir: string, ext: string) =>
    Math.max(0, ...readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => statSync(join(dir, f)).mtimeMs))
  if (!existsSync(join(REPO_ROOT, 'dist', 'index.js')) || newest(join(REPO_ROOT, 'ts'), '.ts') > newest(join(REPO_ROOT, 'dist'), '.js')) {
    log('dist/ is older than ts/: compiling the facade (tsc -p tsconfig.build.json)')
    await sh(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'])
  }
  const buildAtStart = buildStamp()
  const versionsAtStart = versions()

  // 3. Workloads.
  const node = (file: string) => [...TSX, join(JS_DIR, file), ...passthrough]
  const workloads: WorkloadResult[] = []
  for (const [id, file] of WORKLOADS) {
    if (args.only !== undefined && !args.only.includes(id)) continue
    const out = join(work, `${id}.json`)
    log(`${id}: ${file}`)
    const t = Date.now()
    try {
      await sh(process.execPath, [...node(file), `--out=${out}`])
      workloads.push(JSON.parse(readFileSync(out, 'utf8')) as WorkloadResult)
    } catch (err) {
      log(`${id} FAILED; the report marks it n/a with the error`)
      workloads.push({ id, title: file, unit: '', args, stores: {}, check: undefined, peakRssKiB: 0, wallMs: Date.now() - t, error: reason(err) })
    }
  }
  phase('workloads')

  // 4. Cost of one native call (a few seconds), alone: it is a timing.
  let calls: RunData['calls'] | string = []
  if (args.only === undefined && args.stores.includes('chronokv')) {
    const out = join(work, 'calls.json')
    try {
      await sh(process.execPath, [...TSX, join(JS_DIR, 'napi-call-overhead.ts'), `--out=${out}`], { quiet: true })
      calls = JSON.parse(readFileSync(out, 'utf8')) as CallCost[]
      log(`native call overhead: ${calls.map((c) => `${c.name} ${Math.round(c.ns)} ns`).join('; ')}`)
    } catch (err) {
      calls = `n/a: napi-call-overhead.ts failed:\n\n\`\`\`\n${reason(err)}\n\`\`\``
    }
  }

  // 4 and 5. Footprint (one process per store and data set, two at a time) side by side with the
  // strace durability check: neither measures time, and peak RSS, bytes on disk and whether each
  // acknowledged write was synced do not depend on what else runs.
  const footprints: Array<Footprint | { store: StoreName; dataset: string; error: string }> = []
  const measureFootprints = async () => {
    if (args.only !== undefined) return
    const jobs = ['plain', 'temporal'].flatMap((dataset) => args.stores.map((store) => ({ dataset, store })))
    await pool(jobs, 2, async ({ dataset, store }) => {
      try {
        const line = await sh(process.execPath, [...node('footprint.ts'), `--store=${store}`, `--dataset=${dataset}`], { quiet: true })
        footprints.push(JSON.parse(line.trim().split('\n').pop() as string) as Footprint)
      } catch (err) {
        footprints.push({ store, dataset, error: reason(err) })
      }
    })
    log(`footprint measured for ${footprints.length} store x data set pairs`)
  }
  let strace: StraceReport[] | string
  const hasStrace = await sh('bash', ['-c', 'command -v strace'], { quiet: true }).then(
    () => true,
    () => false,
  )
  const checkDurability = async (): Promise<StraceReport[] | string> => {
    if (skipStrace || args.only !== undefined) return 'Skipped (--skip-strace or --only).'
    if (!hasStrace) return 'n/a: strace is not installed (apt-get install strace).'
    log('durability check: bash benches/strace-fsync.sh (side by side with the footprint)')
    const dir = join(work, 'strace')
    mkdirSync(dir)
    try {
      await sh('bash', [join(BENCHES_DIR, 'strace-fsync.sh'), `--stores=${args.stores.join(',')}`, `--json-dir=${dir}`], { prefix: '  ' })
    } catch (err) {
      return `n/a: benches/strace-fsync.sh failed:\n\n\`\`\`\n${reason(err)}\n\`\`\``
    }
    return readdirSync(dir)
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as StraceReport)
      .sort((a, b) => a.workload.localeCompare(b.workload) || args.stores.indexOf(a.store as never) - args.stores.indexOf(b.store as never))
  }
  ;[, strace] = await Promise.all([measureFootprints(), checkDurability()])
  phase('call cost, footprint and strace')

  // 6. Rust benches.
  let rust: RustBench[] | string = typeof setup === 'string' ? setup : 'Skipped (--skip-rust).'
  let rustNote = ''
  if (cargo !== undefined) {
    rustNote = cargo.note
    if (built.status === 'rejected') {
      rust = `n/a: the Rust benches did not build:\n\n\`\`\`\n${String((built.reason as Error).message).slice(-3000)}\n\`\`\``
    } else {
      const timing = args.size === 'full' ? [] : ['--warm-up-time', '0.3', '--measurement-time', '0.7', '--sample-size', '20']
      const cmd = `cargo bench ${cargo.args.join(' ')} -- ${[...timing, '--noplot'].join(' ')}`
      log(`Rust benches: ${cmd}`)
      try {
        await sh('cargo', ['bench', ...cargo.args, '--', ...timing, '--noplot'], { env: cargo.env, quiet: true })
        rust = readCriterion(criterionHome)
        rustNote += ` Command: \`${cmd}\`${
          args.size === 'full'
            ? ' (criterion defaults: 3 s warm-up, 5 s measurement, 100 samples per bench).'
            : ' (quick size: 0.3 s warm-up, 0.7 s measurement and 20 samples per bench instead of criterion\'s 3 s, 5 s and 100, so the confidence intervals are wider than with `--full`).'
        }`
      } catch (err) {
        rust = `n/a: the Rust benches failed:\n\n\`\`\`\n${String((err as Error).message).slice(-3000)}\n\`\`\``
      }
    }
  }
  phase('rust')

  // 7. Profiles of the biggest gaps.
  const profiles: RunData['profiles'] = []
  if (!args.skipProfile && args.stores.includes('chronokv')) {
    const gaps = workloads
      .filter((w) => w.error === undefined)
      .map(goalStatus)
      .filter((s) => s.gap > 1)
      .sort((a, b) => b.gap - a.gap)
      .slice(0, 3)
    for (const g of gaps) {
      const file = (WORKLOADS.find(([id]) => id === g.id) as [string, string])[1]
      const path = join(work, `${g.id}.cpuprofile`)
      // Longer rounds than the measured run, so that benny's own setup is a small part of the samples.
      const extra = ['--stores=chronokv', '--rounds=1', `--max-time=${Math.max(2, args.maxTime)}`, `--w4-ms=${Math.max(2000, args.w4Millis)}`]
      const profileCommand = `CHRONOKV_BENCH_CPU_PROFILE=${g.id}.cpuprofile node ${TSX.join(' ')} benches/js/${file} ${[...passthrough, ...extra].join(' ')}`
      log(`profiling chronokv in ${g.id}`)
      try {
        await sh(process.execPath, [...node(file), ...extra], { env: { ...process.env, CHRONOKV_BENCH_CPU_PROFILE: path }, quiet: true })
        profiles.push({ id: g.id, command: profileCommand, summary: summarizeProfile(path) })
      } catch (err) {
        profiles.push({ id: g.id, command: profileCommand, error: reason(err) })
      }
    }
  }
  phase('profiles')
  clearInterval(sampler)
  loadSamples.push(loadavg()[0] as number)

  const buildAtEnd = buildStamp()
  const data: RunData = {
    command,
    started,
    args,
    wallMs: Date.now() - t0,
    phases,
    machine,
    fsync,
    loadAtEnd: loadavg().map((v) => v.toFixed(2)).join(' / '),
    loadDuring: {
      min: Math.min(...loadSamples),
      mean: loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length,
      max: Math.max(...loadSamples),
      samples: loadSamples.length,
    },
    buildChanged: buildAtEnd === buildAtStart ? undefined : `at start: ${buildAtStart}; at end: ${buildAtEnd}`,
    versions: { ...versionsAtStart, 'SQLite (bundled)': sqliteVersion() },
    workloads,
    footprints,
    calls,
    strace,
    rust,
    rustNote,
    profiles,
    other: otherReport(args.size),
    partial,
  }
  writeFileSync(target, render(data))
  writeFileSync(join(work, 'run.json'), JSON.stringify(data, null, 2))
  log(`wrote ${target} in ${((Date.now() - t0) / 60000).toFixed(1)} min (raw data: ${join(work, 'run.json')})`)
  for (const w of workloads) {
    if (w.error !== undefined) {
      log(`${w.id}: n/a (failed)`)
      continue
    }
    const s = goalStatus(w)
    log(`${s.id}: chronokv ${Math.round(s.chronokv)} vs best peer ${s.bestPeer} ${Math.round(s.bestPeerRate)} -> ${s.ratioToBest.toFixed(2)}x; goal attained ${(1 / s.gap).toFixed(2)}x`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
