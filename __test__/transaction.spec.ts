import test from 'ava'

import { ClosedError, ConflictError, InvalidArgumentError, open, ReadOnlyError, type Database } from '../ts/index'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

async function fresh(t: Parameters<typeof tempDbPath>[0]): Promise<Database<string, any>> {
  return closeAtEnd(t, await open(tempDbPath(t), { durability: 'none' }))
}

test('a transaction reads its own writes, merged into ranges in key order', async (t) => {
  const db = await fresh(t)
  await db.batch(['a', 'c', 'e', 'g'].map((key) => ({ type: 'put' as const, key, value: key.toUpperCase() })))
  const tx = db.beginTransaction()
  tx.put('b', 'b!')
  tx.put('c', 'c!')
  tx.delete('e')
  t.is(tx.get('b'), 'b!')
  t.is(tx.get('e'), undefined)
  t.false(tx.has('e'))
  t.deepEqual(tx.getEntry('c'), { key: 'c', value: 'c!', ts: undefined, pending: true })
  const keysOf = (options?: object) => tx.getRange(options).map((e) => `${e.key}=${e.value}`).asArray
  t.deepEqual(keysOf(), ['a=A', 'b=b!', 'c=c!', 'g=G'])
  t.deepEqual(keysOf({ reverse: true }), ['g=G', 'c=c!', 'b=b!', 'a=A'])
  t.deepEqual(keysOf({ gt: 'a', lte: 'e', limit: 2 }), ['b=b!', 'c=c!'])
  t.deepEqual(keysOf({ gte: 'd', reverse: true, limit: 5 }), ['g=G'])
  t.is(db.get('b'), undefined, 'nothing is visible outside before commit')
  const ts = await tx.commit()
  t.is(tx.commitTs, ts)
  t.true(ts > tx.readTs)
  t.deepEqual(db.getRange().map((e) => e.key).asArray, ['a', 'b', 'c', 'g'])
  t.is(db.getEntry('b')?.ts, ts, 'every write of the transaction has its commit timestamp')
  t.is(db.getEntry('c')?.ts, ts)
  t.true(db.history('e').asArray.at(-1)?.deleted)
})

test('a transaction reads one snapshot while others commit', async (t) => {
  const db = await fresh(t)
  await db.put('k', 1)
  const tx = db.beginTransaction()
  await db.put('k', 2)
  await db.put('new', 1)
  t.is(tx.get('k'), 1)
  t.false(tx.has('new'))
  t.deepEqual(tx.getRange().map((e) => e.key).asArray, ['k'])
  t.is(tx.readTs, db.history('k').asArray[0]!.ts)
})

test('db.transaction retries on conflict and returns the callback result', async (t) => {
  const db = await fresh(t)
  await db.put('counter', 0)
  let runs = 0
  const result = await db.transaction(async (tx) => {
    runs++
    const value = tx.get('counter')
    if (runs < 3) await db.put('counter', value + 100) // a competing commit, twice
    tx.put('counter', value + 1)
    return `run ${runs}`
  })
  t.is(result, 'run 3')
  t.is(db.get('counter'), 201)
})

test('db.transaction surfaces the ConflictError once retries are used up', async (t) => {
  const db = await fresh(t)
  await db.put('k', 0)
  let runs = 0
  await t.throwsAsync(
    db.transaction(
      async (tx) => {
        runs++
        tx.put('k', tx.get('k') + 1)
        await db.put('k', 1000 + runs)
      },
      { retries: 2 },
    ),
    { instanceOf: ConflictError, code: 'CHRONOKV_CONFLICT' },
  )
  t.is(runs, 3)
  t.is(db.get('k'), 1003, 'none of the failed attempts wrote anything')
})

test('db.transaction aborts and passes on an error thrown by the callback', async (t) => {
  const db = await fresh(t)
  let seen: unknown
  await t.throwsAsync(
    db.transaction((tx) => {
      seen = tx
      tx.put('k', 1)
      throw new Error('boom')
    }),
    { message: 'boom' },
  )
  t.false(db.has('k'))
  t.throws(() => (seen as { get(k: string): unknown }).get('k'), { instanceOf: ClosedError })
})

test('a finished transaction refuses every call with ClosedError', async (t) => {
  const db = await fresh(t)
  const committed = db.beginTransaction()
  committed.put('a', 1)
  await committed.commit()
  const aborted = db.beginTransaction()
  aborted.put('b', 1)
  aborted.abort()
  for (const tx of [committed, aborted]) {
    t.throws(() => tx.get('a'), { instanceOf: ClosedError })
    t.throws(() => tx.put('a', 2), { instanceOf: ClosedError })
    t.throws(() => tx.getRange(), { instanceOf: ClosedError })
    await t.throwsAsync(tx.commit(), { instanceOf: ClosedError })
  }
  t.false(db.has('b'), 'the aborted write never landed')
  t.is(db.get('a'), 1)
})

test('a read-only transaction commits at its readTs without validation', async (t) => {
  const db = await fresh(t)
  await db.put('k', 1)
  const tx = db.beginTransaction({ isolation: 'serializable' })
  t.is(tx.get('k'), 1)
  await db.put('k', 2)
  t.is(await tx.commit(), tx.readTs)
})

test('transactions reject bad options and bad writes without writing', async (t) => {
  const db = await fresh(t)
  t.throws(() => db.beginTransaction({ isolation: 'strict' as never }), { instanceOf: InvalidArgumentError })
  t.throws(() => db.beginTransaction({ bogus: 1 } as never), { instanceOf: InvalidArgumentError })
  await t.throwsAsync(db.transaction(async () => 1, { retries: -1 }), { instanceOf: InvalidArgumentError })
  await t.throwsAsync(db.transaction('nope' as never), { instanceOf: InvalidArgumentError })
  const tx = db.beginTransaction()
  t.throws(() => tx.put('', 1), { instanceOf: InvalidArgumentError })
  t.throws(() => tx.put('k', 10n), { instanceOf: InvalidArgumentError })
  t.throws(() => tx.getRange({ at: 1 } as never), { instanceOf: InvalidArgumentError })
  tx.put('ok', 1)
  await tx.commit()
  t.deepEqual(db.getRange().map((e) => e.key).asArray, ['ok'])
})

test('a transaction on a read-only database can read but not commit writes', async (t) => {
  const path = tempDbPath(t)
  const writer = await open(path)
  await writer.put('k', 1)
  await writer.close()
  const db = closeAtEnd(t, await open(path, { readOnly: true }))
  const tx = db.beginTransaction()
  t.is(tx.get('k'), 1)
  tx.put('k', 2)
  await t.throwsAsync(tx.commit(), { instanceOf: ReadOnlyError })
  t.is(db.get('k'), 1)
})

test('a snapshot keeps reading the past while commits land, until it is closed', async (t) => {
  const db = await fresh(t)
  await db.put('a', 1)
  const first = await db.put('b', 1)
  const snapshot = db.snapshot()
  await db.put('a', 2)
  await db.delete('b')
  await db.put('c', 3)
  t.is(snapshot.ts, first)
  t.is(snapshot.get('a'), 1)
  t.true(snapshot.has('b'))
  t.deepEqual(snapshot.getMany(['a', 'b', 'c']), [1, 1, undefined])
  t.deepEqual(snapshot.getRange().map((e) => e.key).asArray, ['a', 'b'])
  t.is(snapshot.getEntry('a')?.ts, db.history('a').asArray[0]?.ts)
  const past = db.snapshot({ at: first - 1 })
  t.deepEqual(past.getRange().map((e) => e.key).asArray, ['a'])
  t.throws(() => snapshot.getRange({ at: 1 } as never), { instanceOf: InvalidArgumentError })
  snapshot.close()
  t.throws(() => snapshot.get('a'), { instanceOf: ClosedError })
  t.throws(() => db.snapshot({ at: -1 }), { instanceOf: InvalidArgumentError })
})
