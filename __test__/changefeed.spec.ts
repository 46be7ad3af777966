// The live change feed, db.changes({ live: true }): commit-timestamp order with the versions of
// one commit together, exact resumption from a position, wake-ups on local commits, polling for
// commits from other worker threads, and the ways it ends (break, abort, close, until).

import test from 'ava'
import type { ExecutionContext } from 'ava'
import path from 'node:path'
import { Worker } from 'node:worker_threads'

import { ChangeFeed, InvalidArgumentError, open, type Version } from '../ts/index'
import { MAX_CHUNK } from '../ts/change-feed'
import type { FeedWriterData, FeedWriterMessage } from './fixtures/feed-writer'
import { closeAtEnd, sleep, tempDbPath } from './helpers/tmp'

type V = Version<string, number>

/** Pulls `n` versions from a feed, failing the test instead of hanging past `ms`. */
async function take(feed: ChangeFeed<string, number>, n: number, ms = 10_000): Promise<V[]> {
  const out: V[] = []
  const deadline = Date.now() + ms
  while (out.length < n) {
    const left = deadline - Date.now()
    const next = await Promise.race([feed.next(), sleep(Math.max(0, left)).then(() => 'timeout' as const)])
    if (next === 'timeout') throw new Error(`only ${out.length} of ${n} versions arrived within ${ms} ms`)
    if (next.done) throw new Error(`the feed ended after ${out.length} of ${n} versions`)
    out.push(next.value)
  }
  return out
}

/** Resolves with what the feed's next() resolves with, or 'pending' if it has not within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, sleep(ms).then(() => 'pending' as const)])
}

const brief = (v: V) => `${v.ts}:${v.key}:${v.deleted ? 'del' : v.value}`

/** Every version of the database in feed order: by ts, then key (what the feed must produce). */
function expectedOrder(db: { changes(): Iterable<V> }): V[] {
  return [...db.changes()].sort((a, b) => a.ts - b.ts || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function assertFeedOrder(t: ExecutionContext, versions: V[]): void {
  const seen = new Set<number>()
  for (let i = 1; i < versions.length; i++) {
    const [a, b] = [versions[i - 1]!, versions[i]!]
    t.true(a.ts <= b.ts, `out of commit order at ${i}: ${brief(a)} then ${brief(b)}`)
    if (a.ts !== b.ts) {
      t.false(seen.has(b.ts), `the commit at ${b.ts} is split: it reappears after ${brief(a)}`)
      seen.add(a.ts)
    }
  }
}

test('existing versions arrive in commit order, not key order, with the versions of a batch together', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  const t1 = await db.put('c', 1)
  const t2 = await db.put('a', 2)
  const t3 = await db.batch([
    { type: 'put', key: 'z', value: 3 },
    { type: 'put', key: 'b', value: 4 },
    { type: 'del', key: 'c' },
  ])
  const t4 = await db.put('a', 5)

  const feed = db.changes({ live: true })
  const got = await take(feed, 6)
  await feed.return()
  t.deepEqual(got.map(brief), [`${t1}:c:1`, `${t2}:a:2`, `${t3}:b:4`, `${t3}:c:del`, `${t3}:z:3`, `${t4}:a:5`])
  // The one-off listing is in key order: the feed really reorders.
  t.deepEqual([...db.changes()].map((v) => v.key), ['a', 'a', 'b', 'c', 'c', 'z'])
})

test('a feed resumed from a position yields exactly the versions the first feed did not hand out', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  for (let i = 0; i < 30; i++) {
    if (i % 7 === 3) await db.batch([{ type: 'put', key: `k${i}a`, value: i }, { type: 'put', key: `k${i}b`, value: i }])
    else await db.put(`k${i % 5}`, i)
  }
  const all = expectedOrder(db)

  // A consumer that stops in the middle of a batch: the batch comes again, nothing else does.
  const first = db.changes({ live: true })
  const seen = await take(first, 15)
  const position = first.position
  await first.return()
  t.true(first.ended)
  const midBatch = all[15]!.ts === all[14]!.ts
  t.is(position, midBatch ? all[14]!.ts : all[15]!.ts)

  for (let i = 0; i < 5; i++) await db.put(`late${i}`, 100 + i)
  const after = expectedOrder(db).filter((v) => v.ts >= position)
  const resumed = db.changes({ live: true, since: position })
  const rest = await take(resumed, after.length)
  t.deepEqual(rest.map(brief), after.map(brief))
  t.is(await settledWithin(resumed.next().then((r) => (r.done ? 'done' : brief(r.value))), 150), 'pending', 'the feed handed out more than exists')
  await resumed.return()
  t.deepEqual([...seen, ...rest].filter((v) => v.ts < position).map(brief), seen.filter((v) => v.ts < position).map(brief))

  // Resuming from the ts after the last one seen: exactly the later versions.
  const lastSeen = seen[seen.length - 1]!.ts
  const fromTs = db.changes({ live: true, since: lastSeen + 1 })
  const expected = expectedOrder(db).filter((v) => v.ts > lastSeen)
  t.deepEqual((await take(fromTs, expected.length)).map(brief), expected.map(brief))
  await fromTs.return()
})

test('new commits wake a waiting feed at once, also through another handle of this thread', async (t) => {
  const dir = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, number>(dir, { durability: 'none' }))
  const other = closeAtEnd(t, await open<string, number>(dir, { durability: 'none' }))
  // A poll interval far longer than the test: only the wake-up can deliver in time.
  const feed = db.changes({ live: true, since: db.now() + 1, pollIntervalMs: 60_000 })
  const pending = feed.next()
  t.is(await settledWithin(pending, 100), 'pending')
  const ts = await db.put('x', 1)
  const first = await settledWithin(pending, 1000)
  t.deepEqual(first, { done: false, value: { key: 'x', ts, value: 1, deleted: false } })

  const next = feed.next()
  const started = Date.now()
  const ts2 = await other.put('y', 2)
  const second = await settledWithin(next, 1000)
  t.deepEqual(second, { done: false, value: { key: 'y', ts: ts2, value: 2, deleted: false } })
  t.log(`delivered ${Date.now() - started} ms after the put through the other handle`)
  await feed.return()
})

test('a writer in a worker thread is seen, in commit order, by polling', async (t) => {
  t.timeout(60_000)
  const dir = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, number>(dir, { durability: 'none' }))
  const COUNT = 200
  const feed = db.changes({ live: true, since: db.now() + 1, gte: 'worker:', lt: 'worker;', pollIntervalMs: 20 })

  const data: FeedWriterData = { dir, count: COUNT }
  const worker = new Worker(path.join(__dirname, 'fixtures', 'feed-writer.ts'), { workerData: data, execArgv: ['--require', 'tsx/cjs'] })
  t.teardown(() => worker.terminate())
  const done = new Promise<Extract<FeedWriterMessage, { type: 'done' }>>((resolve, reject) => {
    worker.on('error', reject)
    worker.on('message', (m: FeedWriterMessage) => {
      if (m.type === 'ready') worker.postMessage('go')
      else resolve(m)
    })
  })
  const got = await take(feed, COUNT + 3, 30_000)
  const report = await done
  await feed.return()
  assertFeedOrder(t, got)
  t.deepEqual(got.slice(0, COUNT).map((v) => v.ts), report.puts)
  t.deepEqual(got.slice(0, COUNT).map((v) => v.value), Array.from({ length: COUNT }, (_, i) => i))
  t.deepEqual(got.slice(COUNT).map(brief), [`${report.batch}:worker:batch:a:1`, `${report.batch}:worker:batch:b:2`, `${report.batch}:worker:batch:c:3`])
})

test('with writers in two workers and this thread at once, the feed misses and repeats nothing', async (t) => {
  t.timeout(60_000)
  const dir = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, number>(dir, { durability: 'none' }))
  const COUNT = 300
  const since = db.now() + 1
  const feed = db.changes({ live: true, since, pollIntervalMs: 5 })
  const finished = ['w1:', 'w2:'].map((prefix) => {
    const data: FeedWriterData = { dir, count: COUNT, prefix }
    const worker = new Worker(path.join(__dirname, 'fixtures', 'feed-writer.ts'), { workerData: data, execArgv: ['--require', 'tsx/cjs'] })
    t.teardown(() => worker.terminate())
    return new Promise<void>((resolve, reject) => {
      worker.on('error', reject)
      worker.on('message', (m: FeedWriterMessage) => (m.type === 'ready' ? worker.postMessage('go') : resolve()))
    })
  })
  const local = (async () => {
    for (let i = 0; i < COUNT; i++) await db.put(`main:${i % 17}`, i)
  })()
  const total = 3 * COUNT + 2 * 3
  const got = await take(feed, total, 45_000)
  await Promise.all([...finished, local])
  t.is(await settledWithin(feed.next(), 100), 'pending', 'the feed handed out more versions than were written')
  await feed.return()
  const expected = expectedOrder(db).filter((v) => v.ts >= since)
  t.is(expected.length, total)
  t.deepEqual(got.map(brief), expected.map(brief))
})

test('closing the database ends a waiting feed and later next() calls', async (t) => {
  const db = await open<string, number>(tempDbPath(t), { durability: 'none' })
  await db.put('a', 1)
  const feed = db.changes({ live: true })
  t.is((await take(feed, 1))[0]!.key, 'a')
  const waiting = feed.next()
  t.is(await settledWithin(waiting, 100), 'pending')
  await db.close()
  t.deepEqual(await settledWithin(waiting, 1000), { done: true, value: undefined })
  t.deepEqual(await feed.next(), { done: true, value: undefined })
  t.true(feed.ended)

  // A for-await loop over a feed ends too when its database closes.
  const db2 = await open<string, number>(tempDbPath(t), { durability: 'none' })
  await db2.put('b', 2)
  const keys: string[] = []
  const loop = (async () => {
    for await (const v of db2.changes({ live: true })) {
      keys.push(v.key)
      if (keys.length === 1) setTimeout(() => void db2.close(), 20)
    }
    return 'ended'
  })()
  t.is(await settledWithin(loop, 2000), 'ended')
  t.deepEqual(keys, ['b'])
})

test('an AbortSignal ends the feed, before or while it waits', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  await db.put('a', 1)
  const controller = new AbortController()
  const feed = db.changes({ live: true, signal: controller.signal })
  await take(feed, 1)
  const waiting = feed.next()
  t.is(await settledWithin(waiting, 100), 'pending')
  controller.abort()
  t.deepEqual(await settledWithin(waiting, 1000), { done: true, value: undefined })
  await db.put('b', 2)
  t.deepEqual(await feed.next(), { done: true, value: undefined })

  const early = db.changes({ live: true, signal: AbortSignal.abort() })
  t.true(early.ended)
  t.deepEqual(await early.next(), { done: true, value: undefined })
})

test('break out of for await ends the feed; until ends it once reached', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  const stamps: number[] = []
  for (let i = 0; i < 5; i++) stamps.push(await db.put(`k${i}`, i))
  const feed = db.changes({ live: true })
  for await (const v of feed) if (v.value === 1) break
  t.true(feed.ended)
  t.is(feed.position, stamps[2]!, 'after the end, position still names the first version not handed out')
  t.deepEqual(await feed.next(), { done: true, value: undefined })

  const bounded: number[] = []
  const loop = (async () => {
    for await (const v of db.changes({ live: true, since: stamps[1]!, until: stamps[3]! })) bounded.push(v.value as number)
    return 'ended'
  })()
  t.is(await settledWithin(loop, 2000), 'ended')
  t.deepEqual(bounded, [1, 2])

  // until in the future: the feed waits for the commits before it, then ends.
  const future = db.changes({ live: true, since: db.now() + 1, until: Number.MAX_SAFE_INTEGER })
  const waiting = future.next()
  const ts = await db.put('later', 9)
  t.like(await settledWithin(waiting, 1000), { done: false, value: { ts, key: 'later' } })
  await future.return()
})

test('a catch-up larger than one chunk, with a batch larger than one chunk, stays in order', async (t) => {
  t.timeout(120_000)
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  const writes: Array<Promise<number>> = []
  for (let i = 0; i < MAX_CHUNK + 500; i++) writes.push(db.put(`p${i % 997}`, i))
  await Promise.all(writes)
  const big = await db.batch(Array.from({ length: MAX_CHUNK + 10 }, (_, i) => ({ type: 'put' as const, key: `b${String(i).padStart(5, '0')}`, value: i })))
  for (let i = 0; i < 50; i++) await db.put(`tail${i}`, i)
  const expected = expectedOrder(db)

  const feed = db.changes({ live: true })
  const got = await take(feed, expected.length, 60_000)
  await feed.return()
  t.is(got.length, expected.length)
  t.deepEqual(got.map(brief), expected.map(brief))
  const batch = got.filter((v) => v.ts === big)
  t.is(batch.length, MAX_CHUNK + 10)
})

test('an open feed holds retention back until it has read; a since before the horizon is refused', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none', retention: { maxAgeMs: 300, minVersions: 1 } }))
  const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`)
  const put = (v: number) => db.batch(keys.map((key) => ({ type: 'put' as const, key, value: v })))
  const t0 = await put(0)
  await put(1)
  const feed = db.changes({ live: true, since: t0 }) // has read nothing yet
  await sleep(600)
  await put(2)
  const held = await db.compact()
  t.true(held.horizon <= t0, `horizon ${held.horizon} passed the feed's cursor ${t0}`)
  t.is(held.versionsIn, held.versionsOut, 'retention collected versions the feed has not read')
  const got = await take(feed, 3 * keys.length)
  t.deepEqual(got.filter((v) => v.ts === t0).map((v) => v.value), keys.map(() => 0))
  await feed.return()
  const freed = await db.compact()
  t.true(freed.horizon > t0)
  t.true(freed.versionsIn > freed.versionsOut, 'once the feed ended, retention collects again')
  t.throws(() => db.changes({ live: true, since: t0 }), { instanceOf: InvalidArgumentError, message: /retention/ })
  const fromHorizon = db.changes({ live: true })
  t.is(fromHorizon.position, freed.horizon, 'without since, a feed starts at the retention horizon')
  await fromHorizon.return()
})

test('live options are validated', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  const bad: unknown[] = [
    { live: true, limit: 5 },
    { live: true, pollIntervalMs: 0 },
    { live: true, pollIntervalMs: 10_000_000 },
    { live: true, signal: {} },
    { live: true, since: -1 },
    { live: 'yes' },
  ]
  for (const options of bad) {
    t.throws(() => (db.changes as (o: unknown) => unknown)(options), { instanceOf: InvalidArgumentError }, JSON.stringify(options))
  }
  t.true(db.changes({ live: false }) !== undefined)
})
