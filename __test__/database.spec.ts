import test from 'ava'
import type { ExecutionContext } from 'ava'

import { open } from '../ts/index'
import { closeAtEnd, sleep, tempDbPath } from './helpers/tmp'
import { hex, plainEntries, plainVersions } from './helpers/plain'

type Durability = 'sync' | 'async' | 'none'

/** Opens a utf8-keyed, JSON-valued database in a fresh temp dir, closed at the end of the test. */
async function fresh(t: ExecutionContext, durability?: Durability) {
  const path = tempDbPath(t)
  const db = await open<string, unknown>(path, durability ? { durability } : undefined)
  closeAtEnd(t, db)
  return { db, path }
}

// ---------------------------------------------------------------------------------------------
// Basic reads and writes

test('puts, reads, overwrites and deletes a key', async (t) => {
  const { db } = await fresh(t)
  t.is(db.get('k'), undefined)
  t.false(db.has('k'))
  t.is(db.getEntry('k'), undefined)

  await db.put('k', { n: 1 })
  t.deepEqual(db.get('k'), { n: 1 })
  t.true(db.has('k'))

  await db.put('k', { n: 2 })
  t.deepEqual(db.get('k'), { n: 2 })

  await db.delete('k')
  t.is(db.get('k'), undefined)
  t.false(db.has('k'))
  t.is(db.getEntry('k'), undefined)

  await db.put('k', 'back')
  t.is(db.get('k'), 'back')
})

test('getEntry reports the timestamp the put resolved with', async (t) => {
  const { db } = await fresh(t)
  const ts1 = await db.put('a', 1)
  const ts2 = await db.put('b', 2)
  t.deepEqual(db.getEntry('a'), { key: 'a', value: 1, ts: ts1 })
  t.deepEqual(db.getEntry('b'), { key: 'b', value: 2, ts: ts2 })
  const ts3 = await db.put('a', 3)
  t.deepEqual(db.getEntry('a'), { key: 'a', value: 3, ts: ts3 })
})

test('a write is visible as soon as its promise resolves', async (t) => {
  const { db } = await fresh(t)
  const pending = Array.from({ length: 50 }, (_, i) => db.put(`k${i}`, i).then((ts) => ({ i, ts })))
  for (const p of pending) {
    const { i, ts } = await p
    t.deepEqual(db.getEntry(`k${i}`), { key: `k${i}`, value: i, ts })
    t.true(db.now() >= ts)
  }
})

test('round-trips every kind of JSON value, and null is a value distinct from absence', async (t) => {
  const { db } = await fresh(t)
  const values: unknown[] = [
    { a: 1, nested: { b: [1, 'x', null, true], c: {} } },
    [1, 2, [3, [4]]],
    0,
    -1.5,
    1e300,
    '',
    'héllo 中 🙂',
    true,
    false,
    null,
  ]
  for (const [i, value] of values.entries()) await db.put(`v${i}`, value)
  for (const [i, value] of values.entries()) t.deepEqual(db.get(`v${i}`), value, `value #${i}`)
  const nullKey = `v${values.indexOf(null)}`
  t.true(db.has(nullKey))
  t.is(db.get(nullKey), null)
  t.deepEqual(db.getEntry(nullKey)?.value, null)
})

test('getMany returns values in the order of the keys, undefined for missing ones', async (t) => {
  const { db } = await fresh(t)
  const tsA = await db.put('a', 1)
  const tsB = await db.put('b', 2)
  const tsA2 = await db.put('a', 10)
  const tsDel = await db.delete('b')
  t.deepEqual(db.getMany(['a', 'missing', 'b', 'a']), [10, undefined, undefined, 10])
  t.deepEqual(db.getMany([]), [])
  t.deepEqual(db.getMany(['a', 'b'], { at: tsA - 1 }), [undefined, undefined])
  t.deepEqual(db.getMany(['a', 'b'], { at: tsA }), [1, undefined])
  t.deepEqual(db.getMany(['a', 'b'], { at: tsB }), [1, 2])
  t.deepEqual(db.getMany(['b', 'a'], { at: tsA2 }), [2, 10])
  t.deepEqual(db.getMany(['a', 'b'], { at: tsDel - 1 }), [10, 2])
  t.deepEqual(db.getMany(['a', 'b'], { at: tsDel }), [10, undefined])
})

// ---------------------------------------------------------------------------------------------
// Reading the past

test('reads a key as it was at each past timestamp', async (t) => {
  const { db } = await fresh(t)
  const ts1 = await db.put('k', 'one')
  const ts2 = await db.put('k', 'two')
  const ts3 = await db.delete('k')
  const ts4 = await db.put('k', 'four')

  const expectations: [number, string | undefined, number | undefined][] = [
    [0, undefined, undefined],
    [ts1 - 1, undefined, undefined],
    [ts1, 'one', ts1],
    [ts2 - 1, 'one', ts1],
    [ts2, 'two', ts2],
    [ts3 - 1, 'two', ts2],
    [ts3, undefined, undefined],
    [ts4 - 1, undefined, undefined],
    [ts4, 'four', ts4],
    [ts4 + 1, 'four', ts4],
    [Number.MAX_SAFE_INTEGER, 'four', ts4],
  ]
  for (const [at, value, ts] of expectations) {
    t.is(db.get('k', { at }), value, `get at ${at}`)
    t.is(db.has('k', { at }), value !== undefined, `has at ${at}`)
    t.deepEqual(db.getEntry('k', { at }), ts === undefined ? undefined : { key: 'k', value, ts }, `getEntry at ${at}`)
  }
  // without `at`: now
  t.is(db.get('k'), 'four')
})

test('reads a key as it was before the delete', async (t) => {
  const { db } = await fresh(t)
  const put = await db.put('user', { name: 'ada' })
  const del = await db.delete('user')
  t.is(db.get('user'), undefined)
  t.deepEqual(db.get('user', { at: del - 1 }), { name: 'ada' })
  t.deepEqual(db.getEntry('user', { at: del - 1 }), { key: 'user', value: { name: 'ada' }, ts: put })
  t.true(db.has('user', { at: put }))
  t.false(db.has('user', { at: del }))
})

test('accepts Date values for `at`, meaning their millisecond times 1000', async (t) => {
  const { db } = await fresh(t)
  const ts1 = await db.put('k', 'a')
  await sleep(15)
  const between = new Date()
  await sleep(15)
  const ts2 = await db.put('k', 'b')

  // independent of the clock: a Date means ms * 1000 microseconds
  const dates = [
    new Date(0),
    new Date(Math.floor(ts1 / 1000) - 1),
    new Date(Math.ceil(ts1 / 1000)),
    between,
    new Date(Math.floor(ts2 / 1000) - 1),
    new Date(Math.ceil(ts2 / 1000)),
    new Date(Math.ceil(ts2 / 1000) + 60_000),
  ]
  for (const date of dates) {
    const at = date.getTime() * 1000
    t.is(db.get('k', { at: date }), db.get('k', { at }), `get at ${date.toISOString()}`)
    t.is(db.has('k', { at: date }), db.has('k', { at }), `has at ${date.toISOString()}`)
    t.deepEqual(db.getEntry('k', { at: date }), db.getEntry('k', { at }), `getEntry at ${date.toISOString()}`)
    t.deepEqual(db.getMany(['k'], { at: date }), db.getMany(['k'], { at }))
    t.deepEqual(plainEntries(db.getRange({ at: date })), plainEntries(db.getRange({ at })))
  }
  t.is(db.get('k', { at: new Date(0) }), undefined)
  t.is(db.get('k', { at: new Date(Math.floor(ts1 / 1000) - 1) }), undefined)
  t.is(db.get('k', { at: new Date(Math.ceil(ts2 / 1000)) }), 'b')
  // timestamps are microseconds since the epoch, so a Date taken between the writes sees the first
  t.is(db.get('k', { at: between }), 'a')
})

test('commit timestamps are integer microseconds since the Unix epoch', async (t) => {
  const { db } = await fresh(t)
  const before = Date.now()
  const ts = await db.put('k', 1)
  const after = Date.now()
  t.true(Number.isSafeInteger(ts), `ts ${ts} is not a safe integer`)
  // generous slack: the engine may run slightly ahead of the wall clock to keep ts increasing
  t.true(ts >= (before - 1000) * 1000 && ts <= (after + 60_000) * 1000, `ts ${ts} is not near ${before * 1000}`)
})

// ---------------------------------------------------------------------------------------------
// Deletes and history

test('keeps the value in history after a delete, with the tombstone marked deleted', async (t) => {
  const { db } = await fresh(t)
  const ts1 = await db.put('k', 'v1')
  const ts2 = await db.delete('k')
  t.deepEqual(plainVersions(db.history('k')), [
    { key: 'k', ts: ts1, deleted: false, value: 'v1' },
    { key: 'k', ts: ts2, deleted: true },
  ])
  const tomb = [...db.history('k')][1]
  t.true(tomb?.deleted)
  t.is(tomb?.value, undefined)
})

test('deleting a key that never existed still writes a tombstone version', async (t) => {
  const { db } = await fresh(t)
  const ts = await db.delete('ghost')
  t.true(Number.isSafeInteger(ts))
  t.is(db.get('ghost'), undefined)
  t.deepEqual(plainVersions(db.history('ghost')), [{ key: 'ghost', ts, deleted: true }])
})

test('history honours since (inclusive), until (exclusive), reverse and limit', async (t) => {
  const { db } = await fresh(t)
  const stamps: number[] = []
  stamps.push(await db.put('h', 'v0'))
  await db.put('other', 'x')
  stamps.push(await db.put('h', 'v1'))
  stamps.push(await db.delete('h'))
  await db.put('other', 'y')
  stamps.push(await db.put('h', 'v3'))
  stamps.push(await db.put('h', 'v3')) // same value again is still a new version
  const ts = stamps as [number, number, number, number, number]

  const all = [
    { key: 'h', ts: ts[0], deleted: false, value: 'v0' },
    { key: 'h', ts: ts[1], deleted: false, value: 'v1' },
    { key: 'h', ts: ts[2], deleted: true },
    { key: 'h', ts: ts[3], deleted: false, value: 'v3' },
    { key: 'h', ts: ts[4], deleted: false, value: 'v3' },
  ]
  const h = (opts?: Parameters<typeof db.history>[1]) => plainVersions(db.history('h', opts))

  t.deepEqual(h(), all)
  t.deepEqual(h({}), all)
  t.deepEqual(h({ since: ts[1] }), all.slice(1))
  t.deepEqual(h({ since: ts[1] + 1 }), all.slice(2))
  t.deepEqual(h({ until: ts[3] }), all.slice(0, 3))
  t.deepEqual(h({ until: ts[3] + 1 }), all.slice(0, 4))
  t.deepEqual(h({ since: ts[1], until: ts[3] }), all.slice(1, 3))
  t.deepEqual(h({ since: ts[2], until: ts[2] }), [])
  t.deepEqual(h({ since: ts[4] + 1 }), [])
  t.deepEqual(h({ until: ts[0] }), [])
  t.deepEqual(h({ reverse: true }), [...all].reverse())
  t.deepEqual(h({ limit: 2 }), all.slice(0, 2))
  t.deepEqual(h({ reverse: true, limit: 2 }), [all[4]!, all[3]!])
  t.deepEqual(h({ since: ts[1], reverse: true, limit: 3 }), [all[4]!, all[3]!, all[2]!])
  t.deepEqual(h({ until: ts[3], reverse: true }), [all[2]!, all[1]!, all[0]!])
  t.deepEqual(h({ limit: 100 }), all)
  t.deepEqual(plainVersions(db.history('never-written')), [])
  t.deepEqual(
    plainVersions(db.history('other')).map((v) => v.value),
    ['x', 'y'],
  )
})

// ---------------------------------------------------------------------------------------------
// Batches

test('a batch shares one timestamp across its puts and deletes', async (t) => {
  const { db } = await fresh(t)
  const before = await db.put('gone', 'soon')
  await db.put('a', 'old')
  const ts = await db.batch([
    { type: 'put', key: 'a', value: 1 },
    { type: 'put', key: 'b', value: 2 },
    { type: 'del', key: 'gone' },
  ])
  t.true(ts > before)
  t.deepEqual(db.getEntry('a'), { key: 'a', value: 1, ts })
  t.deepEqual(db.getEntry('b'), { key: 'b', value: 2, ts })
  t.is(db.get('gone'), undefined)
  const goneHistory = plainVersions(db.history('gone'))
  t.deepEqual(goneHistory[goneHistory.length - 1], { key: 'gone', ts, deleted: true })

  // just before the batch, none of it is visible
  t.deepEqual(db.getMany(['a', 'b', 'gone'], { at: ts - 1 }), ['old', undefined, 'soon'])
  t.true(db.now() >= ts)
})

test('a batch of puts to many keys is read back whole', async (t) => {
  const { db } = await fresh(t)
  const ops = Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `batch-${String(i).padStart(3, '0')}`, value: i }))
  const ts = await db.batch(ops)
  const range = plainEntries(db.getRange({ gte: 'batch-', lt: 'batch.' }))
  t.is(range.length, 200)
  t.true(range.every((e, i) => e.ts === ts && e.value === i))
  t.deepEqual(plainEntries(db.getRange({ at: ts - 1 })), [])
})

test('batches issued together get distinct timestamps', async (t) => {
  const { db } = await fresh(t)
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      db.batch([
        { type: 'put', key: `x${i}`, value: i },
        { type: 'put', key: `y${i}`, value: i },
      ]),
    ),
  )
  t.is(new Set(results).size, results.length)
  for (const [i, ts] of results.entries()) {
    t.is(db.getEntry(`x${i}`)?.ts, ts)
    t.is(db.getEntry(`y${i}`)?.ts, ts)
  }
})

// ---------------------------------------------------------------------------------------------
// Ranges

async function abcde(t: ExecutionContext) {
  const { db } = await fresh(t)
  const stamps: Record<string, number> = {}
  for (const [i, key] of ['c', 'a', 'e', 'b', 'd'].entries()) stamps[key] = await db.put(key, i)
  const ts = stamps as Record<'a' | 'b' | 'c' | 'd' | 'e', number>
  const keys = (opts?: Parameters<typeof db.getRange>[0]) => Array.from(db.getRange(opts), (e) => e.key)
  return { db, ts, keys }
}

test('getRange yields key, value and ts in key order', async (t) => {
  const { db, ts } = await abcde(t)
  t.deepEqual(plainEntries(db.getRange()), [
    { key: 'a', value: 1, ts: ts.a },
    { key: 'b', value: 3, ts: ts.b },
    { key: 'c', value: 0, ts: ts.c },
    { key: 'd', value: 4, ts: ts.d },
    { key: 'e', value: 2, ts: ts.e },
  ])
})

test('getRange honours every kind of bound', async (t) => {
  const { keys } = await abcde(t)
  t.deepEqual(keys(), ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(keys({}), ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(keys({ gt: 'b' }), ['c', 'd', 'e'])
  t.deepEqual(keys({ gte: 'b' }), ['b', 'c', 'd', 'e'])
  t.deepEqual(keys({ lt: 'd' }), ['a', 'b', 'c'])
  t.deepEqual(keys({ lte: 'd' }), ['a', 'b', 'c', 'd'])
  t.deepEqual(keys({ gt: 'a', lt: 'e' }), ['b', 'c', 'd'])
  t.deepEqual(keys({ gte: 'b', lte: 'd' }), ['b', 'c', 'd'])
  t.deepEqual(keys({ gt: 'b', lte: 'd' }), ['c', 'd'])
  t.deepEqual(keys({ gte: 'b', lt: 'd' }), ['b', 'c'])
  t.deepEqual(keys({ gte: 'c', lte: 'c' }), ['c'])
  t.deepEqual(keys({ gt: 'c', lt: 'c' }), [])
  t.deepEqual(keys({ gt: 'd', lt: 'b' }), [])
  // bounds between existing keys
  t.deepEqual(keys({ gt: 'bb' }), ['c', 'd', 'e'])
  t.deepEqual(keys({ gte: 'bb' }), ['c', 'd', 'e'])
  t.deepEqual(keys({ lt: 'bb' }), ['a', 'b'])
  t.deepEqual(keys({ lte: 'bb' }), ['a', 'b'])
  // bounds outside the keys
  t.deepEqual(keys({ gte: 'A', lte: 'z' }), ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(keys({ gt: 'e' }), [])
  t.deepEqual(keys({ lt: 'a' }), [])
})

test('getRange honours reverse and limit, alone and with bounds', async (t) => {
  const { keys } = await abcde(t)
  t.deepEqual(keys({ reverse: true }), ['e', 'd', 'c', 'b', 'a'])
  t.deepEqual(keys({ limit: 2 }), ['a', 'b'])
  t.deepEqual(keys({ limit: 10 }), ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(keys({ reverse: true, limit: 2 }), ['e', 'd'])
  t.deepEqual(keys({ gt: 'a', lte: 'd', reverse: true }), ['d', 'c', 'b'])
  t.deepEqual(keys({ gte: 'b', lt: 'e', reverse: true, limit: 2 }), ['d', 'c'])
  t.deepEqual(keys({ gt: 'b', limit: 1 }), ['c'])
  t.deepEqual(keys({ lt: 'c', reverse: true, limit: 1 }), ['b'])
  t.deepEqual(keys({ lte: 'c', reverse: true }), ['c', 'b', 'a'])
})

test('getRange skips deleted keys and reads the past with `at`', async (t) => {
  const { db, ts, keys } = await abcde(t)
  const del = await db.delete('c')
  const upd = await db.put('a', 'new')
  t.deepEqual(keys(), ['a', 'b', 'd', 'e'])
  t.deepEqual(keys({ at: del - 1 }), ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(keys({ at: del }), ['a', 'b', 'd', 'e'])
  // the first three puts were c, a, e
  t.deepEqual(keys({ at: ts.e }), ['a', 'c', 'e'])
  t.deepEqual(keys({ at: ts.e - 1 }), ['a', 'c'])
  t.deepEqual(keys({ at: ts.c - 1 }), [])
  t.deepEqual(keys({ at: ts.e, reverse: true, limit: 2 }), ['e', 'c'])
  t.deepEqual(keys({ at: del - 1, gt: 'b', lt: 'e' }), ['c', 'd'])
  t.deepEqual(plainEntries(db.getRange({ at: upd - 1, lte: 'a' })), [{ key: 'a', value: 1, ts: ts.a }])
  t.deepEqual(plainEntries(db.getRange({ at: upd, lte: 'a' })), [{ key: 'a', value: 'new', ts: upd }])
})

test('getRange reads one snapshot, fixed when it is called', async (t) => {
  const { db, ts } = await abcde(t)
  const iterable = db.getRange()
  const reversed = db.getRange({ reverse: true })
  await db.put('aa', 'inserted')
  await db.put('a', 'changed')
  await db.delete('d')
  await db.batch([
    { type: 'put', key: 'f', value: 5 },
    { type: 'del', key: 'b' },
  ])
  const expected = [
    { key: 'a', value: 1, ts: ts.a },
    { key: 'b', value: 3, ts: ts.b },
    { key: 'c', value: 0, ts: ts.c },
    { key: 'd', value: 4, ts: ts.d },
    { key: 'e', value: 2, ts: ts.e },
  ]
  t.deepEqual(plainEntries(iterable), expected)
  t.deepEqual(plainEntries(reversed), [...expected].reverse())
})

test('getRange with an `at` in the future reads one snapshot, fixed when it is called', async (t) => {
  const { db } = await fresh(t)
  const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`)
  await db.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: i })))
  // Far ahead of any commit this test makes: without a cap at now, the writes below (their
  // timestamps are below it) would show up when the range is iterated.
  const range = db.getRange({ at: db.now() + 3_600_000_000 })
  await db.put('k200', 'late')
  await db.delete('k050')
  t.deepEqual(range.asArray.map((e) => e.key), keys)
  const seen: string[] = []
  for (const { key } of range) {
    if (seen.length === 0) await db.put('k300', 'later')
    seen.push(key)
  }
  t.deepEqual(seen, keys)
})

test('getRange stays on its snapshot while writes land during the iteration', async (t) => {
  const { db } = await fresh(t)
  const n = 300
  const ts0 = await db.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: i })))
  const seen: number[] = []
  let i = 0
  for (const entry of db.getRange()) {
    t.is(entry.ts, ts0)
    seen.push(entry.value as number)
    if (i % 50 === 0) {
      // overwrite keys ahead of and behind the cursor, add and delete some
      await db.batch([
        { type: 'put', key: `k${String(n - 1 - i).padStart(4, '0')}`, value: -1 },
        { type: 'put', key: `k${String(i).padStart(4, '0')}a`, value: -2 },
        { type: 'del', key: `k${String(Math.min(n - 1, i + 7)).padStart(4, '0')}` },
      ])
    }
    i++
  }
  t.deepEqual(seen, Array.from({ length: n }, (_, j) => j))
})

test('range results can be mapped, filtered, walked, collected and iterated again', async (t) => {
  const { db } = await abcde(t)
  const range = db.getRange()
  t.deepEqual([...range.map((e) => e.key)], ['a', 'b', 'c', 'd', 'e'])
  t.deepEqual(
    range
      .filter((e) => (e.value as number) % 2 === 0)
      .map((e, i) => `${i}:${e.key}`)
      .asArray,
    ['0:c', '1:d', '2:e'],
  )
  const walked: string[] = []
  range.forEach((e, i) => walked.push(`${i}:${e.key}`))
  t.deepEqual(walked, ['0:a', '1:b', '2:c', '3:d', '4:e'])
  t.deepEqual(plainEntries(range.asArray), plainEntries(range))

  // stopping early and iterating again, after more writes: the same snapshot from the start
  for (const entry of range) {
    t.is(entry.key, 'a')
    break
  }
  await db.put('0', 'zero')
  await db.delete('e')
  t.deepEqual(
    range.asArray.map((e) => e.key),
    ['a', 'b', 'c', 'd', 'e'],
  )
  t.deepEqual(
    db.getRange().asArray.map((e) => e.key),
    ['0', 'a', 'b', 'c', 'd'],
  )

  const history = db.history('e')
  t.deepEqual(
    history.map((v) => v.deleted).asArray,
    [false, true],
  )
})

test('binary keys are ordered by their bytes', async (t) => {
  const path = tempDbPath(t)
  const db = closeAtEnd(t, await open<Buffer, string>(path, { keyEncoding: 'binary', valueEncoding: 'utf8' }))
  const keys = [[0xff], [0x00, 0x01], [0x00], [0x7f], [0x80], [0x00, 0x00], [0x01]].map((b) => Buffer.from(b))
  for (const key of keys) await db.put(key, hex(key))
  const sorted = ['00', '0000', '0001', '01', '7f', '80', 'ff']
  const rangeKeys = (opts?: Parameters<typeof db.getRange>[0]) => Array.from(db.getRange(opts), (e) => hex(e.key))

  t.deepEqual(rangeKeys(), sorted)
  t.deepEqual(
    Array.from(db.getRange(), (e) => e.value),
    sorted,
  )
  t.deepEqual(rangeKeys({ reverse: true }), [...sorted].reverse())
  t.deepEqual(rangeKeys({ gt: Buffer.from([0x00]) }), sorted.slice(1))
  t.deepEqual(rangeKeys({ gte: Buffer.from([0x00, 0x01]), lt: Buffer.from([0x80]) }), ['0001', '01', '7f'])
  t.deepEqual(rangeKeys({ lte: Buffer.from([0x00, 0x00]) }), ['00', '0000'])
  t.deepEqual(rangeKeys({ gt: Buffer.from([0x7f]), reverse: true, limit: 1 }), ['ff'])
  // Uint8Array and Buffer name the same key
  t.is(db.get(new Uint8Array([0x00, 0x01]) as Buffer), '0001')
  t.is(db.get(Buffer.from([0x00, 0x01])), '0001')
  t.false(db.has(Buffer.from([0x00, 0x02])))
  t.true(Buffer.isBuffer(db.getEntry(Buffer.from([0x7f]))?.key) || db.getEntry(Buffer.from([0x7f]))?.key instanceof Uint8Array)
})

test('utf8 keys are ordered by their encoded bytes, not by UTF-16 code units', async (t) => {
  const { db } = await fresh(t)
  // '🙂' (UTF-16 D83D..) sorts before 'Ａ' (FF21) in JS, after it in UTF-8 (F0.. > EF..)
  const keys = ['🙂', 'Ａ', 'a', 'B', 'é', '中', 'aa']
  for (const key of keys) await db.put(key, key)
  const expected = ['B', 'a', 'aa', 'é', '中', 'Ａ', '🙂']
  t.deepEqual(
    Array.from(db.getRange(), (e) => e.key),
    expected,
  )
  t.deepEqual(
    Array.from(db.getRange({ gt: '中' }), (e) => e.key),
    ['Ａ', '🙂'],
  )
  t.deepEqual(
    Array.from(db.getRange({ lt: 'Ａ', gte: 'é' }), (e) => e.key),
    ['é', '中'],
  )
})

// ---------------------------------------------------------------------------------------------
// Timestamps

test('now() is at least every timestamp a write resolved with', async (t) => {
  const { db } = await fresh(t)
  t.is(typeof db.now(), 'number')
  let previousNow = db.now()
  for (let i = 0; i < 100; i++) {
    const ts = await (i % 3 === 0 ? db.delete(`k${i % 7}`) : db.put(`k${i % 7}`, i))
    const now = db.now()
    t.true(now >= ts, `now ${now} < ts ${ts}`)
    t.true(now >= previousNow)
    previousNow = now
  }
  const all = await Promise.all(Array.from({ length: 64 }, (_, i) => db.put(`c${i}`, i)))
  t.true(db.now() >= Math.max(...all))
})

test('timestamps strictly increase across many writes', async (t) => {
  const { db } = await fresh(t, 'none')
  let last = 0
  for (let i = 0; i < 1000; i++) {
    const ts = await db.put(`k${i % 10}`, i)
    t.true(Number.isSafeInteger(ts))
    if (ts <= last) t.fail(`write #${i} got ts ${ts} <= previous ${last}`)
    last = ts
  }
  // concurrent writes: all distinct, all after what came before
  const concurrent = await Promise.all(
    Array.from({ length: 500 }, (_, i) => (i % 5 === 0 ? db.batch([{ type: 'put', key: `b${i}`, value: i }]) : db.put(`p${i}`, i))),
  )
  t.is(new Set(concurrent).size, concurrent.length)
  t.true(Math.min(...concurrent) > last)
  t.pass()
})

test('timestamps keep increasing across close and reopen', async (t) => {
  const path = tempDbPath(t)
  let last = 0
  for (let round = 0; round < 8; round++) {
    const db = await open<string, unknown>(path, { durability: round % 2 ? 'sync' : 'none' })
    t.true(db.now() >= last, `round ${round}: now() ${db.now()} went back below ${last}`)
    for (let i = 0; i < 3; i++) {
      const ts = await db.put('k', round * 10 + i)
      t.true(ts > last, `round ${round}: ts ${ts} <= ${last}`)
      last = ts
    }
    await db.close()
  }
  const db = closeAtEnd(t, await open<string, unknown>(path))
  t.deepEqual(db.getEntry('k'), { key: 'k', value: 72, ts: last })
  t.is(plainVersions(db.history('k')).length, 24)
})

// ---------------------------------------------------------------------------------------------
// Durability, encodings, stats, close

for (const durability of ['sync', 'async', 'none'] as const) {
  test(`writes made with durability '${durability}' read back after close and reopen`, async (t) => {
    const path = tempDbPath(t)
    const db = await open<string, unknown>(path, { durability })
    const ts1 = await db.put('a', { v: 1 })
    const ts2 = await db.put('a', { v: 2 })
    const ts3 = await db.batch([
      { type: 'put', key: 'b', value: [1, 2] },
      { type: 'put', key: 'c', value: 'c' },
      { type: 'del', key: 'a' },
    ])
    const ts4 = await db.delete('c')
    const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => db.put(`p${i}`, i)))
    await db.close()

    for (const reopenDurability of [durability, undefined]) {
      const again = await open<string, unknown>(path, reopenDurability ? { durability: reopenDurability } : undefined)
      try {
        t.is(again.get('a'), undefined)
        t.deepEqual(again.get('a', { at: ts3 - 1 }), { v: 2 })
        t.deepEqual(again.getEntry('b'), { key: 'b', value: [1, 2], ts: ts3 })
        t.is(again.get('c'), undefined)
        t.is(again.get('c', { at: ts4 - 1 }), 'c')
        t.deepEqual(plainVersions(again.history('a')), [
          { key: 'a', ts: ts1, deleted: false, value: { v: 1 } },
          { key: 'a', ts: ts2, deleted: false, value: { v: 2 } },
          { key: 'a', ts: ts3, deleted: true },
        ])
        for (const [i, ts] of concurrent.entries()) t.deepEqual(again.getEntry(`p${i}`), { key: `p${i}`, value: i, ts })
        t.true(again.now() >= Math.max(ts4, ...concurrent))
      } finally {
        await again.close()
      }
    }
  })
}

test('utf8 values round-trip, including empty and non-ASCII strings', async (t) => {
  const path = tempDbPath(t)
  let db = await open<string, string>(path, { valueEncoding: 'utf8' })
  const values = ['', 'plain', 'héllo 中 🙂', '{"not":"parsed"}', 'x'.repeat(100_000)]
  for (const [i, value] of values.entries()) await db.put(`k${i}`, value)
  for (const [i, value] of values.entries()) t.is(db.get(`k${i}`), value)
  t.true(db.has('k0'))
  await db.close()
  db = closeAtEnd(t, await open<string, string>(path, { valueEncoding: 'utf8' }))
  for (const [i, value] of values.entries()) t.is(db.get(`k${i}`), value)
  t.is(typeof db.get('k3'), 'string')
})

test('binary values round-trip byte for byte', async (t) => {
  const path = tempDbPath(t)
  let db = await open<string, Uint8Array>(path, { valueEncoding: 'binary' })
  const big = Buffer.alloc(1 << 20)
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
  const values: Uint8Array[] = [Buffer.alloc(0), Buffer.from([0, 1, 2, 0xff]), new Uint8Array([9, 8, 7]), big]
  for (const [i, value] of values.entries()) await db.put(`k${i}`, value)
  const check = () => {
    for (const [i, value] of values.entries()) {
      const got = db.get(`k${i}`)
      t.true(got instanceof Uint8Array, `k${i} is not bytes`)
      if (got) t.is(hex(got), hex(value), `k${i}`)
    }
  }
  check()
  t.true(db.has('k0'))
  await db.close()
  db = closeAtEnd(t, await open<string, Uint8Array>(path, { valueEncoding: 'binary' }))
  check()
})

test('stats() returns numeric counters', async (t) => {
  const { db } = await fresh(t)
  await db.put('a', 1)
  await db.put('a', 2)
  await db.put('b', 3)
  await db.delete('b')
  const stats = db.stats() as unknown as Record<string, unknown>
  t.is(typeof stats, 'object')
  const entries = Object.entries(stats)
  t.true(entries.length > 0)
  for (const [name, value] of entries) t.is(typeof value, 'number', `stats.${name}`)
  t.is(typeof stats.keys, 'number')
  t.is(typeof stats.versions, 'number')
  t.true((stats.versions as number) >= 4, `versions ${String(stats.versions)}`)
})

test('close drains pending writes, and they are there after reopen', async (t) => {
  const path = tempDbPath(t)
  const db = await open<string, unknown>(path)
  const pending = Array.from({ length: 100 }, (_, i) =>
    i % 10 === 0 ? db.batch([{ type: 'put', key: `b${i}`, value: i }]) : db.put(`k${i}`, i),
  )
  await db.close()
  const results = await Promise.allSettled(pending)
  const rejected = results.filter((r) => r.status === 'rejected')
  t.is(rejected.length, 0, `writes rejected by close: ${rejected.map((r) => String((r as PromiseRejectedResult).reason)).join('; ')}`)
  const again = closeAtEnd(t, await open<string, unknown>(path))
  for (const [i, r] of results.entries()) {
    if (r.status !== 'fulfilled') continue
    const key = i % 10 === 0 ? `b${i}` : `k${i}`
    t.deepEqual(again.getEntry(key), { key, value: i, ts: r.value })
  }
})
