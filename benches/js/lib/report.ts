/**
 * Renders benches/RESULTS.md from the results of one run (run.ts). Nothing in RESULTS.md is
 * written by hand.
 * @packageDocumentation
 */

import type { BenchArgs } from './args'
import type { MachineInfo } from './machine'
import { fmt, type StoreResult, type WorkloadResult } from './measure'
import type { ProfileSummary } from './profile'
import { scaleSection } from './scale-report'
import { HOW, STORE_NAMES, type StoreName } from './stores'
import type { Footprint } from '../footprint'
import type { CallCost } from '../napi-call-overhead'
import type { StraceReport } from '../strace-analyze'

/** One criterion benchmark. */
export interface RustBench {
  group: string
  fn: string
  /** Nanoseconds per iteration: point estimate and 95% confidence interval. */
  ns: number
  lo: number
  hi: number
  /** Elements per iteration (throughput), if declared. */
  elements: number | undefined
}

export interface RunData {
  command: string
  started: Date
  args: BenchArgs
  wallMs: number
  phases: Array<{ name: string; ms: number }>
  machine: MachineInfo
  /** One 136-byte append + fdatasync on the benches' file system, µs. */
  fsync: { p50: number; p99: number }
  loadAtEnd: string
  /** The 1-minute load average sampled every 10 s during the run. */
  loadDuring: { min: number; mean: number; max: number; samples: number }
  /** Set when the native addon or dist/ changed while the run was going on. */
  buildChanged: string | undefined
  versions: Record<string, string>
  workloads: WorkloadResult[]
  /** One per store and data set; `error` when that process failed. */
  footprints: Array<Footprint | { store: StoreName; dataset: string; error: string }>
  /** benches/js/napi-call-overhead.ts: ns per call, or why there are none. */
  calls: CallCost[] | string
  strace: StraceReport[] | string
  rust: RustBench[] | string
  rustNote: string
  profiles: Array<{ id: string; command: string; summary?: ProfileSummary; error?: string }>
  /** The report of the other size (RESULTS.md <-> RESULTS-full.md), linked from this one. */
  other: { file: string; exists: boolean; date?: string; command?: string; wall?: string }
  /** True for --only or a subset of --stores: such a report is not the committed one. */
  partial: boolean
}

/** The goals the issue sets, per workload. */
export const GOALS: Record<string, { factor?: number; ref?: 'lmdb' | 'best'; absolute?: number; text: string }> = {
  W1: { factor: 1, ref: 'lmdb', text: '>= lmdb-js' },
  W2: { factor: 2, ref: 'lmdb', text: '>= 2x lmdb-js' },
  W3: { factor: 1.5, ref: 'lmdb', text: '>= 1.5x lmdb-js' },
  W4: { absolute: 30_000, text: '>= 30,000 writes/s' },
  W5: { factor: 1.5, ref: 'lmdb', text: '>= 1.5x lmdb-js' },
  T1: { factor: 5, ref: 'best', text: '>= 5x the best emulation' },
  T2: { factor: 5, ref: 'best', text: '>= 5x the best emulation' },
  T3: { factor: 5, ref: 'best', text: '>= 5x the best emulation' },
  T4: { factor: 10, ref: 'best', text: '>= 10x the best emulation' },
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

const rate = (sr: StoreResult | undefined) => (sr === undefined ? NaN : median(sr.rates))

export interface GoalStatus {
  id: string
  chronokv: number
  bestPeer: StoreName | undefined
  bestPeerRate: number
  ratioToBest: number
  target: number
  /** target / chronokv: > 1 means chronokv falls short by this factor. */
  gap: number
  text: string
}

export function goalStatus(w: WorkloadResult): GoalStatus {
  const c = rate(w.stores.chronokv)
  let bestPeer: StoreName | undefined
  let bestRate = -Infinity
  for (const name of STORE_NAMES) {
    if (name === 'chronokv') continue
    const r = rate(w.stores[name])
    if (r > bestRate) {
      bestRate = r
      bestPeer = name
    }
  }
  const goal = GOALS[w.id] ?? { text: '' }
  const refRate = goal.ref === 'lmdb' ? rate(w.stores.lmdb) : bestRate
  const target = goal.absolute ?? (goal.factor ?? 1) * refRate
  return {
    id: w.id,
    chronokv: c,
    bestPeer,
    bestPeerRate: bestRate,
    ratioToBest: c / bestRate,
    target,
    gap: target / c,
    text: goal.text,
  }
}

const bytes = (n: number | undefined) =>
  n === undefined ? '—' : n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`
const x = (r: number) => (Number.isFinite(r) ? `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x` : '—')
const us = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(0)} µs`)
const ns = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} ms` : n >= 1e3 ? `${(n / 1e3).toFixed(2)} µs` : `${n.toFixed(1)} ns`)

/** One line in a table cell: newlines and pipes would break the Markdown table. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' / ').replace(/\|/g, '\\|')

export function render(d: RunData): string {
  const out: string[] = []
  const p = (s = '') => out.push(s)
  const full = d.args.size === 'full'
  p(`# chronokv benchmark results${full ? ': full size' : ''}`)
  p()
  p(`> Written by the bench harness (\`benches/js/run.ts\`); do not edit by hand. Re-run the command below to refresh.${full ? ' `npm run bench` (quick size) writes RESULTS.md and leaves this file alone.' : ' `npm run bench -- --full` writes RESULTS-full.md and leaves this file alone.'}`)
  p()
  if (d.partial) {
    p('> **Partial run** (`--only` or a subset of `--stores`): not every workload or store was measured, so this is not the committed report.')
    p()
  }
  const other = d.other
  const otherSize = full ? 'quick size (N = 100,000)' : 'full size (N = 1,000,000)'
  // The quick report says which full run it sits beside; the full one just links back (the quick
  // report is rewritten far more often, so a date here would soon be stale).
  p(
    !other.exists
      ? `- **The ${otherSize}:** ${other.file} has not been written yet (\`npm run bench${full ? '' : ' -- --full'}\`).`
      : full
        ? `- **The ${otherSize}:** [${other.file}](${other.file})`
        : `- **The ${otherSize}:** [${other.file}](${other.file}) (run ${other.date ?? 'at an unknown date'}${other.command === undefined ? '' : ` with ${other.command}`}${other.wall === undefined ? '' : `, ${other.wall}`})`,
  )
  p(`- **Command:** \`${d.command}\``)
  p(`- **Date:** ${d.started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`)
  p(
    `- **Size:** ${full ? 'full' : 'quick (`--full` for N = 1,000,000)'}: N = ${d.args.n.toLocaleString('en-US')} keys (W1-W5); temporal data set ${d.args.temporalKeys.toLocaleString('en-US')} keys x 20 versions = ${(d.args.temporalKeys * 20).toLocaleString('en-US')} versions (T1-T4); 16-byte keys, 100-byte values`,
  )
  p(`- **Rounds:** ${d.args.rounds} per store and workload, stores interleaved (order rotated each round); benny maxTime ${d.args.maxTime} s per case and round; W4 ${d.args.w4Millis} ms per store and round; W5 at least ${d.args.maxTime} s (and 2 batches) per store and round`)
  p(`- **Wall time:** ${(d.wallMs / 60000).toFixed(1)} min (${d.phases.map((ph) => `${ph.name} ${(ph.ms / 1000).toFixed(0)} s`).join(', ')})`)
  p(`- **Load average:** ${d.machine.loadAverage} at the start, ${d.loadAtEnd} at the end (1/5/15 min); 1-minute load during the run ${d.loadDuring.min.toFixed(2)} - ${d.loadDuring.max.toFixed(2)}, mean ${d.loadDuring.mean.toFixed(2)} (${d.loadDuring.samples} samples, every 10 s)`)
  if (d.buildChanged !== undefined) {
    p(`- **Warning:** the native addon or dist/ changed while this run was going on, so the workloads may have measured two builds (${d.buildChanged}).`)
  }
  p()
  p('## Machine')
  p()
  p('| | |')
  p('| --- | --- |')
  p(`| CPU | ${d.machine.cpu} |`)
  p(`| cores | ${d.machine.cores} |`)
  p(`| RAM | ${d.machine.ramGiB} GiB |`)
  p(`| disk | ${d.machine.disk} |`)
  p(`| file system | ${d.machine.fs} |`)
  p(`| kernel | ${d.machine.kernel} |`)
  p(`| write + fdatasync (136 B, 1,000 times) | p50 ${us(d.fsync.p50)}, p99 ${us(d.fsync.p99)}: at most ~${fmt(1e6 / d.fsync.p50)} durable writes/s one at a time |`)
  p(`| load average (1/5/15 min) | at start ${d.machine.loadAverage}; at end ${d.loadAtEnd}; 1-minute load during the run ${d.loadDuring.min.toFixed(2)} - ${d.loadDuring.max.toFixed(2)} (mean ${d.loadDuring.mean.toFixed(2)}) |`)
  p()
  p('Other processes on this machine (for example Rust builds of other work) share its 2 cores: a load average well above 0 means the numbers are noisier and lower than on an idle machine. Ratios between stores are more robust than absolute numbers, because the stores take turns within each round.')
  p()
  p('## Versions')
  p()
  p('| package | version |')
  p('| --- | --- |')
  for (const [k, v] of Object.entries(d.versions)) p(`| ${k} | ${v} |`)
  p()

  const measured = d.workloads.filter((w) => w.error === undefined)
  p('## Summary: chronokv against the best peer and the goals')
  p()
  p('Medians over the rounds. "vs best peer" is chronokv / the fastest peer; "goal" is what the issue asks for; "attained" is chronokv / the goal\'s target (>= 1.00x means met).')
  p()
  p('| workload | chronokv | best peer | vs best peer | goal | target | attained | answers agree |')
  p('| --- | ---: | --- | ---: | --- | ---: | ---: | --- |')
  for (const w of d.workloads) {
    if (w.error !== undefined) {
      p(`| ${w.id} (${w.title}) | n/a | n/a | n/a | ${GOALS[w.id]?.text ?? ''} | n/a | n/a | n/a: the workload failed: ${cell(w.error)} |`)
      continue
    }
    const s = goalStatus(w)
    const check = w.check === undefined ? 'n/a (nothing to compare: writes only)' : w.check.agree ? 'yes' : '**NO**'
    const num = (v: number, text: string) => (Number.isFinite(v) ? text : 'n/a')
    p(
      `| ${w.id} ${w.title} | ${num(s.chronokv, `${fmt(s.chronokv)} ${w.unit}`)} | ${s.bestPeer === undefined ? 'n/a' : `${s.bestPeer} ${fmt(s.bestPeerRate)}`} | ${x(s.ratioToBest)} | ${s.text} | ${num(s.target, fmt(s.target))} | ${x(1 / s.gap)}${s.gap <= 1 ? ' met' : ''} | ${check} |`,
    )
  }
  p()

  const gaps = measured.map(goalStatus).filter((s) => s.gap > 1).sort((a, b) => b.gap - a.gap).slice(0, 3)
  p('## The three biggest gaps')
  p()
  if (gaps.length === 0) p(measured.length === 0 ? 'No workload was measured.' : 'Every goal is met.')
  for (const [i, g] of gaps.entries()) {
    const w = d.workloads.find((wl) => wl.id === g.id) as WorkloadResult
    p(`### ${i + 1}. ${g.id} ${w.title}: ${x(g.gap)} short of the goal (${g.text})`)
    p()
    p(`chronokv ${fmt(g.chronokv)} ${w.unit}; target ${fmt(g.target)}; best peer ${g.bestPeer} ${fmt(g.bestPeerRate)}.`)
    const prof = d.profiles.find((pr) => pr.id === g.id)
    if (prof?.error !== undefined) {
      p()
      p(`CPU profile: n/a, \`${prof.command}\` failed: ${cell(prof.error)}`)
    } else if (prof?.summary !== undefined) {
      const summary = prof.summary
      p()
      p(`CPU profile of chronokv alone in this workload (measured rounds only, V8 sampling every 100 µs, ${summary.samples.toLocaleString('en-US')} samples; \`${prof.command}\`):`)
      p()
      p('| layer | self time |')
      p('| --- | ---: |')
      for (const [layer, pct] of Object.entries(summary.layers)) if (pct >= 0.5) p(`| ${layer} | ${pct}% |`)
      p()
      p('| function | where | self | total |')
      p('| --- | --- | ---: | ---: |')
      for (const t of summary.top) p(`| \`${t.name}\` | ${t.where} | ${t.selfPct}% | ${t.totalPct}% |`)
    } else {
      p()
      p('CPU profile: skipped (`--skip-profile`).')
    }
    p()
  }
  p('What the profiles mean, and what would fix each gap: see "Findings" in benches/README.md.')
  p()

  p('## Workloads')
  p()
  for (const w of d.workloads) {
    if (w.error !== undefined) {
      p(`### ${w.id}: n/a`)
      p()
      p(`\`${w.title}\` failed after ${(w.wallMs / 1000).toFixed(0)} s, so no store has a number for ${w.id} in this run:`)
      p()
      p('```')
      p(w.error)
      p('```')
      p()
      continue
    }
    const s = goalStatus(w)
    p(`### ${w.id}: ${w.title}`)
    p()
    const hasLatency = STORE_NAMES.some((n) => w.stores[n]?.latency !== undefined)
    const hasDisk = STORE_NAMES.some((n) => w.stores[n]?.diskBytes !== undefined)
    p(
      `| store | median ${w.unit} | min - max | benny ±rme | chronokv / store${hasLatency ? ' | p50 | p99 | writes timed' : ''}${hasDisk ? ' | on disk' : ''} |`,
    )
    p(`| --- | ---: | ---: | ---: | ---:${hasLatency ? ' | ---: | ---: | ---:' : ''}${hasDisk ? ' | ---:' : ''} |`)
    for (const name of STORE_NAMES) {
      const sr = w.stores[name]
      if (sr === undefined || sr.rates.length === 0) {
        const why = sr === undefined ? 'not run (`--stores`)' : 'no rounds measured'
        p(`| ${name} | n/a: ${why} | | | ${hasLatency ? ' | | |' : ''}${hasDisk ? ' |' : ''} |`)
        continue
      }
      const r = median(sr.rates)
      const rme = sr.rme === undefined ? 'n/a (hand-timed)' : `${median(sr.rme).toFixed(1)}%`
      const lat = sr.latency === undefined ? ' | n/a | n/a | n/a' : ` | ${us(sr.latency.p50)} | ${us(sr.latency.p99)} | ${sr.latency.samples.toLocaleString('en-US')}`
      p(
        `| ${name} | ${fmt(r)} | ${fmt(Math.min(...sr.rates))} - ${fmt(Math.max(...sr.rates))} | ${rme} | ${name === 'chronokv' ? '—' : x(s.chronokv / r)}${hasLatency ? lat : ''}${hasDisk ? ` | ${bytes(sr.diskBytes)}` : ''} |`,
      )
    }
    p()
    const notes: string[] = []
    if (w.check !== undefined) notes.push(`Cross-check before timing: ${w.check.detail}.`)
    notes.push(`Process peak RSS (all stores side by side): ${mib(w.peakRssKiB)}; wall time ${(w.wallMs / 1000).toFixed(0)} s.`)
    if (w.id === 'W4') {
      notes.push(
        `The disk's floor: one write + fdatasync takes ${us(d.fsync.p50)} at the median here, so no store can acknowledge more than ~${fmt(1e6 / d.fsync.p50)} durable writes/s one at a time; the goal of 30,000/s assumes fdatasync <= ~30 µs.`,
      )
    }
    if (hasDisk) notes.push(w.id === 'W1' ? 'On disk: after the last round\'s load and close.' : 'On disk: right after loading, stores still open.')
    p(notes.join(' '))
    p()
  }

  // Written by extents-scale.ts --save; kept here so a new report does not drop it.
  for (const line of scaleSection()) p(line)
  p()
  p('## Footprint (one process per store)')
  p()
  p('Each store alone in a fresh process: load the data set, read every key once, close. "RSS growth" is peak RSS minus the RSS just before the store was opened (Node, the modules and the generated data).')
  p()
  p('| store | data set | versions | peak RSS | RSS growth | on disk after close |')
  p('| --- | --- | ---: | ---: | ---: | ---: |')
  if (d.footprints.length === 0) p('| n/a: not measured in a run with `--only` | | | | | |')
  for (const f of d.footprints) {
    if ('error' in f) {
      p(`| ${f.store} | ${f.dataset} | n/a: footprint.ts failed: ${cell(f.error)} | | | |`)
      continue
    }
    p(`| ${f.store} | ${f.dataset} | ${f.versions.toLocaleString('en-US')} | ${mib(f.peakRssKiB)} | ${mib(f.peakRssKiB - f.baseRssKiB)} | ${bytes(f.diskBytes)} |`)
  }
  p()

  p('## Cost of one call into the native addon')
  p()
  if (typeof d.calls === 'string') {
    p(d.calls)
  } else if (d.calls.length === 0) {
    p('Skipped (a run with `--only`, or without chronokv).')
  } else {
    p('`node --import tsx benches/js/napi-call-overhead.ts`: tight loops, best of 5 runs. Where the time of a bare call goes: "Findings" in benches/README.md.')
    p()
    p('| call | ns per call |')
    p('| --- | ---: |')
    for (const c of d.calls) p(`| ${c.name} | ${Math.round(c.ns).toLocaleString('en-US')} |`)
  }
  p()

  p('## Durability check (strace)')
  p()
  if (typeof d.strace === 'string') {
    p(d.strace)
  } else {
    p('`bash benches/strace-fsync.sh`: every store\'s writes under `strace -f`; sync calls (fsync, fdatasync, msync, sync_file_range, syncfs, sync) on the store\'s files, and for each acknowledged write (W1: each chunk of 10,000) whether a sync of the store\'s files started after it was issued and finished before its promise resolved. W1: 3 chunks of 10,000; W4: 200 awaited puts; W5: 10,000 puts in flight.')
    p()
    p('| store | workload | acked | sync calls | syncs per ack | acks after a completed sync |')
    p('| --- | --- | ---: | --- | ---: | ---: |')
    for (const r of d.strace) {
      const calls = Object.entries(r.syncs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
      const ok = r.covered === r.acked ? `${r.covered}/${r.acked}` : `**${r.covered}/${r.acked}**`
      p(`| ${r.store} | ${r.workload} | ${r.acked.toLocaleString('en-US')} | ${calls} | ${r.syncsPerAck.toFixed(3)} | ${ok} |`)
    }
  }
  p()

  p('## Rust benches (criterion)')
  p()
  p(d.rustNote)
  p()
  if (typeof d.rust === 'string') {
    p(d.rust)
  } else {
    p('| bench | implementation | time per iteration (95% CI) | per element | baseline / chronokv |')
    p('| --- | --- | ---: | ---: | ---: |')
    const groups = [...new Set(d.rust.map((r) => r.group))]
    for (const g of groups) {
      const rows = d.rust.filter((r) => r.group === g)
      const chrono = rows.find((r) => r.fn === 'chronokv')
      for (const r of rows.sort((a, b) => (a.fn === 'chronokv' ? -1 : b.fn === 'chronokv' ? 1 : a.fn.localeCompare(b.fn)))) {
        const per = r.elements !== undefined && r.elements > 1 ? ns(r.ns / r.elements) : '—'
        const vs = r.fn === 'chronokv' || chrono === undefined ? '—' : x(r.ns / chrono.ns)
        p(`| ${g} | ${r.fn} | ${ns(r.ns)} (${ns(r.lo)} - ${ns(r.hi)}) | ${per} | ${vs} |`)
      }
    }
    p()
    p('"baseline / chronokv" > 1 means chronokv is faster than that baseline.')
  }
  p()

  p('## How each store does each workload')
  p()
  p('Every store gets the same bytes (Buffers: no store pays for string or JSON encoding). A write\'s promise resolves once it is durable: chronokv `durability: \'sync\'`; lmdb-js defaults (its commit promise resolves after the sync, see the strace table); classic-level `{ sync: true }`; SQLite `journal_mode = WAL`, `synchronous = FULL`. The temporal peers are emulated the way a competent user would; all stores hold the very same versions (the peers store the commit timestamps chronokv assigned) and must return identical answers to a sample of each query before anything is timed.')
  p()
  for (const name of STORE_NAMES) {
    p(`**${name}**`)
    p()
    for (const [k, v] of Object.entries(HOW[name])) p(`- ${k}: ${v}`)
    p()
  }

  p('## Method')
  p()
  p('- One Node process per workload; all four stores open side by side in fresh temporary directories and loaded with the same data (plain: N keys in random order, chunks of 10,000 per durable batch; temporal: 20 rounds, each writing one version of every key in a fresh random order in commits of 1,000 operations, ~2% deletes, none in the last round).')
  p('- W2, W3 and T1-T4 are timed with benny (benchmark.js: calibrated cycles until maxTime, at least 5 samples); one benny suite per round holds all stores, in an order that rotates each round. Each operation picks its key (and time) from a precomputed random sequence. Sync stores are called synchronously; async calls are awaited.')
  p('- W1, W4 and W5 are timed by hand: W1 loads N keys into a fresh directory per store and round (keys/s until the last batch is durable); W4 awaits one put at a time for a fixed time per store and round and records every latency (p50/p99 pooled over the rounds); W5 issues 10,000 puts in one tick and awaits them all, batch after batch until maxTime has passed (at least 2 batches per round, one untimed warm-up batch per store).')
  p('- Medians and min-max are over the rounds; "benny ±rme" is benchmark.js\'s relative margin of error within a round (median over rounds).')
  p('- Footprint: a separate process per store and data set (peak RSS from getrusage), two at a time, side by side with the strace durability check: neither measures time, and peak RSS, bytes on disk and whether a sync preceded each acknowledgement do not depend on what else runs (how many syncs a group commit needs can: see the strace table). Everything that measures time runs alone.')
  p(`- Rust benches: criterion, ${full ? 'with its default warm-up (3 s), measurement time (5 s) and 100 samples per bench' : 'quick: 0.3 s warm-up, 0.7 s measurement and 20 samples per bench (criterion\'s defaults are 3 s, 5 s and 100 with `--full`), so the confidence intervals are wider'}; the bench binary is built with the release profile (thin LTO), as the addon is.`)
  p('- Profiles: the workloads with the biggest gaps re-run with chronokv alone, the V8 sampling profiler on during the measured rounds only.')
  p()
  return out.join('\n')
}
