// Bad input, at random: a seeded generator makes CHRONOKV_FUZZ_CALLS (default 12,000) invalid
// calls across the public API — wrong types for every parameter, NaN, Infinity, numbers past
// 2^53, negative and fractional limits and timestamps, empty and over-long keys, unencodable
// values, unknown option names, bad isolation levels and retry counts, calls after close,
// transaction calls after commit, abort and a lost conflict, snapshot calls after close — and
// checks that each one fails with the documented typed error (instanceof the class AND its
// `code`; async methods reject and never throw), and that the databases are unchanged afterwards,
// also after a reopen. Prints `seed=<n>`; replay with CHRONOKV_SEED=<n>.
//
// Inputs that once misbehaved are drawn like every other and pinned by the regression tests at
// the end.

import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'

import { ConflictError, InvalidArgumentError, ClosedError, open } from '../ts/index'
import type { Database, Snapshot, Transaction } from '../ts/index'
import { throwsChrono } from './helpers/errors'
import {
  BAD_BINARY_KEYS,
  BAD_BOOLEANS,
  BAD_ISOLATIONS,
  BAD_JSON_VALUES,
  BAD_LIMITS,
  BAD_RETRIES,
  BAD_TIMES,
  BAD_UTF8_KEYS,
  BAD_UTF8_VALUES,
  NOT_OBJECTS,
  oneOf,
  perform,
  unknownOptionName,
  type Bad,
  type Expected,
  type InvalidCall,
  type Mode,
} from './helpers/fuzz'
import { plainEntries, plainVersions } from './helpers/plain'
import { announceSeed, chooseSeed, Rng } from './helpers/prng'
import { closeAtEnd, tempDir, tempDbPath } from './helpers/tmp'

type Db = Database<string, unknown>
type BinDb = Database<Buffer, string>

const KEYS = ['a', 'b', 'c', 'é', 'long', 'pending', 't']
const BIN_KEYS = [Buffer.from([0]), Buffer.from([1, 2]), Buffer.from([0xff])]

function callCount(): number {
  const raw = process.env.CHRONOKV_FUZZ_CALLS
  if (raw === undefined || raw === '') return 12_000
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`CHRONOKV_FUZZ_CALLS must be a positive integer, got ${raw}`)
  return n
}

/** Everything observable about a database: its clock, counters, live entries and histories. */
function fingerprint<K>(db: Database<K, unknown>, keys: K[]) {
  const stats = db.stats()
  return {
    now: db.now(),
    versions: stats.versions,
    keys: stats.keys,
    range: plainEntries(db.getRange()),
    histories: keys.map((k) => plainVersions(db.history(k))),
  }
}

/** What an open transaction or snapshot sees. */
function view(reader: Transaction<string, unknown> | Snapshot<string, unknown>) {
  return { entries: [...reader.getRange()].map((e) => ({ ...e })), values: KEYS.map((k) => reader.get(k)) }
}

/** Draws from `makers` until the value is not undefined (undefined means "absent" for bounds). */
function defined(rng: Rng, makers: Parameters<typeof oneOf>[1]): Bad {
  for (;;) {
    const b = oneOf(rng, makers)
    if (b.value !== undefined) return b
  }
}

/** An invalid `getRange` options argument. `allowNonObjects` false leaves out non-object options. */
function badRangeOptions(rng: Rng, keyMakers: Parameters<typeof oneOf>[1], validKey: unknown, allowNonObjects = true): Bad {
  const kind = rng.int(allowNonObjects ? 9 : 8)
  switch (kind) {
    case 0: {
      const b = defined(rng, keyMakers)
      const bound = rng.pick(['gt', 'gte', 'lt', 'lte'])
      return { label: `${bound}: ${b.label}`, value: { [bound]: b.value } }
    }
    case 1:
      return { label: 'gt and gte', value: { gt: validKey, gte: validKey } }
    case 2:
      return { label: 'lt and lte', value: { lt: validKey, lte: validKey } }
    case 3: {
      const b = oneOf(rng, BAD_LIMITS)
      return { label: `limit: ${b.label}`, value: { limit: b.value } }
    }
    case 4: {
      const b = oneOf(rng, BAD_BOOLEANS)
      return { label: `reverse: ${b.label}`, value: { reverse: b.value } }
    }
    case 5: {
      const b = oneOf(rng, BAD_TIMES)
      return { label: `at: ${b.label}`, value: { at: b.value } }
    }
    case 6:
      return unknownOptionName(rng, ['since', 'until', 'start', 'end', 'keys', 'values', 'prefix'])
    case 7: {
      // a valid option next to an invalid one
      const b = oneOf(rng, BAD_LIMITS)
      return { label: `gte with limit: ${b.label}`, value: { gte: validKey, reverse: true, limit: b.value } }
    }
    default:
      return oneOf(rng, NOT_OBJECTS)
  }
}

function badReadOptions(rng: Rng): Bad {
  const kind = rng.int(3)
  if (kind === 0) return oneOf(rng, NOT_OBJECTS)
  if (kind === 1) {
    const b = oneOf(rng, BAD_TIMES)
    return { label: `at: ${b.label}`, value: { at: b.value } }
  }
  return unknownOptionName(rng, ['since', 'until', 'limit', 'reverse', 'gte', 'isolation'])
}

function badHistoryOptions(rng: Rng): Bad {
  const kind = rng.int(6)
  if (kind === 0) return oneOf(rng, NOT_OBJECTS)
  if (kind === 1 || kind === 2) {
    const name = kind === 1 ? 'since' : 'until'
    const b = oneOf(rng, BAD_TIMES)
    return { label: `${name}: ${b.label}`, value: { [name]: b.value } }
  }
  if (kind === 3) {
    const b = oneOf(rng, BAD_LIMITS)
    return { label: `limit: ${b.label}`, value: { limit: b.value } }
  }
  if (kind === 4) {
    const b = oneOf(rng, BAD_BOOLEANS)
    return { label: `reverse: ${b.label}`, value: { reverse: b.value } }
  }
  return unknownOptionName(rng, ['at', 'gte', 'lt', 'keys'])
}

/** Not an array of keys (getMany), or an array holding one bad key among good ones. */
function badKeyList(rng: Rng, keyMakers: Parameters<typeof oneOf>[1], good: unknown[]): Bad {
  const kind = rng.int(4)
  if (kind === 0) {
    return rng.pick([
      { label: 'a string', value: 'abc' },
      { label: 'a number', value: 3 },
      { label: 'null', value: null },
      { label: 'undefined', value: undefined },
      { label: 'an array-like object', value: { 0: good[0], length: 1 } },
      { label: 'a Set', value: new Set(good) },
      { label: 'an object', value: { keys: good } },
    ])
  }
  if (kind === 1) {
    const keys = [...good]
    delete keys[rng.int(keys.length)]
    return { label: 'a sparse array', value: keys }
  }
  const b = oneOf(rng, keyMakers)
  const keys = [...good]
  keys.splice(rng.int(keys.length + 1), 0, b.value)
  return { label: `an array holding ${b.label}`, value: keys }
}

function badTransactionOptions(rng: Rng, withRetries: boolean): Bad {
  const kind = rng.int(withRetries ? 4 : 3)
  if (kind === 0) return oneOf(rng, NOT_OBJECTS)
  if (kind === 1) {
    const b = oneOf(rng, BAD_ISOLATIONS)
    return { label: `isolation: ${b.label}`, value: { isolation: b.value } }
  }
  if (kind === 3) {
    const b = oneOf(rng, BAD_RETRIES)
    return { label: `retries: ${b.label}`, value: rng.chance(0.5) ? { retries: b.value } : { isolation: 'serializable', retries: b.value } }
  }
  return unknownOptionName(rng, withRetries ? ['at', 'readOnly', 'timeout', 'retry'] : ['retries', 'at', 'readOnly'])
}

function badOpenOptions(rng: Rng): Bad {
  const field = (name: string, values: Bad[]): Bad => {
    const b = rng.pick(values)
    return { label: `${name}: ${b.label}`, value: { [name]: b.value } }
  }
  const v = (label: string, value: unknown): Bad => ({ label, value })
  const kind = rng.int(10)
  switch (kind) {
    case 0:
      return oneOf(rng, NOT_OBJECTS)
    case 1:
      return unknownOptionName(rng, ['path', 'cacheSize', 'compression', 'encoding', 'sync'])
    case 2:
      return field('durability', [
        v("'fsync'", 'fsync'),
        v("'SYNC'", 'SYNC'),
        v("''", ''),
        v('1', 1),
        v('true', true),
        v('an object', { mode: 'sync' }),
        v('null', null),
      ])
    case 3:
      return field('keyEncoding', [
        v("'json'", 'json'),
        v("'msgpack'", 'msgpack'),
        v("'ascii'", 'ascii'),
        v("'UTF8'", 'UTF8'),
        v('5', 5),
        v('null', null),
        v('a codec without decode', { encode: () => new Uint8Array(1) }),
        v('a codec with non-function members', { encode: 1, decode: 2 }),
      ])
    case 4:
      return field('valueEncoding', [
        v("'xml'", 'xml'),
        v("'base64'", 'base64'),
        v("'JSON'", 'JSON'),
        v('5', 5),
        v('null', null),
        v('a codec without encode', { decode: () => 1 }),
      ])
    case 5: {
      const b = oneOf(rng, BAD_BOOLEANS)
      const name = rng.pick(['createIfMissing', 'readOnly'])
      return { label: `${name}: ${b.label}`, value: { [name]: b.value } }
    }
    case 6:
    case 7: {
      const sub = rng.int(4)
      if (sub === 0) {
        const b = oneOf(rng, NOT_OBJECTS)
        return { label: `retention: ${b.label}`, value: { retention: b.value } }
      }
      if (sub === 1) {
        return field('retention', [
          v('maxAgeMs 0', { maxAgeMs: 0 }),
          v('maxAgeMs -1', { maxAgeMs: -1 }),
          v('maxAgeMs NaN', { maxAgeMs: NaN }),
          v('maxAgeMs Infinity', { maxAgeMs: Infinity }),
          v("maxAgeMs '1d'", { maxAgeMs: '1d' }),
          v('maxAgeMs null', { maxAgeMs: null }),
        ])
      }
      if (sub === 2) {
        return field('retention', [
          v('minVersions 0', { minVersions: 0 }),
          v('minVersions -1', { minVersions: -1 }),
          v('minVersions 1.5', { minVersions: 1.5 }),
          v('minVersions 2^53', { minVersions: 2 ** 53 }),
          v('minVersions NaN', { minVersions: NaN }),
          v("minVersions '2'", { minVersions: '2' }),
        ])
      }
      const u = unknownOptionName(rng, ['maxAge', 'versions', 'ttl'])
      return { label: `retention: ${u.label}`, value: { retention: u.value } }
    }
    default:
      return field('memtableBytes', [
        v('0', 0),
        v('-5', -5),
        v('1.5', 1.5),
        v('NaN', NaN),
        v('Infinity', Infinity),
        v('2^53', 2 ** 53),
        v("'1mb'", '1mb'),
        v('null', null),
      ])
  }
}

test('12,000 random invalid calls each fail with the documented typed error and change nothing', async (t) => {
  t.timeout(180_000)
  const seed = chooseSeed()
  announceSeed(t, seed)
  const rng = new Rng(seed)
  const dir = tempDir(t)

  // ---- the databases and objects in every state
  const db = closeAtEnd(t, await open<string, unknown>(path.join(dir, 'main'), { durability: 'none' }))
  await db.put('a', 1)
  await db.put('b', { two: 2 })
  const early = await db.put('a', 'one')
  await db.delete('b')
  await db.batch([
    { type: 'put', key: 'c', value: [3] },
    { type: 'put', key: 'é', value: 'accent' },
    { type: 'put', key: 'long', value: 'k'.repeat(100) },
  ])
  const bin = closeAtEnd(t, await open<Buffer, string>(path.join(dir, 'bin'), { keyEncoding: 'binary', valueEncoding: 'utf8', durability: 'none' }))
  for (const k of BIN_KEYS) await bin.put(k, k.toString('hex'))
  await bin.delete(BIN_KEYS[1]!)

  const committed = db.beginTransaction()
  committed.put('t', 'committed')
  await committed.commit()
  const committedEmpty = db.beginTransaction({ isolation: 'serializable' })
  committedEmpty.get('a')
  await committedEmpty.commit()
  const aborted = db.beginTransaction()
  aborted.put('never', 1)
  aborted.abort()
  const winner = db.beginTransaction()
  const loser = db.beginTransaction()
  winner.put('c', [3, 'winner'])
  loser.put('c', [3, 'loser'])
  await winner.commit()
  await t.throwsAsync(loser.commit(), { instanceOf: ConflictError })
  const runCommitted = await new Promise<Transaction<string, unknown>>((resolve, reject) => {
    let inside: Transaction<string, unknown> | undefined
    db.transaction((tx) => {
      inside = tx
      tx.put('t', 'run')
    }).then(() => resolve(inside!), reject)
  })
  const finished: Array<[string, Transaction<string, unknown>]> = [
    ['committed', committed],
    ['committed-read-only', committedEmpty],
    ['aborted', aborted],
    ['conflicted', loser],
    ['committed-by-db.transaction', runCommitted],
  ]

  // live objects, used with bad arguments; their views must not change
  const tx = db.beginTransaction()
  tx.put('pending', { p: 1 })
  tx.delete('a')
  const txSerializable = db.beginTransaction({ isolation: 'serializable' })
  txSerializable.get('c')
  const snap = db.snapshot({ at: early })
  const closedSnap = db.snapshot()
  closedSnap.close()
  const binTx = bin.beginTransaction()

  // a closed database, with a transaction and a snapshot opened before it closed
  const gone = await open<string, unknown>(path.join(dir, 'closed'), { durability: 'none' })
  await gone.put('a', 1)
  const goneTx = gone.beginTransaction()
  goneTx.put('buffered', 1)
  const goneReadOnlyTx = gone.beginTransaction()
  const goneSnap = gone.snapshot()
  const goneBefore = fingerprint(gone, KEYS)
  await gone.close()

  const before = {
    db: fingerprint(db, KEYS),
    bin: fingerprint(bin, BIN_KEYS),
    tx: view(tx),
    txSerializable: view(txSerializable),
    snap: view(snap),
  }
  const dirEntries = fs.readdirSync(dir).sort()
  let transactionCallbacks = 0
  const neverRun = () => {
    transactionCallbacks++
  }

  // ---- the call sites
  type Site = { name: string; make: (rng: Rng) => { input: string; run: () => unknown; expect?: Expected; mode?: Mode } }
  const key = (rng: Rng) => oneOf(rng, BAD_UTF8_KEYS)
  const binKey = (rng: Rng) => oneOf(rng, BAD_BINARY_KEYS)
  const okKey = (rng: Rng) => rng.pick(KEYS)
  let openCounter = 0
  const freshPath = () => path.join(dir, `never-created-${openCounter++}`)

  const sites: Site[] = []
  const sync = (name: string, make: Site['make']) => sites.push({ name, make: (r) => ({ mode: 'sync', ...make(r) }) })
  const async = (name: string, make: Site['make']) => sites.push({ name, make: (r) => ({ mode: 'async', ...make(r) }) })

  // Database reads
  for (const method of ['get', 'getEntry', 'has'] as const) {
    sync(`db.${method}(key)`, (r) => {
      const b = key(r)
      return { input: `key: ${b.label}`, run: () => db[method](b.value as never) }
    })
    sync(`db.${method}(key, options)`, (r) => {
      const b = badReadOptions(r)
      return { input: `options: ${b.label}`, run: () => db[method](okKey(r), b.value as never) }
    })
  }
  sync('db.getMany(keys)', (r) => {
    const b = badKeyList(r, BAD_UTF8_KEYS, ['a', 'b', 'c'])
    return { input: `keys: ${b.label}`, run: () => db.getMany(b.value as never) }
  })
  sync('db.getMany(keys, options)', (r) => {
    const b = badReadOptions(r)
    return { input: `options: ${b.label}`, run: () => db.getMany(['a', 'c'], b.value as never) }
  })
  sync('db.getRange(options)', (r) => {
    const b = badRangeOptions(r, BAD_UTF8_KEYS, 'b')
    return { input: b.label, run: () => [...db.getRange(b.value as never)] }
  })
  sync('db.history(key)', (r) => {
    const b = key(r)
    return { input: `key: ${b.label}`, run: () => [...db.history(b.value as never)] }
  })
  sync('db.history(key, options)', (r) => {
    const b = badHistoryOptions(r)
    return { input: b.label, run: () => [...db.history(okKey(r), b.value as never)] }
  })
  // Database writes
  async('db.put(key, value)', (r) => {
    if (r.chance(0.5)) {
      const b = key(r)
      return { input: `key: ${b.label}`, run: () => db.put(b.value as never, 'v') }
    }
    const b = oneOf(r, BAD_JSON_VALUES)
    return { input: `value: ${b.label}`, run: () => db.put(okKey(r), b.value) }
  })
  async('db.delete(key)', (r) => {
    const b = key(r)
    return { input: `key: ${b.label}`, run: () => db.delete(b.value as never) }
  })
  async('db.batch(ops)', (r) => {
    if (r.chance(0.2)) {
      const b = r.pick<Bad>([
        ...[5, 'ops', null, undefined, true].map((value) => ({ label: String(value), value })),
        { label: 'an object', value: { type: 'put', key: 'a', value: 1 } },
        { label: 'an array-like object', value: { 0: { type: 'put', key: 'a', value: 1 }, length: 1 } },
        { label: 'a Set', value: new Set([{ type: 'del', key: 'a' }]) },
      ])
      return { input: `ops: ${b.label}`, run: () => db.batch(b.value as never) }
    }
    const good = Array.from({ length: r.int(5) }, (_, i) =>
      r.chance(0.5) ? { type: 'put', key: okKey(r), value: { i } } : { type: 'del', key: okKey(r) },
    )
    const kind = r.int(8)
    let badOp: Bad
    if (kind === 0) badOp = r.pick<Bad>([null, 5, 'put', {}, []].map((value) => ({ label: JSON.stringify(value), value })))
    else if (kind === 1) {
      badOp = r.pick<Bad>([
        { label: "type 'set'", value: { type: 'set', key: 'a', value: 1 } },
        { label: "type 'PUT'", value: { type: 'PUT', key: 'a', value: 1 } },
        { label: "type 'delete'", value: { type: 'delete', key: 'a' } },
        { label: 'no type', value: { key: 'a', value: 1 } },
        { label: 'a put without a value', value: { type: 'put', key: 'a' } },
      ])
    } else if (kind <= 4) {
      const b = key(r)
      badOp = { label: `key: ${b.label}`, value: { type: r.pick(['put', 'del']), key: b.value, value: 1 } }
    } else {
      const b = oneOf(r, BAD_JSON_VALUES)
      badOp = { label: `value: ${b.label}`, value: { type: 'put', key: okKey(r), value: b.value } }
    }
    const ops: unknown[] = [...good]
    ops.splice(r.int(ops.length + 1), 0, badOp.value)
    return { input: `an op with ${badOp.label} among ${good.length} good ones`, run: () => db.batch(ops as never) }
  })
  // Snapshots and transactions from the database
  sync('db.snapshot(options)', (r) => {
    const b = badReadOptions(r)
    return { input: b.label, run: () => db.snapshot(b.value as never) }
  })
  sync('db.beginTransaction(options)', (r) => {
    const b = badTransactionOptions(r, false)
    return { input: b.label, run: () => db.beginTransaction(b.value as never) }
  })
  async('db.transaction(fn)', (r) => {
    let b: Bad
    do b = r.chance(0.1) ? { label: 'a string', value: 'fn' } : oneOf(r, BAD_UTF8_VALUES)
    while (typeof b.value === 'function')
    return { input: `fn: ${b.label}`, run: () => db.transaction(b.value as never) }
  })
  async('db.transaction(fn, options)', (r) => {
    const b = badTransactionOptions(r, true)
    return { input: b.label, run: () => db.transaction(neverRun, b.value as never) }
  })
  // open()
  async('open(path)', (r) => {
    const b = r.chance(0.3) ? { label: 'the empty string', value: '' } : oneOf(r, BAD_UTF8_VALUES)
    return { input: `path: ${b.label}`, run: () => open(b.value as never) }
  })
  async('open(path, options)', (r) => {
    const b = badOpenOptions(r)
    return { input: b.label, run: () => open(freshPath(), b.value as never) }
  })
  // A database with binary keys and utf8 values
  for (const method of ['get', 'getEntry', 'has'] as const) {
    sync(`bin.${method}(key)`, (r) => {
      const b = binKey(r)
      return { input: `key: ${b.label}`, run: () => bin[method](b.value as never) }
    })
  }
  sync('bin.getMany(keys)', (r) => {
    const b = badKeyList(r, BAD_BINARY_KEYS, BIN_KEYS)
    return { input: `keys: ${b.label}`, run: () => bin.getMany(b.value as never) }
  })
  sync('bin.getRange(options)', (r) => {
    const b = badRangeOptions(r, BAD_BINARY_KEYS, BIN_KEYS[0])
    return { input: b.label, run: () => [...bin.getRange(b.value as never)] }
  })
  sync('bin.history(key)', (r) => {
    const b = binKey(r)
    return { input: `key: ${b.label}`, run: () => [...bin.history(b.value as never)] }
  })
  async('bin.put(key, value)', (r) => {
    if (r.chance(0.5)) {
      const b = binKey(r)
      return { input: `key: ${b.label}`, run: () => bin.put(b.value as never, 'v') }
    }
    const b = oneOf(r, BAD_UTF8_VALUES)
    return { input: `value: ${b.label}`, run: () => bin.put(r.pick(BIN_KEYS), b.value as never) }
  })
  async('bin.batch(ops)', (r) => {
    const badKey = r.chance(0.5)
    const b = badKey ? binKey(r) : oneOf(r, BAD_UTF8_VALUES)
    const op = badKey ? { type: r.pick(['put', 'del']), key: b.value, value: 'v' } : { type: 'put', key: BIN_KEYS[0], value: b.value }
    return { input: `op with ${badKey ? 'key' : 'value'}: ${b.label}`, run: () => bin.batch([{ type: 'del', key: BIN_KEYS[2]! }, op as never]) }
  })
  sync('binTx.put(key, value)', (r) => {
    if (r.chance(0.5)) {
      const b = binKey(r)
      return { input: `key: ${b.label}`, run: () => binTx.put(b.value as never, 'v') }
    }
    const b = oneOf(r, BAD_UTF8_VALUES)
    return { input: `value: ${b.label}`, run: () => binTx.put(BIN_KEYS[0]!, b.value as never) }
  })
  // Live transactions and a live snapshot
  for (const [label, live] of [
    ['tx', tx],
    ['tx(serializable)', txSerializable],
  ] as const) {
    for (const method of ['get', 'getEntry', 'has', 'delete'] as const) {
      sync(`${label}.${method}(key)`, (r) => {
        const b = key(r)
        return { input: `key: ${b.label}`, run: () => live[method](b.value as never) }
      })
    }
    sync(`${label}.put(key, value)`, (r) => {
      if (r.chance(0.5)) {
        const b = key(r)
        return { input: `key: ${b.label}`, run: () => live.put(b.value as never, 1) }
      }
      const b = oneOf(r, BAD_JSON_VALUES)
      return { input: `value: ${b.label}`, run: () => live.put(okKey(r), b.value) }
    })
    sync(`${label}.getRange(options)`, (r) => {
      if (r.chance(0.2)) {
        const at = r.chance(0.5) ? early : oneOf(r, BAD_TIMES).value
        return { input: 'an `at` option', run: () => [...live.getRange({ at } as never)] }
      }
      const b = badRangeOptions(r, BAD_UTF8_KEYS, 'b')
      return { input: b.label, run: () => [...live.getRange(b.value as never)] }
    })
  }
  for (const method of ['get', 'getEntry', 'has'] as const) {
    sync(`snapshot.${method}(key)`, (r) => {
      const b = key(r)
      return { input: `key: ${b.label}`, run: () => snap[method](b.value as never) }
    })
  }
  sync('snapshot.getMany(keys)', (r) => {
    const b = badKeyList(r, BAD_UTF8_KEYS, ['a', 'c'])
    return { input: `keys: ${b.label}`, run: () => snap.getMany(b.value as never) }
  })
  sync('snapshot.getRange(options)', (r) => {
    if (r.chance(0.2)) return { input: 'an `at` option', run: () => [...snap.getRange({ at: early } as never)] }
    const b = badRangeOptions(r, BAD_UTF8_KEYS, 'b')
    return { input: b.label, run: () => [...snap.getRange(b.value as never)] }
  })

  // After commit, abort, a lost conflict: every call is a ClosedError
  for (const [state, finishedTx] of finished) {
    sync(`tx(${state}) reads`, (r) => {
      const k = okKey(r)
      const which = r.int(4)
      return {
        input: ['get', 'getEntry', 'has', 'getRange'][which]!,
        expect: 'closed',
        run: () =>
          which === 0 ? finishedTx.get(k) : which === 1 ? finishedTx.getEntry(k) : which === 2 ? finishedTx.has(k) : [...finishedTx.getRange({ gte: k })],
      }
    })
    sync(`tx(${state}) writes`, (r) => {
      const k = okKey(r)
      return r.chance(0.5)
        ? { input: 'put', expect: 'closed', run: () => finishedTx.put(k, 'late') }
        : { input: 'delete', expect: 'closed', run: () => finishedTx.delete(k) }
    })
    async(`tx(${state}).commit()`, () => ({ input: 'commit again', expect: 'closed', run: () => finishedTx.commit() }))
  }
  sync('snapshot(closed) reads', (r) => {
    const k = okKey(r)
    const which = r.int(5)
    return {
      input: ['get', 'getEntry', 'has', 'getMany', 'getRange'][which]!,
      expect: 'closed',
      run: () =>
        which === 0
          ? closedSnap.get(k)
          : which === 1
            ? closedSnap.getEntry(k)
            : which === 2
              ? closedSnap.has(k)
              : which === 3
                ? closedSnap.getMany([k])
                : [...closedSnap.getRange()],
    }
  })
  // A closed database, and what was opened on it before it closed
  sync('closed db: reads', (r) => {
    const k = okKey(r)
    const calls: Array<[string, () => unknown]> = [
      ['get', () => gone.get(k)],
      ['getEntry', () => gone.getEntry(k, { at: early })],
      ['has', () => gone.has(k)],
      ['getMany', () => gone.getMany([k, 'a'])],
      ['getRange', () => gone.getRange({ gte: k })],
      ['history', () => gone.history(k)],
      ['now', () => gone.now()],
      ['stats', () => gone.stats()],
      ['snapshot', () => gone.snapshot()],
      ['beginTransaction', () => gone.beginTransaction({ isolation: 'serializable' })],
    ]
    const [input, run] = r.pick(calls)
    return { input, run, expect: 'closed' }
  })
  async('closed db: writes', (r) => {
    const k = okKey(r)
    const calls: Array<[string, () => unknown]> = [
      ['put', () => gone.put(k, 'late')],
      ['delete', () => gone.delete(k)],
      ['batch', () => gone.batch([{ type: 'put', key: k, value: 1 }])],
      ['transaction', () => gone.transaction((t2) => t2.put(k, 1))],
      ['transaction with options', () => gone.transaction(neverRun, { isolation: 'serializable', retries: 5 })],
    ]
    const [input, run] = r.pick(calls)
    return { input, run, expect: 'closed' }
  })
  sync('closed db: its transaction', (r) => {
    const k = okKey(r)
    const calls: Array<[string, () => unknown]> = [
      ['get', () => goneTx.get(k)],
      ['getEntry', () => goneTx.getEntry(k)],
      ['has', () => goneTx.has(k)],
      ['getRange', () => [...goneTx.getRange()]],
      ['put', () => goneTx.put(k, 1)],
      ['delete', () => goneTx.delete(k)],
    ]
    const [input, run] = r.pick(calls)
    return { input, run, expect: 'closed' }
  })
  async('closed db: its transaction commits', (r) =>
    r.chance(0.5)
      ? { input: 'commit without writes', expect: 'closed', run: () => goneReadOnlyTx.commit() }
      : { input: 'commit', expect: 'closed', run: () => goneTx.commit() },
  )
  sync('closed db: its snapshot', (r) => {
    const k = okKey(r)
    const calls: Array<[string, () => unknown]> = [
      ['get', () => goneSnap.get(k)],
      ['getEntry', () => goneSnap.getEntry(k)],
      ['has', () => goneSnap.has(k)],
      ['getMany', () => goneSnap.getMany([k])],
      ['getRange', () => [...goneSnap.getRange()]],
    ]
    const [input, run] = r.pick(calls)
    return { input, run, expect: 'closed' }
  })

  // ---- the run
  const total = callCount()
  const perSite = new Map<string, number>(sites.map((s) => [s.name, 0]))
  const failures: string[] = []
  let failureCount = 0
  const started = Date.now()
  for (let i = 0; i < total; i++) {
    const site = rng.pick(sites)
    perSite.set(site.name, perSite.get(site.name)! + 1)
    const made = site.make(rng)
    const call: InvalidCall = { site: site.name, input: made.input, expect: made.expect ?? 'invalid', mode: made.mode!, run: made.run }
    const wrong = await perform(call)
    if (wrong !== undefined) {
      failureCount++
      if (failures.length < 25) failures.push(`#${i} ${call.site} with ${call.input}: ${wrong}`)
    }
    if (i % 2000 === 1999) {
      // localize a state change to a window of calls
      t.deepEqual(fingerprint(db, KEYS), before.db, `the database changed during calls ${i - 1999}..${i}`)
    }
  }
  const elapsed = Date.now() - started
  t.log(`${total} invalid calls over ${sites.length} call sites in ${elapsed} ms (${failureCount} wrong)`)
  t.deepEqual(failures, [], `${failureCount} of ${total} invalid calls did not fail as documented (seed=${seed})`)
  if (total >= 20 * sites.length) {
    t.deepEqual(
      [...perSite].filter(([, n]) => n === 0).map(([name]) => name),
      [],
      'every call site was exercised',
    )
  }

  // ---- nothing changed
  t.is(transactionCallbacks, 0, 'db.transaction never ran a callback when its options were invalid')
  t.deepEqual(fingerprint(db, KEYS), before.db)
  t.deepEqual(fingerprint(bin, BIN_KEYS), before.bin)
  t.deepEqual(view(tx), before.tx, 'a live transaction buffered nothing from invalid calls')
  t.deepEqual(view(txSerializable), before.txSerializable)
  t.deepEqual(view(snap), before.snap)
  t.deepEqual(fs.readdirSync(dir).sort(), dirEntries, 'open() with bad arguments created no directory')
  t.true(tx.active && txSerializable.active)
  // the live transaction still commits what it had buffered, and nothing else
  await tx.commit()
  t.deepEqual(db.get('pending'), { p: 1 })
  t.is(db.get('a'), undefined)
  txSerializable.abort()
  binTx.abort()

  // and a reopen finds the same data (nothing was logged either)
  const afterCommit = fingerprint(db, KEYS)
  await db.close()
  const again = closeAtEnd(t, await open<string, unknown>(path.join(dir, 'main'), { durability: 'none' }))
  t.deepEqual(fingerprint(again, KEYS), afterCommit)
  await bin.close()
  const binAgain = closeAtEnd(t, await open<Buffer, string>(path.join(dir, 'bin'), { keyEncoding: 'binary', valueEncoding: 'utf8' }))
  t.deepEqual(fingerprint(binAgain, BIN_KEYS), before.bin)
  const goneAgain = closeAtEnd(t, await open<string, unknown>(path.join(dir, 'closed'), { durability: 'none' }))
  t.deepEqual(fingerprint(goneAgain, KEYS), goneBefore, 'calls after close wrote nothing')
})

// ---------------------------------------------------------------------------------------------
// Regression tests for facade bugs the fuzzer found (each a minimal reproduction).

test('snapshot.getRange() refuses options that are not an object, as db.getRange() does', async (t) => {
  const db = closeAtEnd(t, await open<string, unknown>(tempDbPath(t), { durability: 'none' }))
  await db.put('a', 1)
  throwsChrono(t, () => db.getRange(5 as never), InvalidArgumentError, 'CHRONOKV_INVALID_ARGUMENT', 'db.getRange(5)')
  const snap = db.snapshot()
  // Snapshot.getRange spreads the argument into { ...options, at }: 5, true and null spread to {}.
  for (const options of [5, true, null, 'x'.length]) {
    throwsChrono(t, () => [...snap.getRange(options as never)], InvalidArgumentError, 'CHRONOKV_INVALID_ARGUMENT', `snapshot.getRange(${String(options)})`)
  }
})

test('put and delete on a transaction of a closed database throw ClosedError', async (t) => {
  const db = await open<string, unknown>(tempDbPath(t), { durability: 'none' })
  const tx = db.beginTransaction()
  await db.close()
  throwsChrono(t, () => tx.get('a'), ClosedError, 'CHRONOKV_CLOSED', 'get (this one is right)')
  // Transaction.put/delete only check the transaction's own state, not the database's.
  throwsChrono(t, () => tx.put('a', 1), ClosedError, 'CHRONOKV_CLOSED', 'put')
  throwsChrono(t, () => tx.delete('a'), ClosedError, 'CHRONOKV_CLOSED', 'delete')
})

test('reading a snapshot range through an iterable made before snapshot.close() throws ClosedError', async (t) => {
  const db = closeAtEnd(t, await open<string, unknown>(tempDbPath(t), { durability: 'none' }))
  await db.put('a', 1)
  const snap = db.snapshot()
  const range = snap.getRange()
  snap.close()
  // The iterable comes from db.getRange({ at }) and never looks at the snapshot again.
  throwsChrono(t, () => [...range], ClosedError, 'CHRONOKV_CLOSED', 'iterating after close')
})

test('a transaction without writes of a closed database cannot commit', async (t) => {
  const db = await open<string, unknown>(tempDbPath(t), { durability: 'none' })
  const tx = db.beginTransaction()
  await db.close()
  // Transaction.commit returns readTs for a transaction without writes before asking the database.
  await t.throwsAsync(tx.commit(), { instanceOf: ClosedError, code: 'CHRONOKV_CLOSED' })
})

test("open() refuses durability: null like every other option's null", async (t) => {
  const dir = tempDbPath(t)
  // `o.durability ?? 'sync'` turns null into the default; readOnly: null or keyEncoding: null are refused.
  await t.throwsAsync(open(dir, { readOnly: null } as never), { instanceOf: InvalidArgumentError })
  const err = await t.throwsAsync(async () => {
    const db = await open(dir, { durability: null } as never)
    await db.close()
  })
  t.true(err instanceof InvalidArgumentError)
})
