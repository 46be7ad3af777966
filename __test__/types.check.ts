// Type tests for the public API. Never run — only type-checked, with the rest of the project:
//
//   npx tsc -p tsconfig.json --noEmit
//
// Positive uses must compile with the types shown; each misuse is marked `// @ts-expect-error`,
// so the check fails if it ever starts to compile. Nothing here executes: the uses sit inside
// functions that are never called, and the file is not an ava test (its name has no .spec).

import {
  ChangeFeed,
  check,
  ChronoError,
  ClosedError,
  ConflictError,
  InvalidArgumentError,
  open,
  type BackupResult,
  type CheckReport,
  type Codec,
  type Database,
  type Entry,
  type ErrorCode,
  type Isolation,
  type PendingEntry,
  type RangeIterable,
  type Snapshot,
  type Stats,
  type Timestamp,
  type Transaction,
  type TransactionEntry,
  type Version,
} from '../ts/index'

// ---- helpers: exact type equality, checked at compile time

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** Compiles only when T is exactly `true`. */
function assertType<T extends true>(): T | void {}
/** Compiles only when `value`'s type is exactly T (not merely assignable). */
function exact<T>() {
  return <U>(value: U & ([Equal<T, U>] extends [true] ? unknown : never)): U => value
}

interface User {
  name: string
  age: number
}

export async function stringKeysJsonValues(): Promise<void> {
  const db = await open<string, User>('./users')
  assertType<Equal<typeof db, Database<string, User>>>()

  // reads
  const v: User | undefined = db.get('k')
  exact<User | undefined>()(db.get('k', { at: 5 }))
  exact<User | undefined>()(db.get('k', { at: new Date() }))
  exact<Entry<string, User> | undefined>()(db.getEntry('k'))
  exact<boolean>()(db.has('k'))
  exact<Array<User | undefined>>()(db.getMany(['a', 'b'], { at: 1 }))
  const entry = db.getEntry('k')
  if (entry) {
    exact<string>()(entry.key)
    exact<User>()(entry.value)
    exact<Timestamp>()(entry.ts)
  }
  const range = db.getRange({ gte: 'a', lt: 'b', reverse: true, limit: 10, at: new Date() })
  assertType<Equal<typeof range, RangeIterable<Entry<string, User>>>>()
  for (const e of range) exact<number>()(e.value.age)
  exact<Array<Entry<string, User>>>()(range.asArray)
  exact<RangeIterable<string>>()(range.map((e) => e.value.name))
  exact<Timestamp>()(db.now())
  exact<Stats>()(db.stats())

  // Version narrowing on `deleted`
  for (const version of db.history('k', { since: 0, until: new Date(), reverse: true, limit: 3 })) {
    assertType<Equal<typeof version, Version<string, User>>>()
    if (version.deleted) {
      exact<undefined>()(version.value)
    } else {
      exact<User>()(version.value)
      const age: number = version.value.age
    }
    // @ts-expect-error -- value may be undefined (a tombstone) until `deleted` is checked
    const unchecked: User = version.value
  }

  // writes
  exact<Promise<Timestamp>>()(db.put('k', { name: 'a', age: 1 }))
  exact<Promise<Timestamp>>()(db.delete('k'))
  exact<Promise<Timestamp>>()(
    db.batch([
      { type: 'put', key: 'a', value: { name: 'a', age: 1 } },
      { type: 'del', key: 'b' },
    ]),
  )

  // misuse
  // @ts-expect-error -- wrong key type
  db.get(1)
  // @ts-expect-error -- wrong key type
  db.put(Buffer.from('k'), { name: 'a', age: 1 })
  // @ts-expect-error -- wrong value type
  db.put('k', 'not a user')
  // @ts-expect-error -- missing a field of the value type
  db.put('k', { name: 'a' })
  // @ts-expect-error -- missing value
  db.put('k')
  // @ts-expect-error -- missing key
  db.get()
  // @ts-expect-error -- `at` must be a number or a Date
  db.get('k', { at: '2024-01-01' })
  // @ts-expect-error -- unknown read option
  db.get('k', { since: 1 })
  // @ts-expect-error -- getMany takes an array of keys
  db.getMany('a')
  // @ts-expect-error -- unknown batch op type
  db.batch([{ type: 'set', key: 'a', value: { name: 'a', age: 1 } }])
  // @ts-expect-error -- a put op needs a value of the value type
  db.batch([{ type: 'put', key: 'a', value: 5 }])
  // @ts-expect-error -- limit is a number
  db.getRange({ limit: '10' })
  // @ts-expect-error -- reads are synchronous: no promise to await for a value
  const notAPromise: Promise<User | undefined> = db.get('k')
  void v
  void notAPromise
}

export async function binaryKeysUtf8Values(): Promise<void> {
  const db = await open<Buffer, string>('./bin', { keyEncoding: 'binary', valueEncoding: 'utf8' })
  assertType<Equal<typeof db, Database<Buffer, string>>>()
  exact<string | undefined>()(db.get(Buffer.from([1, 2])))
  for (const e of db.getRange({ gte: Buffer.from([0]), lt: Buffer.from([0xff]) })) {
    exact<Buffer>()(e.key)
    exact<string>()(e.value)
  }
  await db.put(Buffer.from([1]), 'one')
  // @ts-expect-error -- string keys on a binary-keyed database
  db.get('k')
  // @ts-expect-error -- wrong value type
  await db.put(Buffer.from([1]), 1)
  // @ts-expect-error -- a range bound of the wrong key type
  db.getRange({ gte: 'a' })

  // The encodings must fit the key and value types.
  // @ts-expect-error -- 'utf8' keys cannot give Buffer keys
  await open<Buffer, string>('./x', { keyEncoding: 'utf8' })
  // @ts-expect-error -- 'binary' keys cannot give string keys
  await open<string, string>('./x', { keyEncoding: 'binary' })
  // @ts-expect-error -- 'utf8' values cannot give number values
  await open<string, number>('./x', { valueEncoding: 'utf8' })
  // @ts-expect-error -- unknown durability
  await open('./x', { durability: 'fast' })
  // @ts-expect-error -- unknown open option
  await open('./x', { cacheSize: 1 })
}

export async function customCodecs(): Promise<void> {
  const dateKeys: Codec<Date> = {
    encode: (d) => Buffer.from(d.toISOString()),
    decode: (b) => new Date(Buffer.from(b).toString()),
  }
  const db = await open<Date, bigint>('./codec', {
    keyEncoding: dateKeys,
    valueEncoding: { encode: (n) => Buffer.from(n.toString()), decode: (b) => BigInt(Buffer.from(b).toString()) },
  })
  exact<bigint | undefined>()(db.get(new Date()))
  // @ts-expect-error -- a codec of the wrong type
  await open<string, number>('./codec', { keyEncoding: dateKeys })
}

export async function transactions(db: Database<string, User>): Promise<void> {
  const tx = db.beginTransaction({ isolation: 'serializable' })
  assertType<Equal<typeof tx, Transaction<string, User>>>()
  exact<Timestamp>()(tx.readTs)
  exact<Isolation>()(tx.isolation)
  exact<Timestamp | undefined>()(tx.commitTs)
  exact<boolean>()(tx.active)
  exact<User | undefined>()(tx.get('k'))
  exact<boolean>()(tx.has('k'))
  tx.put('k', { name: 'a', age: 1 })
  tx.delete('k')

  // TransactionEntry narrowing on `pending`
  const e = tx.getEntry('k')
  assertType<Equal<typeof e, TransactionEntry<string, User> | undefined>>()
  if (e !== undefined) {
    exact<User>()(e.value)
    if (e.pending) {
      assertType<Equal<typeof e, PendingEntry<string, User>>>()
      exact<true>()(e.pending)
      exact<undefined>()(e.ts)
    } else {
      assertType<Equal<typeof e, Entry<string, User>>>()
      exact<Timestamp>()(e.ts)
    }
    // narrowing on the timestamp works too
    if (e.ts === undefined) exact<true>()(e.pending)
    // @ts-expect-error -- without narrowing, ts may be undefined
    exact<Timestamp>()(e.ts)
  }
  for (const row of tx.getRange({ gte: 'a', limit: 5 })) {
    assertType<Equal<typeof row, TransactionEntry<string, User>>>()
    // @ts-expect-error -- ts is undefined for a pending entry
    const ts: Timestamp = row.ts
    void ts
  }
  exact<Promise<Timestamp>>()(tx.commit())
  tx.abort()

  // db.transaction infers the callback's result
  const age = await db.transaction(async (t) => t.get('k')?.age, { isolation: 'snapshot', retries: 5 })
  exact<number | undefined>()(age)
  const sync = await db.transaction((t) => {
    t.put('k', { name: 'b', age: 2 })
    return 'done' as const
  })
  exact<'done'>()(sync)

  // misuse
  // @ts-expect-error -- wrong value type in a transaction
  tx.put('k', 42)
  // @ts-expect-error -- wrong key type in a transaction
  tx.get(5)
  // @ts-expect-error -- missing value
  tx.put('k')
  // @ts-expect-error -- a transaction reads at its readTs: no `at`
  tx.getRange({ at: 5 })
  // @ts-expect-error -- unknown isolation level
  db.beginTransaction({ isolation: 'read-committed' })
  // @ts-expect-error -- beginTransaction takes no retries
  db.beginTransaction({ retries: 3 })
  // @ts-expect-error -- retries is a number
  await db.transaction(async () => 1, { retries: '3' })
  // @ts-expect-error -- the callback is required
  await db.transaction()
  // @ts-expect-error -- readTs is read-only
  tx.readTs = 5
}

export function snapshots(db: Database<string, User>): void {
  const snap = db.snapshot({ at: new Date(0) })
  assertType<Equal<typeof snap, Snapshot<string, User>>>()
  exact<Timestamp>()(snap.ts)
  exact<User | undefined>()(snap.get('k'))
  exact<Entry<string, User> | undefined>()(snap.getEntry('k'))
  exact<boolean>()(snap.has('k'))
  exact<Array<User | undefined>>()(snap.getMany(['a']))
  exact<RangeIterable<Entry<string, User>>>()(snap.getRange({ gt: 'a', reverse: true }))
  snap.close()

  // @ts-expect-error -- a snapshot is read-only: no put
  snap.put('k', { name: 'a', age: 1 })
  // @ts-expect-error -- a snapshot is read-only: no delete
  snap.delete('k')
  // @ts-expect-error -- a snapshot has no commit
  void snap.commit()
  // @ts-expect-error -- a snapshot reads at its own ts: no `at`
  snap.getRange({ at: 5 })
  // @ts-expect-error -- wrong key type
  snap.get(1)
  // @ts-expect-error -- snapshot options take `at` only
  db.snapshot({ isolation: 'snapshot' })
}

export async function liveChanges(): Promise<void> {
  const db = await open<string, User>('./users')
  // One-off listing vs live feed: the `live` flag picks the return type.
  exact<RangeIterable<Version<string, User>>>()(db.changes({ gte: 'a', lt: 'b', since: 0, until: new Date(), limit: 5 }))
  exact<RangeIterable<Version<string, User>>>()(db.changes({ live: false }))
  exact<RangeIterable<Version<string, User>>>()(db.changes())
  const feed = db.changes({ live: true, since: db.now() + 1, gte: 'a', lt: 'b', signal: new AbortController().signal, pollIntervalMs: 10 })
  assertType<Equal<typeof feed, ChangeFeed<string, User>>>()
  for await (const version of feed) {
    assertType<Equal<typeof version, Version<string, User>>>()
    if (!version.deleted) exact<number>()(version.value.age)
  }
  exact<Timestamp>()(feed.position)
  exact<boolean>()(feed.ended)
  // @ts-expect-error -- a live feed has no limit: end it with break, a signal or until
  db.changes({ live: true, limit: 5 })
  // @ts-expect-error -- a live feed is async: no synchronous for...of
  for (const v of db.changes({ live: true })) void v
  // @ts-expect-error -- pollIntervalMs is a number of milliseconds
  db.changes({ live: true, pollIntervalMs: '50' })
  // @ts-expect-error -- wrong key type for the bounds
  db.changes({ live: true, gte: 1 })
}

export function errors(err: unknown): void {
  if (err instanceof ConflictError || err instanceof ClosedError || err instanceof InvalidArgumentError) {
    exact<ErrorCode>()(err.code)
    const base: ChronoError = err
    void base
  }
  if (err instanceof ChronoError) {
    const code: string = err.code
    // @ts-expect-error -- codes are the documented strings, not numbers
    const numeric: number = err.code
    void code
    void numeric
  }
}

export async function maintenance(db: Database<string, User>): Promise<void> {
  exact<BackupResult>()(await db.backup('./copy'))
  exact<BackupResult>()(await db.backup('./copy', { at: new Date(), onProgress: (done: number, total: number) => void [done, total] }))
  exact<Timestamp>()(await db.batchAt(5, [{ type: 'put', key: 'k', value: { name: 'a', age: 1 } }, { type: 'del', key: 'j' }]))
  exact<Timestamp>()(await db.batchAt(new Date(), []))
  const report = await check('./users', { onProgress: () => {} })
  exact<CheckReport>()(report)
  for (const problem of report.problems) {
    exact<string>()(problem.file)
    exact<number>()(problem.offset)
  }
  // @ts-expect-error -- a backup needs a directory
  void db.backup()
  // @ts-expect-error -- backup options take at and onProgress only
  void db.backup('./copy', { since: 5 })
  // @ts-expect-error -- batchAt values are typed like batch
  void db.batchAt(5, [{ type: 'put', key: 'k', value: 'not a user' }])
}
