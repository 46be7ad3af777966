import test from 'ava'
import type { ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import path from 'node:path'

import { ErrorCode, InvalidArgumentError } from '../ts/index'
import { ChronoLevel, KEY_PREFIX, MAX_LEVEL_KEY_BYTES, type ChronoLevelOptions } from '../ts/level/index'
import { closeAtEnd, sleep, tempDbPath } from './helpers/tmp'

// chronokv/level beyond abstract-level's shared suite (npm run test:level): the supports
// manifest against what the adapter really does, the time-travel options, history/changes,
// the key mapping and the error mapping.

/** An open ChronoLevel in a fresh directory, closed at the end of the test. */
async function fresh<K = string, V = string>(t: ExecutionContext, options?: ChronoLevelOptions<K, V>) {
  const location = tempDbPath(t)
  const db = new ChronoLevel<K, V>(location, { durability: 'none', ...options })
  closeAtEnd(t, db)
  await db.open()
  return { db, location }
}

/** Resolves with the commit timestamp after the writes so far: a time between two writes. */
function now(db: ChronoLevel<any, any>): number {
  return db.chronokv.now()
}

// ---------------------------------------------------------------------------------------------
// The supports manifest

test('the supports manifest declares the features the adapter has', async (t) => {
  const { db } = await fresh(t)
  const s = db.supports
  t.like(s, {
    implicitSnapshots: true,
    explicitSnapshots: true,
    snapshots: true,
    has: true,
    getSync: true,
    seek: true,
    permanence: true,
    createIfMissing: true,
    errorIfExists: true,
    deferredOpen: true,
    streams: false,
  })
  t.like(s.encodings, { buffer: true, view: true, utf8: true, json: true })
  t.deepEqual(s.additionalMethods, { history: true, changes: true })
  t.deepEqual(s.signals, { iterators: true })
})

test('every additional method the manifest names exists, on the database and on a sublevel', async (t) => {
  const { db } = await fresh(t)
  const sub = db.sublevel('sub')
  type Level = Record<string, unknown> & { supports: { additionalMethods: Record<string, unknown> } }
  const levels: Level[] = [db as unknown as Level, sub as unknown as Level]
  for (const level of levels) {
    for (const [name, declared] of Object.entries(level.supports.additionalMethods)) {
      if (declared) t.is(typeof level[name], 'function', `${name} is declared but missing`)
    }
  }
  t.deepEqual(sub.supports.additionalMethods, { history: true, changes: true })
  t.deepEqual(sub.sublevel('nested').supports.additionalMethods, { history: true, changes: true })
})

test('permanence: what was written is there after closing and reopening', async (t) => {
  const { db, location } = await fresh(t)
  await db.put('k', 'v')
  await db.close()
  const again = closeAtEnd(t, new ChronoLevel(location))
  t.is(await again.get('k'), 'v')
})

test('createIfMissing: false refuses a missing database; errorIfExists refuses an existing one', async (t) => {
  const location = tempDbPath(t)
  const missing = closeAtEnd(t, new ChronoLevel(location, { createIfMissing: false }))
  const notOpen = await t.throwsAsync(missing.open())
  t.is((notOpen as { code?: string }).code, 'LEVEL_DATABASE_NOT_OPEN')
  t.regex(String((notOpen?.cause as Error).message), /does not exist/)

  const created = closeAtEnd(t, new ChronoLevel(location))
  await created.put('k', 'v')
  await created.close()
  const exists = await t.throwsAsync(new ChronoLevel(location).open({ errorIfExists: true }))
  t.is((exists as { code?: string }).code, 'LEVEL_DATABASE_NOT_OPEN')
  t.regex(String((exists?.cause as Error).message), /already exists/)
  // A directory that exists but holds no database yet is not "existing".
  const empty = closeAtEnd(t, new ChronoLevel(tempDbPath(t), { errorIfExists: true }))
  await t.notThrowsAsync(empty.open())
})

test('implicit snapshots: an iterator keeps reading the state of its creation', async (t) => {
  const { db } = await fresh(t)
  await db.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'put', key: 'b', value: '2' },
  ])
  const it = db.iterator()
  await db.put('a', 'changed')
  await db.del('b')
  await db.put('c', 'new')
  t.deepEqual(await it.all(), [['a', '1'], ['b', '2']])
})

// ---------------------------------------------------------------------------------------------
// Time travel

test('get, getSync, getMany, has and hasMany read as of `at`', async (t) => {
  const { db } = await fresh(t)
  await db.put('a', 'first')
  const t1 = now(db)
  await db.put('a', 'second')
  await db.put('b', 'only later')
  const t2 = now(db)
  await db.del('a')

  t.is(await db.get('a', { at: t1 }), 'first')
  t.is(await db.get('a', { at: t2 }), 'second')
  t.is(await db.get('a'), undefined)
  t.is(db.getSync('a', { at: t1 }), 'first')
  t.deepEqual(await db.getMany(['a', 'b'], { at: t1 }), ['first', undefined])
  t.deepEqual(await db.getMany(['a', 'b'], { at: t2 }), ['second', 'only later'])
  t.true(await db.has('a', { at: t1 }))
  t.false(await db.has('a'))
  t.deepEqual(await db.hasMany(['a', 'b'], { at: t1 }), [true, false])
  t.deepEqual(await db.hasMany(['a', 'b']), [false, true])
})

test('`at` accepts a Date', async (t) => {
  const { db } = await fresh(t)
  await db.put('k', 'before')
  await sleep(5)
  const moment = new Date()
  await sleep(5)
  await db.put('k', 'after')
  t.is(await db.get('k', { at: moment }), 'before')
  t.is(await db.get('k'), 'after')
})

test('iterator, keys and values read as of `at`, and seek stays at that time', async (t) => {
  const { db } = await fresh(t)
  await db.batch(['a', 'b', 'c', 'd'].map((key) => ({ type: 'put' as const, key, value: key.toUpperCase() })))
  const t1 = now(db)
  await db.del('b')
  await db.put('c', 'changed')
  await db.put('e', 'E')

  t.deepEqual(await db.iterator({ at: t1 }).all(), [['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'D']])
  t.deepEqual(await db.keys({ at: t1, gt: 'a', lte: 'c' }).all(), ['b', 'c'])
  t.deepEqual(await db.values({ at: t1, reverse: true, limit: 2 }).all(), ['D', 'C'])
  t.deepEqual(await db.keys().all(), ['a', 'c', 'd', 'e'])

  const it = db.iterator({ at: t1 })
  it.seek('b')
  t.deepEqual(await it.next(), ['b', 'B'])
  it.seek('a')
  t.deepEqual(await it.nextv(10), [['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'D']])
  await it.close()
})

test('a snapshot can be created at a past time and reports its ts', async (t) => {
  const { db } = await fresh(t)
  await db.put('k', 'old')
  const t1 = now(db)
  await db.put('k', 'new')
  const snapshot = db.snapshot({ at: t1 })
  t.is(snapshot.ts, t1)
  t.is(await db.get('k', { snapshot }), 'old')
  t.deepEqual(await db.iterator({ snapshot }).all(), [['k', 'old']])
  const current = db.snapshot()
  t.is(current.ts, now(db))
  t.is(await db.get('k', { snapshot: current }), 'new')
  await snapshot.close()
  await current.close()
})

test('sublevels pass `at` through to the database', async (t) => {
  const { db } = await fresh(t)
  const sub = db.sublevel('users')
  await sub.put('alice', 'free')
  const t1 = now(db)
  await sub.put('alice', 'pro')
  await sub.put('bob', 'free')
  t.is(await sub.get('alice', { at: t1 }), 'free')
  t.deepEqual(await sub.iterator({ at: t1 }).all(), [['alice', 'free']])
  t.deepEqual(await sub.getMany(['alice', 'bob'], { at: t1 }), ['free', undefined])
  const snapshot = sub.snapshot({ at: t1 })
  t.is(await sub.get('alice', { snapshot }), 'free')
  await snapshot.close()
})

test('clear with `at` deletes the keys the range had then, not keys written since', async (t) => {
  const { db } = await fresh(t)
  await db.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'put', key: 'b', value: '2' },
  ])
  const t1 = now(db)
  await db.put('c', '3')
  await db.clear({ at: t1 })
  t.deepEqual(await db.keys().all(), ['c'])
  t.deepEqual(await db.keys({ at: t1 }).all(), ['a', 'b'])
})

test('`at` together with `snapshot`, or a bad `at`, is refused with InvalidArgumentError', async (t) => {
  const { db } = await fresh(t)
  await db.put('k', 'v')
  const snapshot = db.snapshot()
  const both = await t.throwsAsync(db.get('k', { at: now(db), snapshot }), { instanceOf: InvalidArgumentError })
  t.is((both as { code?: string }).code, ErrorCode.INVALID_ARGUMENT)
  t.throws(() => db.iterator({ at: now(db), snapshot }), { instanceOf: InvalidArgumentError })
  await t.throwsAsync(db.get('k', { at: -1 }), { instanceOf: InvalidArgumentError })
  await t.throwsAsync(db.get('k', { at: 'yesterday' as unknown as number }), { instanceOf: InvalidArgumentError })
  await snapshot.close()
})

test('history lists every version of a key with its commit timestamp', async (t) => {
  const { db } = await fresh<string, { n: number }>(t, { valueEncoding: 'json' })
  await db.put('k', { n: 1 })
  const t1 = now(db)
  await db.put('k', { n: 2 })
  const t2 = now(db)
  await db.del('k')
  const t3 = now(db)
  t.deepEqual(await db.history('k'), [
    { key: 'k', ts: t1, value: { n: 1 }, deleted: false },
    { key: 'k', ts: t2, value: { n: 2 }, deleted: false },
    { key: 'k', ts: t3, deleted: true },
  ])
  t.deepEqual((await db.history('k', { reverse: true, limit: 1 })).map((v) => v.ts), [t3])
  t.deepEqual((await db.history('k', { since: t2 })).map((v) => v.ts), [t2, t3])
  t.deepEqual(await db.history('never'), [])
  // Other encodings per call, as abstract-level's reads allow.
  const [first] = await db.history<string, string>('k', { valueEncoding: 'utf8', limit: 1 })
  t.is(first?.value, '{"n":1}')
})

test('changes lists the versions of a key range in a time window, decoded', async (t) => {
  const { db } = await fresh(t)
  const t0 = now(db)
  await db.put('a', '1')
  await db.put('b', '1')
  const t1 = now(db)
  await db.put('b', '2')
  await db.del('a')
  await db.put('c', '1')
  const all = await db.changes()
  t.deepEqual(all.map((v) => `${v.key}:${v.deleted ? '-' : v.value}`), ['a:1', 'a:-', 'b:1', 'b:2', 'c:1'])
  const window = await db.changes({ gte: 'a', lt: 'c', since: t1 + 1 })
  t.deepEqual(window.map((v) => `${v.key}:${v.deleted ? '-' : v.value}`), ['a:-', 'b:2'])
  t.deepEqual(await db.changes({ until: t0 + 1 }), [])
})

test('sublevels list the history and changes of their own keys', async (t) => {
  const { db } = await fresh(t)
  const users = db.sublevel<string, { plan: string }>('users', { valueEncoding: 'json' })
  const admins = users.sublevel<string, { plan: string }>('admins', { valueEncoding: 'json' })
  await db.put('users', 'a root key that sorts near the sublevel')
  await users.put('alice', { plan: 'free' })
  const t1 = now(db)
  await users.put('alice', { plan: 'pro' })
  await users.put('bob', { plan: 'free' })
  await admins.put('carol', { plan: 'admin' })
  await db.sublevel('userz').put('alice', 'another sublevel')

  t.deepEqual((await users.history('alice')).map((v) => [v.ts > t1, v.deleted ? undefined : v.value]), [
    [false, { plan: 'free' }],
    [true, { plan: 'pro' }],
  ])
  t.deepEqual(await users.history('carol'), [])
  // A nested sublevel's keys lie inside its parent's range; they are listed as its iterators list them.
  t.deepEqual((await users.changes()).map((v) => v.key), ['!admins!carol', 'alice', 'alice', 'bob'])
  t.deepEqual(await users.keys().all(), ['!admins!carol', 'alice', 'bob'])
  t.deepEqual((await users.changes({ gte: 'b' })).map((v) => v.key), ['bob'])
  t.deepEqual((await users.changes({ since: t1 + 1, lt: 'b' })).map((v) => v.key), ['!admins!carol', 'alice'])
  t.deepEqual((await admins.changes()).map((v) => [v.key, v.deleted ? undefined : v.value]), [['carol', { plan: 'admin' }]])
  t.deepEqual((await admins.history('carol')).length, 1)
})

test('history and changes wait for a deferred open', async (t) => {
  const location = tempDbPath(t)
  const first = closeAtEnd(t, new ChronoLevel(location))
  await first.put('k', 'v')
  await first.close()
  const db = closeAtEnd(t, new ChronoLevel(location))
  t.is(db.status, 'opening')
  t.is((await db.history('k')).length, 1)
  t.is((await db.changes()).length, 1)
})

// ---------------------------------------------------------------------------------------------
// Keys and errors

test('keys are stored behind the adapter prefix, so the empty key works', async (t) => {
  const { db } = await fresh(t)
  await db.put('', 'empty')
  await db.put('k', 'v')
  t.is(await db.get(''), 'empty')
  t.deepEqual(await db.keys().all(), ['', 'k'])
  const raw = db.chronokv.getRange().asArray.map((e) => e.key)
  t.deepEqual(raw, [Buffer.from([KEY_PREFIX]), Buffer.from([KEY_PREFIX, 0x6b])])
})

test('keys up to 4095 bytes are accepted; longer ones fail with LEVEL_INVALID_KEY', async (t) => {
  const { db } = await fresh(t)
  const longest = 'x'.repeat(MAX_LEVEL_KEY_BYTES)
  await db.put(longest, 'ok')
  t.is(await db.get(longest), 'ok')
  const tooLong = await t.throwsAsync(db.put(`${longest}x`, 'no'))
  t.is((tooLong as { code?: string }).code, 'LEVEL_INVALID_KEY')
  const inBatch = await t.throwsAsync(db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: `${longest}x`, value: 'no' }]))
  t.is((inBatch as { code?: string }).code, 'LEVEL_INVALID_KEY')
  t.is(await db.get('a'), undefined, 'a failed batch writes nothing')
})

test('range bounds longer than any key still select the right keys', async (t) => {
  const { db } = await fresh(t)
  const max = 'm'.repeat(MAX_LEVEL_KEY_BYTES)
  await db.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'put', key: max, value: '2' },
    { type: 'put', key: 'n', value: '3' },
  ])
  const beyond = `${max}m`
  t.deepEqual(await db.keys({ gte: beyond }).all(), ['n'])
  t.deepEqual(await db.keys({ gt: beyond }).all(), ['n'])
  t.deepEqual(await db.keys({ lt: beyond }).all(), ['a', max])
  t.deepEqual(await db.keys({ lte: beyond }).all(), ['a', max])
  const it = db.keys()
  it.seek(beyond)
  t.deepEqual(await it.all(), ['n'])
  const back = db.keys({ reverse: true })
  back.seek(beyond)
  t.deepEqual(await back.all(), [max, 'a'])
})

test('clear larger than one batch deletes every key of the range', async (t) => {
  const { db } = await fresh(t)
  // 1,300 keys of 4,000 bytes: more than the 4 MiB of keys one clear batch takes.
  const keys = Array.from({ length: 1300 }, (_, i) => `${String(i).padStart(5, '0')}${'k'.repeat(3995)}`)
  for (let i = 0; i < keys.length; i += 100) {
    await db.batch(keys.slice(i, i + 100).map((key) => ({ type: 'put' as const, key, value: 'v' })))
  }
  await db.put('z', 'kept')
  await db.clear({ lt: 'z' })
  t.deepEqual(await db.keys().all(), ['z'])
})

test('chronokv errors get abstract-level codes and keep the chronokv error as cause', async (t) => {
  const { db, location } = await fresh(t)
  await db.put('k', 'v')
  // The same directory opened again in this process joins the engine; readOnly is per handle.
  const readOnly = closeAtEnd(t, new ChronoLevel(location, { readOnly: true }))
  t.is(await readOnly.get('k'), 'v')
  const err = await t.throwsAsync(readOnly.put('k', 'w'))
  t.is((err as { code?: string }).code, 'LEVEL_READONLY')
  t.is((err?.cause as { code?: string }).code, ErrorCode.READ_ONLY)
  t.is(await db.get('k'), 'v')
})

test('a database another process holds fails to open with LEVEL_LOCKED behind LEVEL_DATABASE_NOT_OPEN', async (t) => {
  const location = tempDbPath(t)
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'hold-open.ts'), location], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`hold-open exited with ${code}`)))
  })
  const db = closeAtEnd(t, new ChronoLevel(location))
  const err = await t.throwsAsync(db.open())
  t.is((err as { code?: string }).code, 'LEVEL_DATABASE_NOT_OPEN')
  const cause = err?.cause as { code?: string; cause?: { code?: string } }
  t.is(cause.code, 'LEVEL_LOCKED')
  t.is(cause.cause?.code, ErrorCode.LOCKED)
  t.is(db.status, 'closed')
})
