/**
 * Hermitage's anomaly tests (Martin Kleppmann's isolation test suite), as deterministic
 * interleavings of two or three transactions over a table `test` of id -> value, stored as keys
 * '1', '2', ... with numeric JSON values. Each test runs under both isolation levels and states
 * what each level must do: prevent the anomaly (a read stays on its snapshot, or a commit fails
 * with ConflictError), or — for write skew and G2 under snapshot isolation — let it happen.
 */
import test, { type ExecutionContext } from 'ava'

import { ConflictError, open, type Database, type Isolation, type Transaction } from '../ts/index'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

type Db = Database<string, number>
type Tx = Transaction<string, number>
const LEVELS: Isolation[] = ['snapshot', 'serializable']

/** A fresh table with rows (1, 10) and (2, 20). */
async function setup(t: ExecutionContext): Promise<Db> {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t), { durability: 'none' }))
  await db.batch([
    { type: 'put', key: '1', value: 10 },
    { type: 'put', key: '2', value: 20 },
  ])
  return db
}

/** `select * from test` inside a transaction: the rows as [id, value] pairs, ordered by id. */
function rows(tx: Tx): Array<[string, number]> {
  return tx.getRange().asArray.map((e) => [e.key, e.value] as [string, number])
}

/** `select * from test where <predicate>` inside a transaction. */
function where(tx: Tx, predicate: (value: number) => boolean): Array<[string, number]> {
  return rows(tx).filter(([, value]) => predicate(value))
}

function table(db: Db): Array<[string, number]> {
  return db.getRange().asArray.map((e) => [e.key, e.value] as [string, number])
}

for (const isolation of LEVELS) {
  const begin = (db: Db): Tx => db.beginTransaction({ isolation })

  test(`G0 (dirty write / write cycles) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t1.put('1', 11)
    t2.put('1', 12)
    t1.put('2', 21)
    await t1.commit()
    t2.put('2', 22)
    await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
    t.deepEqual(table(db), [['1', 11], ['2', 21]])
  })

  test(`G1a (aborted reads) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t1.put('1', 101)
    t1.put('2', 102)
    t.deepEqual(rows(t2), [['1', 10], ['2', 20]])
    t1.abort()
    t.deepEqual(rows(t2), [['1', 10], ['2', 20]])
    await t2.commit()
    t.deepEqual(table(db), [['1', 10], ['2', 20]])
  })

  test(`G1b (intermediate reads) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t1.put('1', 101)
    t.deepEqual(rows(t2), [['1', 10], ['2', 20]])
    t1.put('1', 11)
    await t1.commit()
    t.deepEqual(rows(t2), [['1', 10], ['2', 20]], 'neither the intermediate nor the final value leaks into the snapshot')
    await t2.commit()
  })

  test(`G1c (circular information flow) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t1.put('1', 11)
    t2.put('2', 22)
    t.is(t1.get('2'), 20)
    t.is(t2.get('1'), 10)
    await t1.commit()
    // Under serializable, t2 read key 1, which t1 changed after t2's snapshot.
    if (isolation === 'serializable') await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
    else await t2.commit()
  })

  test(`OTV (observed transaction vanishes) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t1.put('1', 11)
    t1.put('2', 19)
    t2.put('1', 12)
    await t1.commit()
    const t3 = begin(db)
    t.is(t3.get('1'), 11)
    t2.put('2', 18)
    t.is(t3.get('2'), 19)
    await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
    t.is(t3.get('2'), 19)
    t.is(t3.get('1'), 11)
    await t3.commit()
  })

  test(`PMP (predicate-many-preceders) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.deepEqual(where(t1, (v) => v === 30), [])
    t2.put('3', 30)
    await t2.commit()
    t.deepEqual(where(t1, (v) => v % 3 === 0), [], 'the insert stays invisible to the earlier snapshot')
    await t1.commit()
  })

  test(`PMP with a write predicate is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    for (const [id, value] of rows(t1)) t1.put(id, value + 10)
    t.deepEqual(where(t2, (v) => v === 20), [['2', 20]])
    await t1.commit()
    for (const [id] of where(t2, (v) => v === 20)) t2.delete(id)
    await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
    t.deepEqual(table(db), [['1', 20], ['2', 30]])
  })

  test(`P4 (lost update) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.is(t1.get('1'), 10)
    t.is(t2.get('1'), 10)
    t1.put('1', 11)
    t2.put('1', 11)
    await t1.commit()
    await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
  })

  test(`G-single (read skew) is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.is(t1.get('1'), 10)
    t.is(t2.get('1'), 10)
    t.is(t2.get('2'), 20)
    t2.put('1', 12)
    t2.put('2', 18)
    await t2.commit()
    t.is(t1.get('2'), 20, 'the second read stays on the same snapshot as the first')
    await t1.commit()
  })

  test(`G-single with a write predicate is prevented under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.is(t1.get('1'), 10)
    t.is(t2.get('1'), 10)
    t.is(t2.get('2'), 20)
    t2.put('1', 12)
    t2.put('2', 18)
    await t2.commit()
    for (const [id] of where(t1, (v) => v === 20)) t1.delete(id)
    await t.throwsAsync(t1.commit(), { instanceOf: ConflictError })
    t.deepEqual(table(db), [['1', 12], ['2', 18]])
  })

  test(`G2-item (write skew) ${isolation === 'snapshot' ? 'occurs' : 'is prevented'} under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.deepEqual([t1.get('1'), t1.get('2')], [10, 20])
    t.deepEqual([t2.get('1'), t2.get('2')], [10, 20])
    t1.put('1', 11)
    t2.put('2', 21)
    await t1.commit()
    if (isolation === 'snapshot') {
      await t2.commit()
      t.deepEqual(table(db), [['1', 11], ['2', 21]], 'both commit: the write skew snapshot isolation allows')
    } else {
      await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
      t.deepEqual(table(db), [['1', 11], ['2', 20]])
    }
  })

  test(`G2 (anti-dependency cycles) ${isolation === 'snapshot' ? 'occurs' : 'is prevented'} under ${isolation}`, async (t) => {
    const db = await setup(t)
    const [t1, t2] = [begin(db), begin(db)]
    t.deepEqual(where(t1, (v) => v % 3 === 0), [])
    t.deepEqual(where(t2, (v) => v % 3 === 0), [])
    t1.put('3', 30)
    t2.put('4', 42)
    await t1.commit()
    if (isolation === 'snapshot') {
      await t2.commit()
      t.deepEqual(table(db).map(([id]) => id), ['1', '2', '3', '4'], 'both inserts commit: the G2 anomaly')
    } else {
      await t.throwsAsync(t2.commit(), { instanceOf: ConflictError })
      t.deepEqual(table(db).map(([id]) => id), ['1', '2', '3'])
    }
  })
}
