import test from 'ava'
import type { ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'

import { open } from '../ts/index'
import { ACCOUNTS, TOTAL, acctKey, type Ack, type AckedWrite } from './helpers/crash'
import { plainVersions } from './helpers/plain'
import { Rng, announceSeed, chooseSeed } from './helpers/prng'
import { tempDbPath } from './helpers/tmp'

const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.ts')
const CYCLES = Number(process.env.CHRONOKV_CRASH_CYCLES ?? 20)
const CYCLE_DEADLINE_MS = 30_000

type Db = Awaited<ReturnType<typeof open<string, unknown>>>

interface Run {
  child: ChildProcess
  lines: string[]
  stderr: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves once `predicate(lines)` holds, or rejects if the child exits first / the deadline passes. */
  until(predicate: (lines: string[]) => boolean, what: string): Promise<void>
}

function startWriter(t: ExecutionContext, dir: string, seed: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk
    const parts = partial.split('\n')
    partial = parts.pop()!
    lines.push(...parts)
    for (const w of waiters) w()
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal })
      for (const w of waiters) w()
    })
  })
  const run: Run = {
    child,
    lines,
    get stderr() {
      return stderr
    },
    exited,
    until(predicate, what) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out waiting for ${what}; stderr:\n${stderr}`))
        }, CYCLE_DEADLINE_MS)
        const check = () => {
          if (predicate(lines)) {
            clearTimeout(timer)
            waiters.delete(check)
            resolve()
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer)
            waiters.delete(check)
            reject(new Error(`the writer exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr:\n${stderr}`))
          }
        }
        waiters.add(check)
        check()
      })
    },
  }
  return run
}

function parseAcks(lines: string[], cycle: number): Ack[] {
  const acks: Ack[] = []
  for (const line of lines) {
    const m = /^ack (\d+) (.*)$/.exec(line)
    if (m) acks.push({ ts: Number(m[1]), write: JSON.parse(m[2]!) as AckedWrite, cycle })
  }
  return acks
}

const countAcks = (lines: string[]) => lines.filter((l) => l.startsWith('ack ')).length

/** Everything recovery must guarantee, checked on the reopened database. Returns problems found. */
function checkRecovered(db: Db, acks: readonly Ack[]): string[] {
  const problems: string[] = []
  const expectEq = (actual: unknown, expected: unknown, what: string) => {
    if (!isDeepStrictEqual(actual, expected)) {
      problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
    }
  }
  const versionAt = (key: string, ts: number) => plainVersions(db.history(key, { since: ts, until: ts + 1 }))

  // 1. every acknowledged write is there, with its timestamp
  for (const { ts, write, cycle } of acks) {
    const where = `cycle ${cycle}, ${write.kind} acked at ${ts}`
    switch (write.kind) {
      case 'put':
        expectEq(versionAt(write.key, ts), [{ key: write.key, ts, deleted: false, value: write.value }], `${where} (${write.key})`)
        break
      case 'del':
        expectEq(versionAt(write.key, ts), [{ key: write.key, ts, deleted: true }], `${where} (${write.key})`)
        break
      case 'batch':
        for (let j = 0; j < write.k; j++) {
          const key = `b:${write.id}:${j}`
          expectEq(db.getEntry(key, { at: ts }), { key, ts, value: { batch: write.id, j, k: write.k } }, `${where} (${key})`)
        }
        break
      case 'transfer':
        for (const [key, value] of Object.entries(write.set)) {
          expectEq(versionAt(key, ts), [{ key, ts, deleted: false, value }], `${where} (${key})`)
        }
        break
      case 'init':
        for (let i = 0; i < ACCOUNTS; i++) {
          expectEq(versionAt(acctKey(i), ts), [{ key: acctKey(i), ts, deleted: false, value: write.each }], `${where} (${acctKey(i)})`)
        }
        break
    }
  }

  // 2. no batch is partially visible (acknowledged or not): every b:<id>:* group is whole
  const groups = new Map<string, { k: number; js: Set<number>; ts: Set<number> }>()
  for (const { key, value, ts } of db.getRange({ gte: 'b:', lt: 'b;' })) {
    const v = value as { batch: string; j: number; k: number }
    const id = key.split(':')[1] ?? ''
    if (v.batch !== id || `b:${id}:${v.j}` !== key) problems.push(`batch key ${key} holds ${JSON.stringify(v)}`)
    const g = groups.get(id) ?? { k: v.k, js: new Set<number>(), ts: new Set<number>() }
    g.js.add(v.j)
    g.ts.add(ts)
    groups.set(id, g)
  }
  for (const [id, g] of groups) {
    if (g.js.size !== g.k) problems.push(`batch ${id} is partially visible: ${g.js.size} of ${g.k} keys (${[...g.js].join(',')})`)
    if (g.ts.size !== 1) problems.push(`batch ${id} has keys with different timestamps: ${[...g.ts].join(',')}`)
  }

  // 3. the accounts are all there or all absent, and sum to TOTAL at every version ever committed
  const accountKeys = Array.from({ length: ACCOUNTS }, (_, i) => acctKey(i))
  const now = db.getMany(accountKeys)
  if (!now.every((v) => v === undefined)) {
    const sum = now.reduce((s: number, v) => s + (typeof v === 'number' ? v : NaN), 0)
    if (sum !== TOTAL) problems.push(`accounts sum to ${sum} (${JSON.stringify(now)}), not ${TOTAL}`)
  }
  const versionTs = new Set<number>()
  for (const key of accountKeys) for (const v of db.history(key)) versionTs.add(v.ts)
  for (const ts of versionTs) {
    const values = db.getMany(accountKeys, { at: ts })
    const sum = values.reduce((s: number, v) => s + (typeof v === 'number' ? v : NaN), 0)
    if (sum !== TOTAL) problems.push(`accounts at ${ts} sum to ${sum} (${JSON.stringify(values)}), not ${TOTAL}`)
  }
  return problems
}

test('recovers every acknowledged write after SIGKILL, and never shows half a batch', async (t) => {
  // ~1.5 s per cycle; with a large CHRONOKV_CRASH_CYCLES also raise ava's own --timeout
  t.timeout(Math.max(5 * 60_000, CYCLES * 5_000))
  const seed = chooseSeed()
  announceSeed(t, seed)
  const rng = new Rng(seed)
  const dir = tempDbPath(t)
  const allAcks: Ack[] = []
  let maxTs = 0 // the highest timestamp any process has seen resolve
  let cyclesWithoutAcks = 0
  const started = Date.now()

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const childSeed = (seed + Math.imul(cycle + 1, 0x9e3779b1)) >>> 0
    const run = startWriter(t, dir, childSeed)
    let plan: string
    if (rng.chance(0.15)) {
      // kill at an arbitrary moment, possibly while it is still starting or recovering
      const delay = rng.between(0, 1200)
      plan = `kill ${delay} ms after spawn`
      await new Promise((resolve) => setTimeout(resolve, delay))
      if (run.child.exitCode !== null) t.fail(`cycle ${cycle}: the writer exited by itself: ${run.stderr}`)
    } else {
      const minAcks = rng.between(1, 6)
      const delay = rng.between(20, 300)
      plan = `kill ${delay} ms after ${minAcks} acks`
      await run.until((lines) => countAcks(lines) >= minAcks, `${minAcks} acks in cycle ${cycle}`)
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
    run.child.kill('SIGKILL')
    const { signal, code } = await run.exited
    if (signal !== 'SIGKILL') t.fail(`cycle ${cycle}: the writer ended with code ${code} / ${signal} before the kill:\n${run.stderr}`)

    const acks = parseAcks(run.lines, cycle)
    if (acks.length === 0) cyclesWithoutAcks++
    // timestamps: distinct, and above everything resolved before this process started
    const tsOfCycle = acks.map((a) => a.ts)
    if (new Set(tsOfCycle).size !== tsOfCycle.length) t.fail(`cycle ${cycle}: two acknowledged writes share a timestamp`)
    for (const a of acks) {
      if (!(a.ts > maxTs)) t.fail(`cycle ${cycle}: acknowledged ts ${a.ts} is not above ${maxTs}, the highest from earlier processes`)
    }
    allAcks.push(...acks)
    maxTs = Math.max(maxTs, ...tsOfCycle)

    let db: Db
    try {
      db = await open<string, unknown>(dir, { durability: 'sync' })
    } catch (err) {
      t.fail(`cycle ${cycle} (${plan}, seed ${childSeed}): reopening after the kill failed: ${String((err as Error).stack ?? err)}`)
      return
    }
    try {
      if (db.now() < maxTs) t.fail(`cycle ${cycle}: now() ${db.now()} after recovery is below acknowledged ts ${maxTs}`)
      const problems = checkRecovered(db, allAcks)
      if (problems.length > 0) {
        t.fail(`cycle ${cycle} (${plan}, child seed ${childSeed}, ${acks.length} acks): ${problems.length} problems:\n  ${problems.slice(0, 10).join('\n  ')}`)
        return
      }
      const probeTs = await db.put('probe', { cycle })
      if (!(probeTs > maxTs)) t.fail(`cycle ${cycle}: a write after recovery got ts ${probeTs}, not above acknowledged ${maxTs}`)
      maxTs = Math.max(maxTs, probeTs)
    } finally {
      await db.close()
    }
  }

  t.log(`${CYCLES} cycles, ${allAcks.length} acknowledged writes, ${cyclesWithoutAcks} cycles killed before any ack, ${Date.now() - started} ms`)
  t.true(allAcks.length > CYCLES, 'the writer acknowledged too few writes for the test to mean much')
})
