/**
 * `npm run bench`: the whole benchmark, start to finish, written to benches/RESULTS.md.
 *
 * 1. Installs the peers into benches/js/node_modules when needed (npm ci; better-sqlite3 is
 *    compiled from source against the local Node headers) while cargo builds the criterion
 *    benches, so the two slow steps overlap.
 * 2. Rebuilds dist/ if the facade's sources are newer.
 * 3. Runs every workload (W1-W5, T1-T4) in a process of its own, all stores interleaved.
 * 4. Measures the cost of one call into the native addon, and each store's footprint in a
 *    process of its own.
 * 5. Checks durability with strace (benches/strace-fsync.sh), if strace is installed.
 * 6. Runs the criterion benches and reads their estimates.
 * 7. Profiles chronokv in the three workloads farthest from their goals.
 * 8. Writes benches/RESULTS.md.
 *
 * Usage: npm run bench [-- --full] [-- --only=W2,T1 --stores=chronokv,lmdb --rounds=5
 *        --skip-rust --skip-profile --skip-strace]
 * Quick (default): N = 100,000, about 8 minutes on 2 cores with the peers already installed and
 * the Rust benches already built (add ~3-7 minutes on a first run). --full: N = 1,000,000.
 */

import { spawn, type SpawnOptions } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { parseArgs, type BenchArgs } from './lib/args'
import { fdatasyncLatency, machineInfo, sqliteVersion, versions } from './lib/machine'
import type { WorkloadResult } from './lib/measure'
import { JS_DIR, REPO_ROOT } from './lib/peers'
import { summarizeProfile } from './lib/profile'
import { goalStatus, render, type RunData, type RustBench } from './lib/report'
import type { Footprint } from './footprint'
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
  cwd: string
  env: NodeJS.ProcessEnv
  note: string
}

/**
 * Where to run `cargo bench -p chronokv-bench`: the repository root once benches/ is a workspace
 * member. Until then, a shadow workspace in .tmp/bench-ws made of the committed crates
 * (`git archive HEAD`), this benches/ crate, and a root Cargo.toml that lists it.
 */
async function cargoSetup(criterionHome: string): Promise<CargoSetup> {
  const rootToml = readFileSync(join(REPO_ROOT, 'Cargo.toml'), 'utf8')
  const env: NodeJS.ProcessEnv = { ...process.env, CRITERION_HOME: criterionHome }
  if (/members\s*=\s*\[[^\]]*"benches"/.test(rootToml)) {
    return { cwd: REPO_ROOT, env, note: 'Built and run with `cargo bench -p chronokv-bench` in the workspace.' }
  }
  const shadow = join(REPO_ROOT, '.tmp', 'bench-ws')
  rmSync(shadow, { recursive: true, force: true })
  mkdirSync(join(shadow, 'benches'), { recursive: true })
  await sh('bash', ['-c', `git archive HEAD Cargo.toml Cargo.lock crates | tar -x -C "${shadow}"`], { quiet: true })
  await sh('cp', ['-rp', join(BENCHES_DIR, 'Cargo.toml'), join(BENCHES_DIR, 'rust'), join(shadow, 'benches')], { quiet: true })
  const toml = readFileSync(join(shadow, 'Cargo.toml'), 'utf8').replace(/members\s*=\s*\[/, 'members = ["benches", ')
  writeFileSync(join(shadow, 'Cargo.toml'), toml)
  const head = (await sh('git', ['rev-parse', '--short', 'HEAD'], { quiet: true })).trim()
  env.CARGO_TARGET_DIR ??= join(REPO_ROOT, '.tmp', 'bench-target')
  return {
    cwd: shadow,
    env,
    note:
      `benches/ is not a member of the root workspace yet, so the harness built the benches in a shadow workspace (.tmp/bench-ws) from the committed crates at ${head} ` +
      '(`git archive HEAD`) plus benches/; uncommitted changes to crates/ are not measured here.',
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
  const machine = machineInfo()
  log(`${command}: ${args.size} size, N = ${args.n}; load average ${machine.loadAverage}`)
  const fsync = fdatasyncLatency()
  log(`this disk: write + fdatasync p50 ${fsync.p50.toFixed(0)} µs, p99 ${fsync.p99.toFixed(0)} µs`)
  const work = mkdtempSync(join(tmpdir(), 'chronokv-bench-run-'))

  // 1. Peers and the cargo build, side by side.
  const criterionHome = join(work, 'criterion')
  const cargo = args.skipRust ? undefined : await cargoSetup(criterionHome)
  const build = cargo === undefined
    ? Promise.resolve()
    : (log(`building the Rust benches (cargo bench -p chronokv-bench --no-run, in ${cargo.cwd})`),
      sh('cargo', ['bench', '-p', 'chronokv-bench', '--no-run'], { cwd: cargo.cwd, env: cargo.env, quiet: true }).then(() =>
        log('Rust benches built'),
      ))
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

  // 3. Workloads.
  const node = (file: string) => [
    '--import',
    'tsx',
    join(JS_DIR, file),
    ...passthrough,
  ]
  const workloads: WorkloadResult[] = []
  for (const [id, file] of WORKLOADS) {
    if (args.only !== undefined && !args.only.includes(id)) continue
    const out = join(work, `${id}.json`)
    log(`${id}: ${file}`)
    await sh(process.execPath, [...node(file), `--out=${out}`])
    workloads.push(JSON.parse(readFileSync(out, 'utf8')) as WorkloadResult)
  }
  phase('workloads')

  // Cost of one native call (a few seconds).
  let calls: RunData['calls'] = []
  if (args.only === undefined && args.stores.includes('chronokv')) {
    const out = join(work, 'calls.json')
    await sh(process.execPath, ['--import', 'tsx', join(JS_DIR, 'napi-call-overhead.ts'), `--out=${out}`], { quiet: true })
    calls = JSON.parse(readFileSync(out, 'utf8')) as RunData['calls']
    log(`native call overhead: ${calls.map((c) => `${c.name} ${Math.round(c.ns)} ns`).join('; ')}`)
  }

  // 4. Footprint.
  const footprints: Footprint[] = []
  if (args.only === undefined) {
    for (const dataset of ['plain', 'temporal']) {
      for (const store of args.stores) {
        const line = await sh(process.execPath, [...node('footprint.ts'), `--store=${store}`, `--dataset=${dataset}`], { quiet: true })
        footprints.push(JSON.parse(line.trim().split('\n').pop() as string) as Footprint)
      }
    }
    log(`footprint measured for ${footprints.length} store x data set pairs`)
  }
  phase('call cost and footprint')

  // 5. Durability.
  let strace: StraceReport[] | string
  const hasStrace = await sh('bash', ['-c', 'command -v strace'], { quiet: true }).then(
    () => true,
    () => false,
  )
  if (skipStrace || args.only !== undefined) strace = 'Skipped (--skip-strace or --only).'
  else if (!hasStrace) strace = 'Skipped: strace is not installed (apt-get install strace).'
  else {
    log('durability check: bash benches/strace-fsync.sh')
    const dir = join(work, 'strace')
    mkdirSync(dir)
    await sh('bash', [join(BENCHES_DIR, 'strace-fsync.sh'), `--stores=${args.stores.join(',')}`, `--json-dir=${dir}`], { prefix: '  ' })
    strace = readdirSync(dir)
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as StraceReport)
      .sort((a, b) => a.workload.localeCompare(b.workload) || args.stores.indexOf(a.store as never) - args.stores.indexOf(b.store as never))
  }
  phase('strace')

  // 6. Rust benches.
  let rust: RustBench[] | string = 'Skipped (--skip-rust).'
  let rustNote = ''
  if (cargo !== undefined) {
    rustNote = cargo.note
    if (built.status === 'rejected') {
      rust = `The Rust benches did not build:\n\n\`\`\`\n${String((built.reason as Error).message).slice(-3000)}\n\`\`\``
    } else {
      const timing = args.size === 'full' ? [] : ['--warm-up-time', '0.3', '--measurement-time', '0.7', '--sample-size', '20']
      log(`Rust benches: cargo bench -p chronokv-bench -- ${[...timing, '--noplot'].join(' ')}`)
      try {
        await sh('cargo', ['bench', '-p', 'chronokv-bench', '--', ...timing, '--noplot'], { cwd: cargo.cwd, env: cargo.env, quiet: true })
        rust = readCriterion(criterionHome)
        rustNote += ` Command: \`cargo bench -p chronokv-bench -- ${[...timing, '--noplot'].join(' ')}\`${args.size === 'full' ? ' (criterion defaults)' : ' (quick: short warm-up and measurement)'}.`
      } catch (err) {
        rust = `The Rust benches failed:\n\n\`\`\`\n${String((err as Error).message).slice(-3000)}\n\`\`\``
      }
    }
  }
  phase('rust')

  // 7. Profiles of the biggest gaps.
  const profiles: RunData['profiles'] = []
  if (!args.skipProfile && args.stores.includes('chronokv')) {
    const gaps = workloads.map(goalStatus).filter((s) => s.gap > 1).sort((a, b) => b.gap - a.gap).slice(0, 3)
    for (const g of gaps) {
      const file = (WORKLOADS.find(([id]) => id === g.id) as [string, string])[1]
      const path = join(work, `${g.id}.cpuprofile`)
      // Longer rounds than the measured run, so that benny's own setup is a small part of the samples.
      const extra = ['--stores=chronokv', '--rounds=1', `--max-time=${Math.max(2, args.maxTime)}`, `--w4-ms=${Math.max(2000, args.w4Millis)}`]
      log(`profiling chronokv in ${g.id}`)
      await sh(process.execPath, [...node(file), ...extra], { env: { ...process.env, CHRONOKV_BENCH_CPU_PROFILE: path }, quiet: true })
      profiles.push({
        id: g.id,
        command: `CHRONOKV_BENCH_CPU_PROFILE=${g.id}.cpuprofile node --import tsx benches/js/${file} ${[...passthrough, ...extra].join(' ')}`,
        summary: summarizeProfile(path),
      })
    }
  }
  phase('profiles')

  const data: RunData = {
    command,
    started,
    args,
    wallMs: Date.now() - t0,
    phases,
    machine,
    fsync,
    loadAtEnd: loadavg().map((v) => v.toFixed(2)).join(' / '),
    versions: { ...versions(), 'SQLite (bundled)': sqliteVersion() },
    workloads,
    footprints,
    calls,
    strace,
    rust,
    rustNote,
    profiles,
  }
  const target = join(BENCHES_DIR, 'RESULTS.md')
  writeFileSync(target, render(data))
  writeFileSync(join(work, 'run.json'), JSON.stringify(data, null, 2))
  log(`wrote ${target} in ${((Date.now() - t0) / 60000).toFixed(1)} min (raw data: ${join(work, 'run.json')})`)
  for (const s of workloads.map(goalStatus)) {
    log(`${s.id}: chronokv ${Math.round(s.chronokv)} vs best peer ${s.bestPeer} ${Math.round(s.bestPeerRate)} -> ${s.ratioToBest.toFixed(2)}x; goal attained ${(1 / s.gap).toFixed(2)}x`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
