// The persistent layer from JavaScript: flushes to extents, reads over memtables and extents
// as of any time, the changes() rectangle, compaction with retention, and snapshot pins.

import test from 'ava'

import { InvalidArgumentError, open } from '../ts/index'
import { Rng, announceSeed, chooseSeed } from './helpers/prng'
import { closeAtEnd, sleep, tempDbPath } from './helpers/tmp'

type Versions = Map<string, Array<{ ts: number; value: number | undefined }>>

function valueAt(versions: Versions, key: string, at: number): number | undefined {
  const list = versions.get(key) ?? []
  let found: number | undefined
  for (const v of list) if (v.ts <= at) found = v.value
  return found
}

const keyOf = (i: number) => `k${String(i).padStart(5, '0')}`

test('reads as of any time, scans, histories and changes agree with a model across flushes, compactions and a reopen', async (t) => {
  const seed = chooseSeed()
  announceSeed(t, seed)
  const rng = new Rng(seed)
  const path = tempDbPath(t)
  let db = closeAtEnd(t, await open<string, number>(path, { durability: 'none', memtableBytes: 16 * 1024 }))
  const versions: Versions = new Map()
  const commits: number[] = []
  const KEYS = 400
  for (let round = 0; round < 12; round++) {
    const ops = []
    for (let i = 0; i < 120; i++) {
      const key = keyOf(rng.int(KEYS))
      ops.push(rng.chance(0.1) ? { type: 'del' as const, key } : { type: 'put' as const, key, value: rng.int(1_000_000) })
    }
    for (const op of ops) {
      const ts = op.type === 'put' ? await db.put(op.key, op.value) : await db.delete(op.key)
      commits.push(ts)
      const list = versions.get(op.key) ?? []
      list.push({ ts, value: op.type === 'put' ? op.value : undefined })
      versions.set(op.key, list)
    }
    if (round === 5) await db.compact()
    if (round === 8) {
      await db.close()
      db = closeAtEnd(t, await open<string, number>(path, { durability: 'none', memtableBytes: 16 * 1024 }))
    }
  }
  await db.flush()
  const stats = db.stats()
  t.true(stats.extents >= 2, `data spans ${stats.extents} extents`)
  t.is(stats.memtables, 1)
  t.is(stats.versions, commits.length)

  for (let i = 0; i < 300; i++) {
    const key = keyOf(rng.int(KEYS))
    const at = commits[rng.int(commits.length)]! - rng.int(2)
    t.is(db.get(key, { at }), valueAt(versions, key, at), `get ${key} at ${at}`)
  }
  for (let i = 0; i < 20; i++) {
    const at = commits[rng.int(commits.length)]!
    const lo = keyOf(rng.int(KEYS))
    const reverse = rng.chance(0.5)
    const want = [...versions.keys()]
      .filter((k) => k >= lo)
      .sort()
      .map((k) => ({ key: k, value: valueAt(versions, k, at) }))
      .filter((e) => e.value !== undefined)
    if (reverse) want.reverse()
    const got = [...db.getRange({ gte: lo, at, reverse })].map((e) => ({ key: e.key, value: e.value }))
    t.deepEqual(got, want, `getRange from ${lo} at ${at} reverse ${reverse}`)
  }
  for (let i = 0; i < 30; i++) {
    const key = keyOf(rng.int(KEYS))
    const got = [...db.history(key)].map((v) => ({ ts: v.ts, value: v.deleted ? undefined : v.value }))
    t.deepEqual(got, versions.get(key) ?? [], `history of ${key}`)
  }
  for (let i = 0; i < 10; i++) {
    const a = rng.int(KEYS)
    const gte = keyOf(a)
    const lt = keyOf(a + rng.between(1, 60))
    const since = commits[rng.int(commits.length)]!
    const until = since + rng.int(commits[commits.length - 1]! - since + 1)
    const want = [...versions.entries()]
      .filter(([k]) => k >= gte && k < lt)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .flatMap(([key, list]) => list.filter((v) => v.ts >= since && v.ts < until).map((v) => ({ key, ts: v.ts, value: v.value })))
    const got = [...db.changes({ gte, lt, since, until })].map((v) => ({ key: v.key, ts: v.ts, value: v.deleted ? undefined : v.value }))
    t.deepEqual(got, want, `changes [${gte}, ${lt}) x [${since}, ${until})`)
  }
})

test('a small rectangle reads few blocks: the rest are skipped by their key and time bounds', async (t) => {
  const db = closeAtEnd(t, await open<string, string>(tempDbPath(t), { durability: 'none', memtableBytes: 32 * 1024 }))
  const rounds: number[] = []
  for (let round = 0; round < 20; round++) {
    rounds.push(db.now())
    await db.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: keyOf(i), value: `${round}:${'v'.repeat(80)}` })))
  }
  await db.compact()
  const before = db.stats()
  const found = [...db.changes({ gte: keyOf(100), lt: keyOf(105), since: rounds[10]! + 1, until: rounds[12]! + 1 })]
  const after = db.stats()
  t.deepEqual(
    found.map((v) => [v.key, (v.value as string).split(':')[0]]),
    [100, 101, 102, 103, 104].flatMap((i) => [
      [keyOf(i), '10'],
      [keyOf(i), '11'],
    ]),
  )
  const read = after.blocksRead - before.blocksRead
  t.true(read >= 1 && read <= 0.05 * after.extentBlocks, `read ${read} of ${after.extentBlocks} blocks`)
  t.true(after.blocksSkipped > before.blocksSkipped)
})

test('compaction with retention collects old versions, keeps reads inside the window exact and refuses older ones; snapshots hold it back', async (t) => {
  const path = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, number>(path, { durability: 'none', retention: { maxAgeMs: 300, minVersions: 1 } }))
  const keys = Array.from({ length: 50 }, (_, i) => keyOf(i))
  const put = (v: number) => db.batch(keys.map((key) => ({ type: 'put' as const, key, value: v })))
  const t0 = await put(0)
  const t1 = await put(1)
  const pinned = db.snapshot({ at: t0 })
  await sleep(600)
  const t2 = await put(2)
  // The snapshot at t0 holds the horizon there: nothing it sees is collected.
  const held = await db.compact()
  t.is(held.horizon, t0)
  t.is(pinned.get(keys[0]!), 0)
  pinned.close()
  const result = await db.compact()
  t.true(result.horizon > t1 && result.horizon < t2, `horizon ${result.horizon} between ${t1} and ${t2}`)
  t.is(result.versionsIn - result.versionsOut, keys.length, 'the version before the one visible at the horizon goes')
  t.is(db.stats().retentionHorizon, result.horizon)
  t.is(db.get(keys[3]!, { at: result.horizon }), 1)
  t.is(db.get(keys[3]!), 2)
  t.deepEqual(
    [...db.history(keys[3]!)].map((v) => v.value),
    [1, 2],
  )
  const error = t.throws(() => db.get(keys[3]!, { at: t1 - 1 }), { instanceOf: InvalidArgumentError })
  t.regex(error!.message, /retention horizon/)
  t.throws(() => db.snapshot({ at: t0 }), { instanceOf: InvalidArgumentError })
  await db.close()
  const reopened = closeAtEnd(t, await open<string, number>(path, { durability: 'none' }))
  t.is(reopened.stats().retentionHorizon, result.horizon, 'the horizon survives a reopen')
  t.is(reopened.get(keys[3]!, { at: result.horizon }), 1)
})

test('flush and compact are refused on a read-only handle and after close', async (t) => {
  const path = tempDbPath(t)
  const db = await open(path)
  await db.put('a', 1)
  const ro = closeAtEnd(t, await open(path, { readOnly: true }))
  await t.throwsAsync(ro.flush(), { code: 'CHRONOKV_READ_ONLY' })
  await t.throwsAsync(ro.compact(), { code: 'CHRONOKV_READ_ONLY' })
  await db.close()
  await t.throwsAsync(db.flush(), { code: 'CHRONOKV_CLOSED' })
  await t.throwsAsync(db.compact(), { code: 'CHRONOKV_CLOSED' })
})

test('changes() rejects bad options with InvalidArgumentError', (t) => {
  return (async () => {
    const db = closeAtEnd(t, await open(tempDbPath(t)))
    t.throws(() => db.changes({ since: -1 }), { instanceOf: InvalidArgumentError })
    t.throws(() => db.changes({ gt: 'a' } as never), { instanceOf: InvalidArgumentError })
    t.throws(() => db.changes({ limit: 1.5 }), { instanceOf: InvalidArgumentError })
    t.deepEqual([...db.changes({ limit: 0 })], [])
  })()
})
