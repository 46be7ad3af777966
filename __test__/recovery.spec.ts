import test from 'ava'
import type { ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'

import { open } from '../ts/index'
import { loadNative } from '../ts/native'
import { ACCOUNTS, TOTAL, acctKey, parseWriterOutput, writeKeys, type Write } from './helpers/crash'
import { plainVersions } from './helpers/plain'
import { Rng, announceSeed, chooseSeed } from './helpers/prng'
import { tempDbPath } from './helpers/tmp'

// The writer is plain JavaScript on the compiled facade (dist/), so a cycle does not pay for a
// TypeScript loader. `npm install` (prepare) and `npm run build` build dist/.
const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.js')
const DIST = path.join(__dirname, '..', 'dist', 'index.js')
/** SIGKILL cycles: 200 in `npm test`; `npm run test:crash` sets CHRONOKV_CRASH_CYCLES=1000. */
const CYCLES = Number(process.env.CHRONOKV_CRASH_CYCLES ?? 200)
const CYCLE_DEADLINE_MS = 30_000
/** Every this many cycles (and after the last), every key's whole history is checked. */
const FULL_CHECK_EVERY = 50

type Db = Awaited<ReturnType<typeof open<string, unknown>>>

interface Writer {
  child: ChildProcess
  readonly stderr: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /**
   * Resolves once the writer has logged `acks` acks (or exited, with `orExit`); rejects if it
   * exits first or the deadline passes.
   */
  untilAcks(acks: number, what: string, orExit?: boolean): Promise<void>
  /** Everything the writer logged (complete lines only). */
  readLog(): string[]
}

/**
 * Starts a writer that will issue at most `limit` writes; it loads the facade and waits for `go`
 * on stdin before opening `dir`. With `crashAt` (`<point>:<n>`), the engine kills the writer
 * itself the n-th time it reaches that crash point. It appends what it does to `log` (see fixtures/crash-writer.js),
 * which is also how the parent follows its progress: a file, unlike a pipe, loses nothing to
 * SIGKILL and is never behind.
 */
function startWriter(t: ExecutionContext, dir: string, seed: number, log: string, limit: number, crashAt?: string): Writer {
  fs.writeFileSync(log, '')
  const env = { ...process.env }
  delete env.CHRONOKV_CRASH_AT
  if (crashAt !== undefined) env.CHRONOKV_CRASH_AT = crashAt
  const child = spawn(process.execPath, [WRITER, dir, String(seed), log, String(limit)], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env,
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stdin!.on('error', () => {}) // a killed child closes its end
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  const readLog = () => {
    const text = fs.readFileSync(log, 'utf8')
    // A line cut short by the kill is dropped (its write was never called).
    return text.split('\n').slice(0, -1)
  }
  return {
    child,
    get stderr() {
      return stderr
    },
    exited,
    readLog,
    untilAcks(acks, what, orExit = false) {
      const fd = fs.openSync(log, 'r')
      const chunk = Buffer.alloc(64 * 1024)
      let offset = 0
      let seen = 0
      let partial = ''
      const deadline = Date.now() + CYCLE_DEADLINE_MS
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearInterval(timer)
          fs.closeSync(fd)
          if (err) reject(err)
          else resolve()
        }
        const poll = () => {
          for (;;) {
            const n = fs.readSync(fd, chunk, 0, chunk.length, offset)
            if (n === 0) break
            offset += n
            const lines = (partial + chunk.toString('utf8', 0, n)).split('\n')
            partial = lines.pop()!
            for (const line of lines) if (line.startsWith('ack ')) seen++
          }
          if (seen >= acks) done()
          else if (orExit && child.signalCode !== null) done()
          else if (child.exitCode !== null || child.signalCode !== null) {
            done(new Error(`the writer exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr:\n${stderr}`))
          } else if (Date.now() > deadline) done(new Error(`timed out waiting for ${what}; stderr:\n${stderr}`))
        }
        const timer = setInterval(poll, 2)
        poll()
      })
    },
  }
}

/**
 * Closing a database releases its native handle, but the engine behind it (its in-memory table)
 * is freed only when the handle is garbage-collected, which V8 does not hurry for native memory.
 * A thousand reopen cycles of a growing database would pile up gigabytes, so collect now.
 */
const collectGarbage: () => Promise<void> = (() => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  return async () => {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
})()

/** What the parent knows across cycles: the expected versions of every key, oldest first. */
interface Model {
  versions: Map<string, Array<{ ts: number; value: unknown }>>
  count: number
  /** The watermark after the previous cycle (its probe write included). */
  now: number
}

function addVersion(model: Model, key: string, ts: number, value: unknown): void {
  const list = model.versions.get(key) ?? []
  list.push({ ts, value })
  model.versions.set(key, list)
  model.count++
}

/**
 * Checks one writer's effect on the reopened database: exactly a gap-free prefix of its writes
 * (in issue = commit order) is there, each whole, every acknowledged write among them, nothing
 * else. Adds what is there to the model. Returns problems found.
 */
function checkCycle(db: Db, model: Model, writes: readonly Write[]): string[] {
  const problems: string[] = []
  // The writes touching each key, in issue order.
  const perKey = new Map<string, Array<{ write: Write; value: unknown }>>()
  for (const write of writes) {
    for (const [key, value] of writeKeys(write.write)) {
      const list = perKey.get(key) ?? []
      list.push({ write, value })
      perKey.set(key, list)
    }
  }
  // Each key's versions since the last cycle must be the first few of its writes, in order.
  const present = new Map<number, { keys: number; ts: Set<number> }>()
  for (const [key, expected] of perKey) {
    const found = plainVersions(db.history(key, { since: model.now + 1 }))
    if (found.length > expected.length) {
      const old = found.filter((v) => v.ts <= model.now).length
      problems.push(
        `${key} has ${found.length} versions since ${model.now + 1} (${old} of them older), but only ${expected.length} writes touched it; ` +
          `the first: ${JSON.stringify(found.slice(0, 3).map((v) => ({ ts: v.ts, w: (v.value as { w?: string; batch?: string } | undefined)?.w ?? (v.value as { batch?: string } | undefined)?.batch })))}; ` +
          `the model knows ${model.versions.get(key)?.length ?? 0} older versions`,
      )
      continue
    }
    found.forEach((v, i) => {
      const { write, value } = expected[i]!
      const ok = value === undefined ? v.deleted : !v.deleted && isDeepStrictEqual(v.value, value)
      if (!ok) problems.push(`${key} version ${i} (ts ${v.ts}) is ${JSON.stringify(v)}, expected write ${write.n}: ${JSON.stringify(write.write)}`)
      const p = present.get(write.n) ?? { keys: 0, ts: new Set<number>() }
      p.keys++
      p.ts.add(v.ts)
      present.set(write.n, p)
    })
  }
  // Whole writes only, a prefix of issue order, increasing timestamps, every ack included.
  let lastTs = model.now
  let firstAbsent: number | undefined
  for (const write of writes) {
    const keys = writeKeys(write.write).length
    const p = present.get(write.n)
    if (!p) {
      firstAbsent ??= write.n
      if (write.ackTs !== undefined) problems.push(`acknowledged write ${write.n} (ts ${write.ackTs}) is missing: ${JSON.stringify(write.write)}`)
      continue
    }
    if (p.keys !== keys) problems.push(`write ${write.n} is partially visible: ${p.keys} of ${keys} keys: ${JSON.stringify(write.write)}`)
    if (firstAbsent !== undefined) problems.push(`write ${write.n} is there but the earlier write ${firstAbsent} is not (a gap in commit order)`)
    if (p.ts.size !== 1) problems.push(`write ${write.n} has keys with different timestamps: ${[...p.ts].join(', ')}`)
    const ts = [...p.ts][0]!
    if (!(ts > lastTs)) problems.push(`write ${write.n} has ts ${ts}, not above the previous ${lastTs}`)
    if (write.ackTs !== undefined && write.ackTs !== ts) problems.push(`write ${write.n} was acknowledged with ts ${write.ackTs} but has ts ${ts}`)
    lastTs = ts
    for (const [key, value] of writeKeys(write.write)) addVersion(model, key, ts, value)
  }
  if (db.now() !== lastTs) problems.push(`now() is ${db.now()}, but the last write recovered has ts ${lastTs}`)
  // Nothing else changed: the number of versions is what the model says.
  const versions = db.stats().versions
  if (versions !== model.count) problems.push(`the database holds ${versions} versions, the model ${model.count}`)
  // The accounts sum to TOTAL at every version of this cycle, and now.
  const accountKeys = Array.from({ length: ACCOUNTS }, (_, i) => acctKey(i))
  const versionTs = new Set<number>([db.now()])
  for (const key of accountKeys) for (const v of db.history(key, { since: model.now + 1 })) versionTs.add(v.ts)
  for (const ts of versionTs) {
    const values = db.getMany(accountKeys, { at: ts }) as Array<{ bal: number } | undefined>
    if (values.every((v) => v === undefined)) continue
    const sum = values.reduce((s, v) => s + (v ? v.bal : NaN), 0)
    if (sum !== TOTAL) problems.push(`accounts at ${ts} sum to ${sum} (${JSON.stringify(values)}), not ${TOTAL}`)
  }
  return problems
}

/** Every key's whole history against the model. */
function checkAll(db: Db, model: Model): string[] {
  const problems: string[] = []
  for (const [key, expected] of model.versions) {
    const found = plainVersions(db.history(key)).map((v) => ({ ts: v.ts, value: v.deleted ? undefined : v.value }))
    if (!isDeepStrictEqual(found, expected)) {
      problems.push(`${key}: history ${JSON.stringify(found).slice(0, 300)} differs from ${JSON.stringify(expected).slice(0, 300)}`)
    }
  }
  return problems
}

test('after SIGKILL at random moments, the database reopens with a gap-free prefix of the commits, every acknowledged one included and no batch in part', async (t) => {
  t.timeout(Math.max(3 * 60_000, CYCLES * 3_000))
  if (!fs.existsSync(DIST)) {
    t.fail(`${DIST} is missing: run \`npm run build\` (npm install does it too)`)
    return
  }
  const seed = chooseSeed()
  announceSeed(t, seed)
  const rng = new Rng(seed)
  const dir = tempDbPath(t)
  const logDir = path.join(path.dirname(dir), 'writers')
  fs.mkdirSync(logDir)
  const logOf = (cycle: number) => path.join(logDir, `${cycle}.log`)
  const model: Model = { versions: new Map(), count: 0, now: 0 }
  let acksTotal = 0
  let writesTotal = 0
  let killedEarly = 0
  let cyclesWithoutAcks = 0
  let checkMs = 0
  const started = Date.now()
  const childSeed = (cycle: number) => (seed + Math.imul(cycle + 1, 0x9e3779b1)) >>> 0
  const crashPoints = loadNative().crashPoints()
  const aimedAt = new Map<string, number>()
  let aimedHits = 0

  // Each cycle's plan is drawn before its writer starts: the writer needs its write limit.
  // 45% of the writers are aimed at a crash point inside a flush, a manifest switch or a
  // compaction: the engine kills the writer there (if the writer gets that far).
  const planCycle = () => {
    if (rng.chance(0.45)) {
      const point = crashPoints[rng.between(0, crashPoints.length - 1)]!
      const crashAt = `${point}:${rng.between(1, 3)}`
      return { early: false, acks: Infinity, delay: 0, limit: rng.between(30, 200), crashAt }
    }
    if (rng.chance(0.25)) return { early: true, acks: 0, delay: rng.between(0, 60), limit: rng.between(1, 150), crashAt: undefined }
    const acks = rng.chance(0.5) ? rng.between(1, 8) : rng.between(9, 80)
    return { early: false, acks, delay: rng.between(0, 15), limit: acks + rng.between(0, 40), crashAt: undefined }
  }
  let plan = planCycle()
  let next = startWriter(t, dir, childSeed(0), logOf(0), plan.limit, plan.crashAt)
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const writer = next
    writer.child.stdin!.write('go\n')
    if (plan.crashAt !== undefined) {
      // Until the engine kills the writer at the point, or it has done all its writes.
      await writer.untilAcks(plan.limit, `the crash point ${plan.crashAt} in cycle ${cycle}`, true)
    } else if (!plan.early) {
      await writer.untilAcks(plan.acks, `${plan.acks} acks in cycle ${cycle}`)
    }
    // early: possibly while it is still opening (recovering) the database
    await new Promise((resolve) => setTimeout(resolve, plan.delay))
    const crashedAtPoint = writer.child.signalCode === 'SIGKILL'
    if (plan.crashAt !== undefined) {
      const point = plan.crashAt.slice(0, plan.crashAt.lastIndexOf(':'))
      aimedAt.set(point, (aimedAt.get(point) ?? 0) + (crashedAtPoint ? 1 : 0))
      if (crashedAtPoint) {
        aimedHits++
        if (!writer.stderr.includes('crash point')) {
          t.fail(`cycle ${cycle}: the writer died by SIGKILL without reaching ${plan.crashAt}: ${writer.stderr}`)
          return
        }
      }
    }
    if (writer.child.exitCode !== null) {
      t.fail(`cycle ${cycle}: the writer exited by itself (${writer.child.exitCode}): ${writer.stderr}`)
      return
    }
    if (!crashedAtPoint) writer.child.kill('SIGKILL')
    const { signal, code } = await writer.exited
    if (signal !== 'SIGKILL') {
      t.fail(`cycle ${cycle}: the writer ended with code ${code} / ${signal} before the kill:\n${writer.stderr}`)
      return
    }
    // The next writer loads while this cycle is checked.
    const thisPlan = plan
    if (cycle + 1 < CYCLES) {
      plan = planCycle()
      next = startWriter(t, dir, childSeed(cycle + 1), logOf(cycle + 1), plan.limit, plan.crashAt)
    }

    const checkStarted = Date.now()
    const what = `cycle ${cycle} (${JSON.stringify(thisPlan)}, child seed ${childSeed(cycle)})`
    let writes: Write[]
    try {
      writes = parseWriterOutput(writer.readLog())
      fs.rmSync(logOf(cycle), { force: true })
    } catch (err) {
      t.fail(`${what}: ${String(err)}`)
      return
    }
    const acks = writes.filter((w) => w.ackTs !== undefined).length
    acksTotal += acks
    writesTotal += writes.length
    if (thisPlan.early) killedEarly++
    if (acks === 0) cyclesWithoutAcks++

    let db: Db
    try {
      db = await open<string, unknown>(dir, { durability: 'sync' })
    } catch (err) {
      t.fail(`${what}: reopening after the kill failed: ${String((err as Error).stack ?? err)}`)
      return
    }
    try {
      const problems = checkCycle(db, model, writes)
      if ((cycle + 1) % FULL_CHECK_EVERY === 0 || cycle + 1 === CYCLES) problems.push(...checkAll(db, model))
      if (problems.length > 0) {
        t.fail(`${what}, ${writes.length} writes, ${acks} acks: ${problems.length} problems:\n  ${problems.slice(0, 10).join('\n  ')}`)
        return
      }
      // Timestamps continue above everything recovered.
      const before = db.now()
      const probeTs = await db.put('probe', { cycle })
      if (!(probeTs > before)) t.fail(`${what}: a write after recovery got ts ${probeTs}, not above ${before}`)
      addVersion(model, 'probe', probeTs, { cycle })
      model.now = probeTs
    } finally {
      await db.close()
    }
    await collectGarbage()
    checkMs += Date.now() - checkStarted
  }

  const took = Date.now() - started
  t.log(
    `${CYCLES} cycles in ${took} ms (${Math.round(took / CYCLES)} ms each, ${Math.round(checkMs / CYCLES)} ms of it reopening and checking): ` +
      `${writesTotal} writes issued, ${acksTotal} acknowledged, ${killedEarly} kills within 60 ms of go, ${cyclesWithoutAcks} cycles without acks; ` +
      `${aimedHits} kills (${Math.round((100 * aimedHits) / CYCLES)}%) by the engine at a crash point: ${JSON.stringify(Object.fromEntries(aimedAt))}`,
  )
  t.true(aimedHits >= 0.3 * CYCLES, `only ${aimedHits} of ${CYCLES} kills were aimed at flush, manifest and compaction crash points`)
  t.true(acksTotal > CYCLES, 'the writers acknowledged too few writes for the test to mean much')
})
