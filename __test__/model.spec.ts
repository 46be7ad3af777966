import test from 'ava'
import type { ExecutionContext } from 'ava'
import { isDeepStrictEqual } from 'node:util'

import { open } from '../ts/index'
import { VersionModel, type HistoryBounds, type RangeBounds } from './helpers/model'
import { plainEntries, plainVersions } from './helpers/plain'
import { Rng, announceSeed, chooseSeed } from './helpers/prng'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

const KEY_COUNT = 500
const OPERATIONS = Number(process.env.CHRONOKV_MODEL_OPS ?? 10_000)
const POINT_READS = 2_000

type Db = Awaited<ReturnType<typeof open<string, unknown>>>

const keyName = (i: number) => `key:${String(i).padStart(4, '0')}`

function randomValue(rng: Rng, op: number): unknown {
  switch (rng.int(6)) {
    case 0:
      return op
    case 1:
      return rng.string(12)
    case 2:
      return { op, s: rng.string(8), n: rng.int(1000) / 8 }
    case 3:
      return [op, rng.string(3), rng.chance(0.5)]
    case 4:
      return rng.chance(0.5) ? null : rng.chance(0.5)
    default:
      return { op, nested: { list: Array.from({ length: rng.int(5) }, () => rng.int(100)) } }
  }
}

/** Collects mismatches instead of failing on the first, so a failure shows a few examples. */
class Mismatches {
  readonly list: string[] = []
  checks = 0

  expect(actual: unknown, expected: unknown, what: () => string): void {
    this.checks++
    if (!isDeepStrictEqual(actual, expected)) {
      this.list.push(`${what()}\n    expected ${show(expected)}\n    actual   ${show(actual)}`)
    }
  }

  report(t: ExecutionContext, phase: string): void {
    t.log(`${phase}: ${this.checks} checks, ${this.list.length} mismatches`)
    if (this.list.length > 0) {
      t.fail(`${phase}: ${this.list.length} of ${this.checks} checks disagree with the model; first ones:\n  ${this.list.slice(0, 8).join('\n  ')}`)
    }
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (v === undefined ? '<undefined>' : v))
  return text === undefined ? 'undefined' : text.length > 400 ? `${text.slice(0, 400)}…` : text
}

interface WriteLog {
  model: VersionModel<unknown>
  /** keys written at each commit timestamp */
  byTs: Map<number, string[]>
  firstTs: number
  lastTs: number
  commits: number
}

/** Issues `count` operations in groups of up to 16 concurrent writes, recording them in `log`. */
async function writeRandomly(t: ExecutionContext, db: Db, rng: Rng, log: WriteLog, count: number): Promise<void> {
  const problems = new Mismatches()
  let op = 0
  while (op < count) {
    const groupSize = rng.between(1, 16)
    const pending: Promise<{ ts: number; keys: string[] }>[] = []
    for (let g = 0; g < groupSize && op < count; g++) {
      const r = rng.next()
      if (r < 0.6) {
        const key = keyName(rng.int(KEY_COUNT))
        const value = randomValue(rng, op)
        pending.push(
          db.put(key, value).then((ts) => {
            log.model.put(key, ts, value)
            return { ts, keys: [key] }
          }),
        )
        op++
      } else if (r < 0.75) {
        const key = keyName(rng.int(KEY_COUNT))
        pending.push(
          db.delete(key).then((ts) => {
            log.model.delete(key, ts)
            return { ts, keys: [key] }
          }),
        )
        op++
      } else {
        const size = rng.between(1, 8)
        const keys = new Set<string>()
        while (keys.size < size) keys.add(keyName(rng.int(KEY_COUNT)))
        const ops = [...keys].map((key) =>
          rng.chance(0.75)
            ? { type: 'put' as const, key, value: randomValue(rng, op) }
            : { type: 'del' as const, key },
        )
        pending.push(
          db.batch(ops).then((ts) => {
            for (const o of ops) {
              if (o.type === 'put') log.model.put(o.key, ts, o.value)
              else log.model.delete(o.key, ts)
            }
            return { ts, keys: [...keys] }
          }),
        )
        op += size
      }
    }
    const results = await Promise.all(pending)
    const groupTs = results.map((r) => r.ts)
    const min = Math.min(...groupTs)
    if (new Set(groupTs).size !== groupTs.length) t.fail(`two commits of one group share a timestamp: ${groupTs.join(',')}`)
    if (!(min > log.lastTs)) t.fail(`commit ts ${min} is not after the previous group's ${log.lastTs}`)
    for (const { ts, keys } of results) {
      if (!Number.isSafeInteger(ts)) t.fail(`commit ts ${ts} is not a safe integer`)
      if (log.byTs.has(ts)) t.fail(`commit ts ${ts} was resolved twice`)
      log.byTs.set(ts, keys)
      log.commits++
      // every write is visible once its promise has resolved
      for (const key of keys) {
        problems.expect(db.getEntry(key) ?? undefined, withKey(key, log.model.entryAt(key, Number.MAX_SAFE_INTEGER)), () => `getEntry(${key}) right after the write at ${ts}`)
      }
    }
    if (log.firstTs === 0) log.firstTs = min
    log.lastTs = Math.max(log.lastTs, ...groupTs)
    const now = db.now()
    if (now < log.lastTs) t.fail(`now() ${now} < resolved ts ${log.lastTs}`)
  }
  problems.report(t, 'reads during writes')
}

function withKey(key: string, entry: { ts: number; value: unknown } | undefined) {
  return entry === undefined ? undefined : { key, value: entry.value, ts: entry.ts }
}

function randomTs(rng: Rng, log: WriteLog, commitTs: number[]): number {
  const r = rng.next()
  if (r < 0.4) return rng.between(log.firstTs - 3, log.lastTs + 3)
  const ts = rng.pick(commitTs)
  return r < 0.7 ? ts : ts - 1
}

/** Compares every kind of read against the model. */
function checkAgainstModel(t: ExecutionContext, db: Db, rng: Rng, log: WriteLog, phase: string): void {
  const { model } = log
  const commitTs = model.commitTimestamps()
  const bad = new Mismatches()
  const anyKey = () => keyName(rng.int(KEY_COUNT + 20)) // a few keys that were never written

  // point reads at random past timestamps
  for (let i = 0; i < POINT_READS; i++) {
    const key = anyKey()
    const at = randomTs(rng, log, commitTs)
    const expected = model.entryAt(key, at)
    bad.expect(db.get(key, { at }), expected?.value, () => `get(${key}, at ${at})`)
    bad.expect(db.has(key, { at }), expected !== undefined, () => `has(${key}, at ${at})`)
    bad.expect(db.getEntry(key, { at }) ?? undefined, withKey(key, expected), () => `getEntry(${key}, at ${at})`)
  }

  // reads at exact commit timestamps and just before them, of the keys written there
  for (let i = 0; i < 1_000; i++) {
    const ts = rng.pick(commitTs)
    for (const key of log.byTs.get(ts) ?? []) {
      for (const at of [ts, ts - 1]) {
        bad.expect(db.getEntry(key, { at }) ?? undefined, withKey(key, model.entryAt(key, at)), () => `getEntry(${key}, at ${at}) around its commit`)
      }
    }
  }

  // getMany
  for (let i = 0; i < 200; i++) {
    const keys = Array.from({ length: rng.between(1, 10) }, anyKey)
    const at = rng.chance(0.2) ? undefined : randomTs(rng, log, commitTs)
    const when = at ?? Number.MAX_SAFE_INTEGER
    bad.expect(
      at === undefined ? db.getMany(keys) : db.getMany(keys, { at }),
      keys.map((k) => model.entryAt(k, when)?.value),
      () => `getMany(${keys.join(',')}, at ${at})`,
    )
  }

  // latest values of every key
  for (let i = 0; i < KEY_COUNT + 20; i++) {
    const key = keyName(i)
    bad.expect(db.get(key), model.entryAt(key, Number.MAX_SAFE_INTEGER)?.value, () => `get(${key}) now`)
  }

  // history of random keys
  for (let i = 0; i < 400; i++) {
    const key = anyKey()
    const bounds: HistoryBounds = {}
    if (rng.chance(0.5)) bounds.since = randomTs(rng, log, commitTs)
    if (rng.chance(0.5)) bounds.until = randomTs(rng, log, commitTs)
    if (rng.chance(0.5)) bounds.reverse = true
    if (rng.chance(0.4)) bounds.limit = rng.between(1, 6)
    const expected = model.history(key, bounds).map((v) =>
      v.deleted ? { key, ts: v.ts, deleted: true } : { key, ts: v.ts, deleted: false, value: v.value },
    )
    bad.expect(plainVersions(db.history(key, bounds)), expected, () => `history(${key}, ${JSON.stringify(bounds)})`)
  }

  // ranges at random timestamps with random bounds
  const boundKey = () => {
    const r = rng.next()
    const base = keyName(rng.int(KEY_COUNT + 20))
    if (r < 0.6) return base
    if (r < 0.8) return `${base}~` // between two keys
    return base.slice(0, rng.between(4, 7)) // a prefix
  }
  for (let i = 0; i < 200; i++) {
    const bounds: RangeBounds = {}
    const lower = rng.int(3)
    if (lower === 1) bounds.gt = boundKey()
    if (lower === 2) bounds.gte = boundKey()
    const upper = rng.int(3)
    if (upper === 1) bounds.lt = boundKey()
    if (upper === 2) bounds.lte = boundKey()
    if (rng.chance(0.4)) bounds.reverse = true
    if (rng.chance(0.4)) bounds.limit = rng.between(1, 60)
    const at = rng.chance(0.2) ? undefined : randomTs(rng, log, commitTs)
    const expected = model.range(at ?? Number.MAX_SAFE_INTEGER, bounds)
    const actual = plainEntries(db.getRange(at === undefined ? bounds : { ...bounds, at }))
    bad.expect(actual, expected, () => `getRange(${JSON.stringify({ ...bounds, at })}) [${actual.length} vs ${expected.length} entries]`)
  }

  bad.report(t, phase)
}

test('agrees with a model of every version through random writes, reads and a reopen', async (t) => {
  t.timeout(5 * 60_000)
  const seed = chooseSeed()
  announceSeed(t, seed)
  const rng = new Rng(seed)
  const path = tempDbPath(t)
  const log: WriteLog = { model: new VersionModel<unknown>(), byTs: new Map(), firstTs: 0, lastTs: 0, commits: 0 }

  let started = Date.now()
  let db: Db = await open<string, unknown>(path)
  await writeRandomly(t, db, rng, log, OPERATIONS)
  t.log(`wrote ${OPERATIONS} operations in ${log.commits} commits in ${Date.now() - started} ms`)

  started = Date.now()
  checkAgainstModel(t, db, rng, log, 'before reopen')
  t.log(`checked in ${Date.now() - started} ms`)

  await db.close()
  db = closeAtEnd(t, await open<string, unknown>(path))
  t.true(db.now() >= log.lastTs, `now() ${db.now()} after reopen is below the last commit ${log.lastTs}`)
  checkAgainstModel(t, db, rng, log, 'after reopen')

  // more writes on top of the recovered state, then everything again
  // (writeRandomly checks that each group's timestamps are above every earlier one)
  await writeRandomly(t, db, rng, log, Math.ceil(OPERATIONS / 10))
  checkAgainstModel(t, db, rng, log, 'after writes on the reopened database')
  t.is(log.byTs.size, log.commits, 'every commit got its own timestamp')
})
