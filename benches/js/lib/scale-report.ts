/**
 * The persistent layer at scale (issue #6) in the results files: `extents-scale.ts --save`
 * writes benches/extents-scale.json, and this renders it as a section of RESULTS.md and
 * RESULTS-full.md (between markers, so the harness keeps it when it rewrites a report and the
 * scale run can refresh it without re-running the workloads).
 *
 * @packageDocumentation
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const BENCHES_DIR = join(__dirname, '..', '..')
export const SCALE_JSON = join(BENCHES_DIR, 'extents-scale.json')
const BEGIN = '<!-- extents-scale:begin (written by benches/js/extents-scale.ts --save) -->'
const END = '<!-- extents-scale:end -->'

/** One store's reads over the same data set. */
export interface ScalePhase {
  asOfReadsPerSecond: number
  asOfRates: number[]
  asOfGetManyPerSecond?: number
  rectangle: { versions: number; ms: number; blocksRead?: number; blocks?: number }
}

export interface ScaleResult {
  command: string
  date: string
  machine: { cpu: string; cores: number; ramGiB: number; kernel: string }
  loadAverage: { start: string; end: string }
  args: { keys: number; versions: number; memtableMiB: number; reads: number }
  load: { seconds: number; versionsPerSecond: number; peakRssMiB: number; extents: number; blocks: number; diskBytes: number }
  flushed: ScalePhase
  fullScan?: { versions: number; ms: number }
  compaction: { seconds: number; extentsIn: number; extentsOut: number; diskBytes: number }
  compacted: ScalePhase
  /** The same data set in the peers' emulations (composite key + timestamp), same reads. */
  peers: { name: string; loadSeconds: number; diskBytes: number; phase: ScalePhase }[]
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

/** The section's lines, markers included. */
export function scaleSection(): string[] {
  const out = [BEGIN, '', '### Persistent layer at scale: 1,000,000 keys x 20 versions (issue #6)', '']
  if (!existsSync(SCALE_JSON)) {
    out.push('Not measured yet: `npm run bench:extents` measures it and writes this section.', '', END)
    return out
  }
  const r = JSON.parse(readFileSync(SCALE_JSON, 'utf8')) as ScaleResult
  const goalReads = 300_000
  out.push(
    `Measured ${r.date} with \`${r.command}\` on ${r.machine.cpu} (${r.machine.cores} cores, ${r.machine.ramGiB} GiB), ` +
      `load average ${r.loadAverage.start} at the start and ${r.loadAverage.end} at the end. ` +
      `${fmt(r.args.keys)} keys x ${r.args.versions} versions of 100-byte values, written round by round in batches of 2,000 ` +
      `with \`memtableBytes\` = ${r.args.memtableMiB} MiB; as-of reads pick a random key and a random time in the history ` +
      `(${fmt(r.args.reads)} reads per round, the median of 3 rounds after a warm-up round); the rectangle is 1% of the keys x 10% of the time.`,
    '',
    '| | chronokv | goal |',
    '| --- | ---: | --- |',
    `| load | ${r.load.seconds.toFixed(0)} s (${fmt(r.load.versionsPerSecond)} versions/s), ${r.load.extents} extents, ${fmt(r.load.blocks)} blocks, ${gib(r.load.diskBytes)} on disk | |`,
    `| peak RSS during the load | ${fmt(r.load.peakRssMiB)} MiB | < 1,024 MiB: ${r.load.peakRssMiB < 1024 ? 'met' : '**not met**'} |`,
    `| as-of point reads, \`db.get(key, { at })\`, as flushed | ${fmt(r.flushed.asOfReadsPerSecond)}/s | >= 300,000/s: ${r.flushed.asOfReadsPerSecond >= goalReads ? 'met' : '**not met**'} |`,
    `| as-of point reads after \`compact()\` | ${fmt(r.compacted.asOfReadsPerSecond)}/s | >= 300,000/s: ${r.compacted.asOfReadsPerSecond >= goalReads ? 'met' : '**not met**'} |`,
  )
  if (r.flushed.asOfGetManyPerSecond !== undefined && r.compacted.asOfGetManyPerSecond !== undefined) {
    out.push(`| as-of reads through \`getMany\` (100 keys per call), flushed / compacted | ${fmt(r.flushed.asOfGetManyPerSecond)}/s / ${fmt(r.compacted.asOfGetManyPerSecond)}/s | |`)
  }
  const rect = (p: ScalePhase) =>
    `${fmt(p.rectangle.versions)} versions in ${p.rectangle.ms.toFixed(1)} ms, ${fmt(p.rectangle.blocksRead ?? 0)} of ${fmt(p.rectangle.blocks ?? 0)} blocks read (${(((p.rectangle.blocksRead ?? 0) / Math.max(1, p.rectangle.blocks ?? 1)) * 100).toFixed(2)}%)`
  out.push(`| rectangle, as flushed | ${rect(r.flushed)} | <= 5% of blocks: ${(r.flushed.rectangle.blocksRead ?? 0) <= 0.05 * (r.flushed.rectangle.blocks ?? 0) ? 'met' : '**not met**'} |`)
  out.push(`| rectangle after \`compact()\` | ${rect(r.compacted)} | |`)
  if (r.fullScan !== undefined) {
    const speedup = r.fullScan.ms / r.flushed.rectangle.ms
    out.push(`| the same rectangle as a full-scan filter (\`db.changes()\` over everything, filtered in JS) | ${(r.fullScan.ms / 1000).toFixed(1)} s: the rectangle is ${fmt(speedup)}x faster | >= 10x: ${speedup >= 10 ? 'met' : '**not met**'} |`)
  }
  out.push(`| compaction | ${r.compaction.seconds.toFixed(0)} s, ${r.compaction.extentsIn} -> ${r.compaction.extentsOut} extents, ${gib(r.compaction.diskBytes)} on disk after | |`)
  if (r.peers.length > 0) {
    out.push(
      '',
      'The same data set and the same reads in the peers\' emulations (the T1 and T4 emulations above: a composite key of user key + timestamp), in the same process after chronokv:',
      '',
      '| store | load | on disk | as-of reads/s | chronokv (flushed / compacted) vs store | rectangle |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const p of r.peers) {
      out.push(
        `| ${p.name} | ${p.loadSeconds.toFixed(0)} s | ${gib(p.diskBytes)} | ${fmt(p.phase.asOfReadsPerSecond)} | ${ratio(r.flushed.asOfReadsPerSecond, p.phase.asOfReadsPerSecond)} / ${ratio(r.compacted.asOfReadsPerSecond, p.phase.asOfReadsPerSecond)} | ${p.phase.rectangle.ms.toFixed(1)} ms (chronokv ${ratio(p.phase.rectangle.ms, r.flushed.rectangle.ms)} faster) |`,
      )
    }
  }
  out.push('', END)
  return out
}

/** Replaces the section in a results file (or inserts it before the footprint section). */
export function refreshScaleSection(file: string): void {
  if (!existsSync(file)) return
  const text = readFileSync(file, 'utf8')
  const section = scaleSection().join('\n')
  const begin = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  let next: string
  if (begin >= 0 && end > begin) {
    next = text.slice(0, begin) + section + text.slice(end + END.length)
  } else {
    const at = text.indexOf('## Footprint')
    next = at >= 0 ? `${text.slice(0, at)}${section}\n\n${text.slice(at)}` : `${text}\n${section}\n`
  }
  writeFileSync(file, next)
}

export function writeScaleResult(result: ScaleResult): void {
  writeFileSync(SCALE_JSON, `${JSON.stringify(result, null, 2)}\n`)
  for (const name of ['RESULTS.md', 'RESULTS-full.md']) refreshScaleSection(join(BENCHES_DIR, name))
}
