// Transaction isolation, checked Elle-style from observations (see helpers/list-append.ts).
//
// The randomized tests run CHRONOKV_HISTORIES seeded concurrent list-append histories per
// isolation level (default 200 each; the extended run is CHRONOKV_HISTORIES=1000) and fail on
// any anomaly the level forbids. Each prints `seed=<n>`; replay with CHRONOKV_SEED=<n>. A failing
// history is also written as JSON to the temp directory (its path is logged).
//
// The hand-built histories prove the checker can fail: each holds one anomaly and must be
// reported (a checker that never fails would pass every engine).

import test from 'ava'
import type { ExecutionContext } from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ConflictError, open } from '../ts/index'
import type { Database, Isolation } from '../ts/index'
import {
  checkListAppend,
  explain,
  runListAppend,
  type AnomalyType,
  type History,
  type ListAppendDb,
  type ListReader,
  type ListTransaction,
  type MicroOp,
  type Outcome,
  type Txn,
} from './helpers/list-append'
import { announceSeed, chooseSeed, Rng } from './helpers/prng'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

// ---------------------------------------------------------------------------------------------
// Building histories by hand

const r = (key: string, ...value: number[]): MicroOp => ({ f: 'r', key, value })
/** `append key value` after reading `prior`. */
const a = (key: string, value: number, prior: number[] = []): MicroOp => ({ f: 'append', key, value, prior })
const T = (id: number, outcome: Outcome, ...ops: MicroOp[]): Txn => ({ id, client: id, ops, outcome })

function typesOf(history: History, level: Isolation): { anomalies: AnomalyType[]; permitted: AnomalyType[] } {
  const result = checkListAppend(history, level)
  return {
    anomalies: [...new Set(result.anomalies.map((x) => x.type))].sort(),
    permitted: [...new Set(result.permitted.map((x) => x.type))].sort(),
  }
}

test('a serial history has no anomaly at either level', (t) => {
  const history: History = {
    txns: [
      T(1, 'ok', a('x', 1), r('y')),
      T(2, 'ok', r('x', 1), a('x', 2, [1]), r('x', 1, 2), a('y', 3)),
      T(3, 'fail', r('x', 1, 2), a('x', 4, [1, 2])),
      T(4, 'ok', r('x', 1, 2), r('y', 3)),
    ],
    final: { x: [1, 2], y: [3] },
  }
  for (const level of ['snapshot', 'serializable'] as const) {
    const result = checkListAppend(history, level)
    t.deepEqual(result.anomalies, [], level)
    t.deepEqual(result.permitted, [], level)
    t.deepEqual(result.stats.edges, { ww: 1, wr: 3, rw: 1 }, level)
  }
})

test('a read skew (G-single) is reported under snapshot isolation', (t) => {
  // T1 appends to x and y; T2 sees T1's y but not its x.
  const history: History = {
    txns: [T(1, 'ok', a('x', 1), a('y', 2)), T(2, 'ok', r('x'), r('y', 2))],
    final: { x: [1], y: [2] },
  }
  const result = checkListAppend(history, 'snapshot')
  t.deepEqual(
    result.anomalies.map((x) => x.type),
    ['G-single'],
  )
  const cycle = result.anomalies[0]!.cycle!
  t.deepEqual(
    cycle.map((e) => `${e.from}-${e.type}(${e.key})->${e.to}`),
    ['2-rw(x)->1', '1-wr(y)->2'],
  )
  t.deepEqual(typesOf(history, 'serializable').anomalies, ['G-single'])
})

test('a write skew (G2) is permitted under snapshot isolation and reported under serializable', (t) => {
  // Both read x and y empty; T1 appends to y, T2 to x: rw edges both ways.
  const history: History = {
    txns: [T(1, 'ok', r('x'), a('y', 1)), T(2, 'ok', r('y'), a('x', 2))],
    final: { x: [2], y: [1] },
  }
  t.deepEqual(typesOf(history, 'snapshot'), { anomalies: [], permitted: ['G2'] })
  t.deepEqual(typesOf(history, 'serializable'), { anomalies: ['G2'], permitted: [] })
})

test('a read of an aborted append (G1a) is reported', (t) => {
  const history: History = {
    txns: [T(1, 'fail', a('x', 1)), T(2, 'ok', r('x', 1))],
    final: { x: [] },
  }
  const { anomalies } = typesOf(history, 'snapshot')
  t.true(anomalies.includes('G1a'), anomalies.join())
  // an aborted value in a final list is G1a too
  const inFinal: History = { txns: [T(1, 'fail', a('x', 1)), T(2, 'ok', a('x', 2, [1]))], final: { x: [1, 2] } }
  t.true(typesOf(inFinal, 'snapshot').anomalies.includes('G1a'))
})

test('a cycle of write dependencies (G0) is reported', (t) => {
  // x orders T1 before T2, y orders T2 before T1.
  const history: History = {
    txns: [T(1, 'ok', a('x', 1), a('y', 3, [4])), T(2, 'ok', a('x', 2, [1]), a('y', 4))],
    final: { x: [1, 2], y: [4, 3] },
  }
  t.true(typesOf(history, 'snapshot').anomalies.includes('G0'))
})

test('a cycle of write and read dependencies (G1c) is reported', (t) => {
  // each reads the other's append
  const history: History = {
    txns: [T(1, 'ok', a('x', 1), r('y', 2)), T(2, 'ok', a('y', 2), r('x', 1))],
    final: { x: [1], y: [2] },
  }
  t.true(typesOf(history, 'snapshot').anomalies.includes('G1c'))
})

test('lost updates, intermediate reads, inconsistent own reads and out-of-order reads are reported', (t) => {
  const cases: Array<[AnomalyType, History]> = [
    // both read [] and appended; only one append survived
    ['lost-append', { txns: [T(1, 'ok', a('x', 1)), T(2, 'ok', a('x', 2))], final: { x: [2] } }],
    // T2 saw T1's first append to x but not its second
    ['G1b', { txns: [T(1, 'ok', a('x', 1), a('x', 2, [1])), T(2, 'ok', r('x', 1))], final: { x: [1, 2] } }],
    // T1 does not see its own append
    ['internal', { txns: [T(1, 'ok', a('x', 1), r('x'))], final: { x: [1] } }],
    // T2 read [1 3], but the final order is [1 2 3]
    [
      'incompatible-order',
      {
        txns: [T(1, 'ok', a('x', 1)), T(2, 'ok', r('x', 1, 3)), T(3, 'ok', a('x', 2, [1])), T(4, 'ok', a('x', 3, [1, 2]))],
        final: { x: [1, 2, 3] },
      },
    ],
    // T1's first read already holds the value it appends afterwards
    ['future-read', { txns: [T(1, 'ok', r('x', 1), a('x', 1, [1]))], final: { x: [1] } }],
    ['duplicate-elements', { txns: [T(1, 'ok', a('x', 1))], final: { x: [1, 1] } }],
    ['unknown-element', { txns: [T(1, 'ok', a('x', 1))], final: { x: [1, 99] } }],
  ]
  for (const [type, history] of cases) {
    const { anomalies } = typesOf(history, 'snapshot')
    t.true(anomalies.includes(type), `${type}: got ${anomalies.join(', ') || 'nothing'}`)
  }
})

// ---------------------------------------------------------------------------------------------
// The engine, deterministically

/** Two transactions that read both keys and each append to a different one: write skew. */
async function writeSkew(db: Database<string, number[]>, isolation: Isolation): Promise<History> {
  const t1 = db.beginTransaction({ isolation })
  const t2 = db.beginTransaction({ isolation })
  const rec1: Txn = { id: 1, client: 1, ops: [], outcome: 'fail' }
  const rec2: Txn = { id: 2, client: 2, ops: [], outcome: 'fail' }
  for (const [tx, rec, key, value] of [
    [t1, rec1, 'y', 1],
    [t2, rec2, 'x', 2],
  ] as const) {
    rec.ops.push(r('x', ...(tx.get('x') ?? [])), r('y', ...(tx.get('y') ?? [])))
    const prior = tx.get(key) ?? []
    tx.put(key, [...prior, value])
    rec.ops.push(a(key, value, prior))
  }
  for (const [tx, rec] of [
    [t1, rec1],
    [t2, rec2],
  ] as const) {
    try {
      await tx.commit()
      rec.outcome = 'ok'
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
    }
  }
  return { txns: [rec1, rec2], final: { x: db.get('x') ?? [], y: db.get('y') ?? [] } }
}

test('the checker sees the write skew snapshot isolation allows, and serializable prevents it', async (t) => {
  const snapshotDb = closeAtEnd(t, await open<string, number[]>(tempDbPath(t, 'si'), { durability: 'none' }))
  const skewed = await writeSkew(snapshotDb, 'snapshot')
  t.deepEqual(
    skewed.txns.map((x) => x.outcome),
    ['ok', 'ok'],
    'snapshot isolation commits both',
  )
  t.deepEqual(typesOf(skewed, 'snapshot'), { anomalies: [], permitted: ['G2'] })
  t.deepEqual(typesOf(skewed, 'serializable').anomalies, ['G2'])

  const serialDb = closeAtEnd(t, await open<string, number[]>(tempDbPath(t, 'ser'), { durability: 'none' }))
  const prevented = await writeSkew(serialDb, 'serializable')
  t.deepEqual(
    prevented.txns.map((x) => x.outcome),
    ['ok', 'fail'],
    'the second committer conflicts',
  )
  t.deepEqual(typesOf(prevented, 'serializable'), { anomalies: [], permitted: [] })
})

/**
 * A deliberately broken engine: transactions read the newest committed data (read committed)
 * and commit as a plain batch, without any conflict check. Lost updates and read skew follow.
 */
class ReadCommittedDb implements ListAppendDb {
  constructor(private readonly db: Database<string, number[]>) {}

  beginTransaction(): ListTransaction {
    const db = this.db
    const writes = new Map<string, number[]>()
    const get = (key: string) => (writes.has(key) ? writes.get(key) : db.get(key))
    return {
      get,
      getEntry: (key) => {
        const value = get(key)
        return value === undefined ? undefined : { value }
      },
      getRange: (options) => {
        const merged = new Map<string, number[]>()
        for (const e of db.getRange(options)) merged.set(e.key, e.value)
        for (const [key, value] of writes) {
          const inside =
            (options.gte === undefined || key >= options.gte) &&
            (options.lt === undefined || key < options.lt) &&
            (options.lte === undefined || key <= options.lte)
          if (inside) merged.set(key, value)
        }
        const keys = [...merged.keys()].sort()
        if (options.reverse) keys.reverse()
        return keys.map((key) => ({ key, value: merged.get(key)! }))
      },
      put: (key, value) => void writes.set(key, value),
      commit: () => db.batch([...writes].map(([key, value]) => ({ type: 'put' as const, key, value }))),
      abort: () => writes.clear(),
    }
  }

  async transaction<R>(fn: (tx: ListTransaction) => Promise<R>): Promise<R> {
    const tx = this.beginTransaction()
    const result = await fn(tx)
    await tx.commit()
    return result
  }

  snapshot(): ListReader & { close(): void } {
    const tx = this.beginTransaction()
    return { get: tx.get, getEntry: tx.getEntry, getRange: tx.getRange, close: () => undefined }
  }
}

test('the checker catches a broken engine: read committed without conflict checks', async (t) => {
  const db = closeAtEnd(t, await open<string, number[]>(tempDbPath(t), { durability: 'none' }))
  const broken = new ReadCommittedDb(db)
  const found = new Map<AnomalyType, number>()
  let histories = 0
  for (let i = 0; i < 20; i++) {
    const history = await runListAppend({ dbs: [broken], rng: new Rng(1000 + i), prefix: `h${i}/`, isolation: 'snapshot' })
    const { anomalies } = checkListAppend(history, 'snapshot')
    if (anomalies.length > 0) histories++
    for (const x of anomalies) found.set(x.type, (found.get(x.type) ?? 0) + 1)
  }
  t.log(`anomalous histories: ${histories}/20; anomalies: ${[...found].map(([k, n]) => `${k}=${n}`).join(' ')}`)
  t.true(histories >= 10, `the checker flagged only ${histories} of 20 histories of a broken engine`)
  t.true(found.has('lost-append'), 'lost updates are reported')
  t.true(found.has('G-single') || found.has('G1c'), 'read skew is reported')
})

// ---------------------------------------------------------------------------------------------
// Randomized concurrent histories

function historyCount(): number {
  const raw = process.env.CHRONOKV_HISTORIES
  if (raw === undefined || raw === '') return 200
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`CHRONOKV_HISTORIES must be a positive integer, got ${raw}`)
  return n
}

async function checkRandomHistories(t: ExecutionContext, isolation: Isolation): Promise<void> {
  const seed = chooseSeed()
  announceSeed(t, seed)
  const count = historyCount()
  const dbPath = tempDbPath(t)
  // Two handles on one path share one engine; clients alternate between them.
  const dbs = [
    closeAtEnd(t, await open<string, number[]>(dbPath, { durability: 'none' })),
    closeAtEnd(t, await open<string, number[]>(dbPath, { durability: 'none' })),
  ]
  const totals = { txns: 0, committed: 0, failed: 0, ww: 0, wr: 0, rw: 0, permitted: 0 }
  const started = Date.now()
  for (let i = 0; i < count; i++) {
    const historySeed = (seed + Math.imul(i + 1, 0x9e3779b9)) >>> 0
    const history = await runListAppend({ dbs, rng: new Rng(historySeed), prefix: `h${i}/`, isolation })
    const result = checkListAppend(history, isolation)
    totals.txns += result.stats.txns
    totals.committed += result.stats.committed
    totals.failed += result.stats.failed
    totals.ww += result.stats.edges.ww
    totals.wr += result.stats.edges.wr
    totals.rw += result.stats.edges.rw
    totals.permitted += result.permitted.length
    if (result.anomalies.length > 0) {
      const file = path.join(os.tmpdir(), `chronokv-history-${isolation}-seed${seed}-h${i}.json`)
      fs.writeFileSync(file, JSON.stringify({ seed, history: i, isolation, ...history, anomalies: result.anomalies }, null, 1))
      t.fail(
        [
          `history ${i} (seed=${seed}, replay with CHRONOKV_SEED=${seed}) at '${isolation}' has anomalies; written to ${file}`,
          ...result.anomalies.map((x) => explain(history, x)),
        ].join('\n'),
      )
      return
    }
  }
  t.log(
    `${count} histories at '${isolation}' in ${Date.now() - started} ms: ${totals.txns} transactions, ` +
      `${totals.committed} committed, ${totals.failed} aborted; edges ww=${totals.ww} wr=${totals.wr} rw=${totals.rw}` +
      (isolation === 'snapshot' ? `; permitted G2 (write skew) cycles: ${totals.permitted}` : ''),
  )
  // The workload must actually contend, or the check proves little (not judged on a short replay).
  if (count < 50) return
  t.true(totals.failed > 0, 'some transactions conflicted')
  t.true(totals.committed > totals.txns / 3, 'most transactions committed')
  t.true(totals.rw > 0 && totals.wr > 0 && totals.ww > 0, 'every kind of dependency occurred')
}

test('concurrent list-append histories under snapshot isolation show no G0, G1 or G-single', async (t) => {
  await checkRandomHistories(t, 'snapshot')
})

test('concurrent list-append histories under serializable isolation show no dependency cycle at all', async (t) => {
  await checkRandomHistories(t, 'serializable')
})
