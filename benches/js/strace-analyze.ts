/**
 * The analysis side of benches/strace-fsync.sh: reads an `strace -f -ttt -T -y` log of
 * strace-probe.ts and reports, for one store and workload, how many sync calls (fsync, fdatasync,
 * msync, sync_file_range, syncfs, sync) touched the store's files, and how many acknowledged
 * writes had a sync of those files START after the write was issued and FINISH before its promise
 * resolved, which is what "durable when the promise resolves" requires.
 *
 * Run: node --import tsx benches/js/strace-analyze.ts <log> <store-dir> <store> <workload> [--json=out.json]
 */

import { readFileSync, writeFileSync } from 'node:fs'

export interface StraceReport {
  store: string
  workload: string
  acked: number
  syncs: Record<string, number>
  totalSyncs: number
  syncsPerAck: number
  /** Acks with a sync of the store's files that started after the write was issued and ended before the ack. */
  covered: number
}

const SYNC_CALLS = ['fsync', 'fdatasync', 'msync', 'sync_file_range', 'syncfs', 'sync']

export function analyze(log: string, dir: string, store: string, workload: string): StraceReport {
  const issued = new Map<number, number>()
  const acked = new Map<number, number>()
  const syncs: Array<{ call: string; start: number; end: number }> = []
  const pendingStart = new Map<string, { call: string; start: number; mine: boolean }>()
  const counts: Record<string, number> = {}
  for (const line of log.split('\n')) {
    const m = /^(?:\[pid\s+)?(\d+)\]?\s+(\d+\.\d+)\s+(.*)$/.exec(line)
    if (m === null) continue
    const pid = m[1] as string
    const ts = Number(m[2])
    const rest = m[3] as string
    const marker = /^write\(\d+<\/dev\/null(?:<char [^>]*>)?>, "([PA])(\d+)"/.exec(rest)
    if (marker !== null) {
      ;(marker[1] === 'P' ? issued : acked).set(Number(marker[2]), ts)
      continue
    }
    const resumed = /^<\.\.\. (\w+) resumed>.*<(\d+\.\d+)>\s*$/.exec(rest)
    if (resumed !== null) {
      const started = pendingStart.get(`${pid}:${resumed[1]}`)
      if (started !== undefined) {
        pendingStart.delete(`${pid}:${resumed[1]}`)
        if (started.mine) syncs.push({ call: started.call, start: started.start, end: ts })
      }
      continue
    }
    const call = /^(\w+)\((.*)$/.exec(rest)
    if (call === null || !SYNC_CALLS.includes(call[1] as string)) continue
    const name = call[1] as string
    // msync's first argument is an address; count it when the process has the store open (lmdb maps it).
    const mine = name === 'msync' || name === 'sync' || (call[2] as string).includes(dir)
    if (!mine) continue
    counts[name] = (counts[name] ?? 0) + 1
    if (rest.includes('<unfinished ...>')) {
      pendingStart.set(`${pid}:${name}`, { call: name, start: ts, mine })
    } else {
      const dur = /<(\d+\.\d+)>\s*$/.exec(rest)
      syncs.push({ call: name, start: ts, end: ts + (dur === null ? 0 : Number(dur[1])) })
    }
  }
  syncs.sort((a, b) => a.start - b.start)
  let covered = 0
  for (const [i, ack] of acked) {
    const sent = issued.get(i)
    if (sent === undefined) continue
    if (syncs.some((s) => s.start > sent && s.end <= ack)) covered++
  }
  const totalSyncs = Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    store,
    workload,
    acked: acked.size,
    syncs: counts,
    totalSyncs,
    syncsPerAck: acked.size === 0 ? 0 : totalSyncs / acked.size,
    covered,
  }
}

if (require.main === module) {
  const [logPath, dir, store, workload, jsonArg] = process.argv.slice(2)
  if (logPath === undefined || dir === undefined || store === undefined || workload === undefined) {
    console.error('usage: strace-analyze.ts <log> <store-dir> <store> <workload> [--json=out.json]')
    process.exit(2)
  }
  const report = analyze(readFileSync(logPath, 'utf8'), dir, store, workload)
  const calls = Object.entries(report.syncs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
  console.log(
    `${store.padEnd(15)} ${workload}  acked ${String(report.acked).padStart(6)}  syncs ${String(report.totalSyncs).padStart(6)} (${calls})  ` +
      `syncs/ack ${report.syncsPerAck.toFixed(3)}  acks after a completed sync ${report.covered}/${report.acked}`,
  )
  if (jsonArg?.startsWith('--json=')) writeFileSync(jsonArg.slice(7), JSON.stringify(report))
}
