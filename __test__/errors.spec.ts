import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import {
  ChronoError,
  ClosedError,
  CorruptionError,
  InvalidArgumentError,
  open,
} from '../ts/index'
import { rejectsChrono, throwsChrono } from './helpers/errors'
import { plainEntries, plainVersions } from './helpers/plain'
import { closeAtEnd, tempDbPath, walFiles } from './helpers/tmp'

const INVALID = 'CHRONOKV_INVALID_ARGUMENT'
const CLOSED = 'CHRONOKV_CLOSED'
const LOCKED = 'CHRONOKV_LOCKED'
const CORRUPTION = 'CHRONOKV_CORRUPTION'

type Db = Awaited<ReturnType<typeof open<string, unknown>>>

/** A database holding a few keys and a tombstone, closed at the end of the test. */
async function seeded(t: ExecutionContext) {
  const dbPath = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, unknown>(dbPath))
  await db.put('a', 1)
  await db.put('b', { two: 2 })
  await db.put('a', 'one')
  await db.delete('b')
  await db.put('c', [3])
  return { db, dbPath }
}

/** Everything observable about the database, to prove a failed call changed nothing. */
function observe(db: Db, extraKeys: string[] = []) {
  const keys = ['a', 'b', 'c', ...extraKeys]
  return {
    now: db.now(),
    range: plainEntries(db.getRange()),
    histories: keys.map((k) => plainVersions(db.history(k))),
    versions: (db.stats() as unknown as { versions?: unknown }).versions,
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

test('an empty key is an InvalidArgumentError everywhere and writes nothing', async (t) => {
  const { db } = await seeded(t)
  const before = observe(db)
  const err = throwsChrono(t, () => db.get(''), InvalidArgumentError, INVALID, 'get')
  t.true(err instanceof ChronoError)
  throwsChrono(t, () => db.getEntry(''), InvalidArgumentError, INVALID, 'getEntry')
  throwsChrono(t, () => db.has(''), InvalidArgumentError, INVALID, 'has')
  throwsChrono(t, () => db.getMany(['a', '']), InvalidArgumentError, INVALID, 'getMany')
  throwsChrono(t, () => [...db.history('')], InvalidArgumentError, INVALID, 'history')
  await rejectsChrono(t, () => db.put('', 1), InvalidArgumentError, INVALID, 'put')
  await rejectsChrono(t, () => db.delete(''), InvalidArgumentError, INVALID, 'delete')
  await rejectsChrono(t, () => db.batch([{ type: 'put', key: '', value: 1 }]), InvalidArgumentError, INVALID, 'batch')
  t.deepEqual(observe(db), before)
})

test('an empty binary key is an InvalidArgumentError', async (t) => {
  const db = closeAtEnd(t, await open<Buffer, unknown>(tempDbPath(t), { keyEncoding: 'binary' }))
  await db.put(Buffer.from([1]), 1)
  const now = db.now()
  throwsChrono(t, () => db.get(Buffer.alloc(0)), InvalidArgumentError, INVALID, 'get')
  await rejectsChrono(t, () => db.put(Buffer.alloc(0), 1), InvalidArgumentError, INVALID, 'put')
  await rejectsChrono(t, () => db.put(new Uint8Array(0) as Buffer, 1), InvalidArgumentError, INVALID, 'put Uint8Array')
  t.is(db.now(), now)
  t.is([...db.getRange()].length, 1)
})

test('a 4,096-byte key works; longer keys are InvalidArgumentErrors that write nothing', async (t) => {
  const { db } = await seeded(t)
  const max = 'k'.repeat(4096)
  const ts = await db.put(max, 'max')
  t.deepEqual(db.getEntry(max), { key: max, value: 'max', ts })
  t.deepEqual(
    [...db.getRange({ gte: 'k' })].map((e) => e.key),
    [max],
  )
  // 2048 two-byte characters: 4096 bytes after encoding
  const maxMultibyte = 'é'.repeat(2048)
  await db.put(maxMultibyte, 'é')
  t.is(db.get(maxMultibyte), 'é')

  const before = observe(db, [max, maxMultibyte])
  for (const [label, key] of [
    ['5,000 bytes', 'k'.repeat(5000)],
    ['4,097 bytes', 'k'.repeat(4097)],
    ['4,098 bytes of two-byte characters', 'é'.repeat(2049)],
  ] as const) {
    throwsChrono(t, () => db.get(key), InvalidArgumentError, INVALID, `get ${label}`)
    throwsChrono(t, () => db.has(key), InvalidArgumentError, INVALID, `has ${label}`)
    await rejectsChrono(t, () => db.put(key, 1), InvalidArgumentError, INVALID, `put ${label}`)
    await rejectsChrono(t, () => db.delete(key), InvalidArgumentError, INVALID, `delete ${label}`)
  }
  t.deepEqual(observe(db, [max, maxMultibyte]), before)
})

test('a 4,097-byte binary key is an InvalidArgumentError; 4,096 bytes work', async (t) => {
  const db = closeAtEnd(t, await open<Buffer, unknown>(tempDbPath(t), { keyEncoding: 'binary' }))
  await db.put(Buffer.alloc(4096, 0xab), 'ok')
  t.is(db.get(Buffer.alloc(4096, 0xab)), 'ok')
  const now = db.now()
  await rejectsChrono(t, () => db.put(Buffer.alloc(4097, 0xab), 1), InvalidArgumentError, INVALID, 'put')
  throwsChrono(t, () => db.get(Buffer.alloc(4097, 0xab)), InvalidArgumentError, INVALID, 'get')
  t.is(db.now(), now)
})

test('sync and async paths report the same error for the same bad key', async (t) => {
  const { db } = await seeded(t)
  const syncErr = throwsChrono(t, () => db.get(''), InvalidArgumentError, INVALID)
  const asyncErr = await rejectsChrono(t, () => db.put('', 1), InvalidArgumentError, INVALID)
  t.is((syncErr as Error).constructor, (asyncErr as Error).constructor)
  t.is((syncErr as { code?: string }).code, (asyncErr as { code?: string }).code)
})

// ---------------------------------------------------------------------------------------------
// Values

test('a value JSON cannot encode is an InvalidArgumentError and writes nothing', async (t) => {
  const { db } = await seeded(t)
  const circular: Record<string, unknown> = { name: 'loop' }
  circular.self = circular
  const before = observe(db, ['new'])
  for (const [label, value] of [
    ['a BigInt', 10n],
    ['an object holding a BigInt', { n: 1n }],
    ['a circular object', circular],
  ] as const) {
    await rejectsChrono(t, () => db.put('a', value), InvalidArgumentError, INVALID, `put of ${label} over a key`)
    await rejectsChrono(t, () => db.put('new', value), InvalidArgumentError, INVALID, `put of ${label} to a new key`)
    await rejectsChrono(
      t,
      () => db.batch([{ type: 'put', key: 'new', value }]),
      InvalidArgumentError,
      INVALID,
      `batch with ${label}`,
    )
  }
  t.deepEqual(observe(db, ['new']), before)
  // the database still works
  const ts = await db.put('new', 'fine')
  t.deepEqual(db.getEntry('new'), { key: 'new', value: 'fine', ts })
})

// ---------------------------------------------------------------------------------------------
// `at`, history and range options

const badAts: [string, unknown][] = [
  ['NaN', NaN],
  ['negative', -1],
  ['fractional', 1.5],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['above 2^53 - 1', 2 ** 53],
  ['a string', '123'],
  ['an object', {}],
  ['an invalid Date', new Date(NaN)],
]

for (const [label, at] of badAts) {
  test(`\`at\` that is ${label} is an InvalidArgumentError for every read`, async (t) => {
    const { db } = await seeded(t)
    const before = observe(db)
    const opts = { at } as unknown as { at: number }
    throwsChrono(t, () => db.get('a', opts), InvalidArgumentError, INVALID, 'get')
    throwsChrono(t, () => db.getEntry('a', opts), InvalidArgumentError, INVALID, 'getEntry')
    throwsChrono(t, () => db.has('a', opts), InvalidArgumentError, INVALID, 'has')
    throwsChrono(t, () => db.getMany(['a', 'c'], opts), InvalidArgumentError, INVALID, 'getMany')
    // getRange may validate when called or when iterated; either way the caller sees the error
    throwsChrono(t, () => [...db.getRange(opts)], InvalidArgumentError, INVALID, 'getRange')
    t.deepEqual(observe(db), before)
  })
}

test('the extreme valid `at` values work: 0 and 2^53 - 1', async (t) => {
  const { db } = await seeded(t)
  t.is(db.get('a', { at: 0 }), undefined)
  t.is(db.get('a', { at: Number.MAX_SAFE_INTEGER }), 'one')
  t.deepEqual([...db.getRange({ at: 0 })], [])
  t.is([...db.getRange({ at: Number.MAX_SAFE_INTEGER })].length, 2)
})

test('bad history bounds and limits are InvalidArgumentErrors', async (t) => {
  const { db } = await seeded(t)
  for (const [label, opts] of [
    ['since NaN', { since: NaN }],
    ['since negative', { since: -5 }],
    ['until fractional', { until: 2.5 }],
    ['until a string', { until: '10' }],
    ['limit negative', { limit: -1 }],
    ['limit NaN', { limit: NaN }],
  ] as const) {
    throwsChrono(t, () => [...db.history('a', opts as unknown as { since?: number })], InvalidArgumentError, INVALID, `history ${label}`)
  }
  for (const [label, opts] of [
    ['limit negative', { limit: -1 }],
    ['limit fractional', { limit: 1.5 }],
    ['limit NaN', { limit: NaN }],
  ] as const) {
    throwsChrono(t, () => [...db.getRange(opts)], InvalidArgumentError, INVALID, `getRange ${label}`)
  }
})

// ---------------------------------------------------------------------------------------------
// open() options

for (const [label, options] of [
  ['an unknown durability', { durability: 'fast' }],
  ['an unknown key encoding', { keyEncoding: 'latin1' }],
  ['an unknown value encoding', { valueEncoding: 'xml' }],
] as const) {
  test(`open() with ${label} rejects with InvalidArgumentError and creates nothing`, async (t) => {
    const dbPath = tempDbPath(t)
    await rejectsChrono(
      t,
      () => open(dbPath, options as unknown as Parameters<typeof open>[1]),
      InvalidArgumentError,
      INVALID,
      'open',
    )
    t.false(fs.existsSync(dbPath), 'the failed open created the database directory')
  })
}

test('open() with a bad option on an existing database leaves it intact and unlocked', async (t) => {
  const { db, dbPath } = await seeded(t)
  const before = observe(db)
  await db.close()
  await rejectsChrono(
    t,
    () => open(dbPath, { durability: 'fast' } as unknown as Parameters<typeof open>[1]),
    InvalidArgumentError,
    INVALID,
  )
  const again = closeAtEnd(t, await open<string, unknown>(dbPath))
  t.deepEqual(observe(again), before)
})

// ---------------------------------------------------------------------------------------------
// After close

test('every call after close throws or rejects ClosedError, and nothing is written', async (t) => {
  const { db, dbPath } = await seeded(t)
  const before = observe(db)
  await db.close()

  throwsChrono(t, () => db.get('a'), ClosedError, CLOSED, 'get')
  throwsChrono(t, () => db.getEntry('a'), ClosedError, CLOSED, 'getEntry')
  throwsChrono(t, () => db.has('a'), ClosedError, CLOSED, 'has')
  throwsChrono(t, () => db.getMany(['a']), ClosedError, CLOSED, 'getMany')
  throwsChrono(t, () => [...db.getRange()], ClosedError, CLOSED, 'getRange')
  throwsChrono(t, () => db.getRange(), ClosedError, CLOSED, 'getRange (at the call)')
  throwsChrono(t, () => [...db.history('a')], ClosedError, CLOSED, 'history')
  throwsChrono(t, () => db.now(), ClosedError, CLOSED, 'now')
  throwsChrono(t, () => db.stats(), ClosedError, CLOSED, 'stats')
  await rejectsChrono(t, () => db.put('a', 'after close'), ClosedError, CLOSED, 'put')
  await rejectsChrono(t, () => db.put('z', 'after close'), ClosedError, CLOSED, 'put new key')
  await rejectsChrono(t, () => db.delete('c'), ClosedError, CLOSED, 'delete')
  await rejectsChrono(t, () => db.batch([{ type: 'put', key: 'z', value: 1 }]), ClosedError, CLOSED, 'batch')
  // an invalid call on a closed database: either error is fine, but it must not write
  await t.throwsAsync(async () => db.put('', 1))

  const again = closeAtEnd(t, await open<string, unknown>(dbPath))
  t.deepEqual(observe(again), before)
  t.is(again.get('z'), undefined)
})

// ---------------------------------------------------------------------------------------------
// Batches

test('a batch containing one invalid op writes none of its ops', async (t) => {
  const { db } = await seeded(t)
  const before = observe(db, ['x', 'y'])
  const good = [
    { type: 'put', key: 'x', value: 'x' },
    { type: 'del', key: 'a' },
    { type: 'put', key: 'c', value: 'changed' },
  ]
  const invalid: [string, unknown][] = [
    ['an empty key', { type: 'put', key: '', value: 1 }],
    ['an over-long key', { type: 'put', key: 'y'.repeat(5000), value: 1 }],
    ['an over-long key in a delete', { type: 'del', key: 'y'.repeat(5000) }],
    ['a BigInt value', { type: 'put', key: 'y', value: 5n }],
    ['an unknown op type', { type: 'upsert', key: 'y', value: 1 }],
    ['no key', { type: 'put', value: 1 }],
    ['a null op', null],
  ]
  for (const [label, op] of invalid) {
    for (const position of ['first', 'middle', 'last'] as const) {
      const ops = position === 'first' ? [op, ...good] : position === 'last' ? [...good, op] : [good[0], op, ...good.slice(1)]
      await rejectsChrono(
        t,
        () => db.batch(ops as Parameters<Db['batch']>[0]),
        InvalidArgumentError,
        INVALID,
        `batch with ${label} ${position}`,
      )
    }
  }
  await rejectsChrono(t, () => db.batch('nope' as unknown as Parameters<Db['batch']>[0]), InvalidArgumentError, INVALID, 'batch of a string')
  t.deepEqual(observe(db, ['x', 'y']), before)
})

// ---------------------------------------------------------------------------------------------
// Another process

const PROBE = path.join(__dirname, 'fixtures', 'open-probe.ts')

interface ProbeResult {
  ok: boolean
  value?: unknown
  code?: string
  name?: string
  isLocked?: boolean
  isChrono?: boolean
  message?: string
}

function probe(dir: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', PROBE, dir], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`open-probe failed: ${err.message}\n${stderr}`))
      const line = stdout.trim().split('\n').pop() ?? ''
      try {
        resolve(JSON.parse(line) as ProbeResult)
      } catch {
        reject(new Error(`open-probe printed ${JSON.stringify(stdout)}; stderr ${stderr}`))
      }
    })
  })
}

test('a second process gets LockedError until the first closes the database', async (t) => {
  const { db, dbPath } = await seeded(t)
  const ts = await db.put('k', 'first process')

  const locked = await probe(dbPath)
  t.false(locked.ok, 'the second process opened a database another process holds')
  t.is(locked.code, LOCKED, `message: ${locked.message}`)
  t.true(locked.isLocked, `not a LockedError: ${locked.name}`)
  t.true(locked.isChrono)

  // the holder is unaffected
  t.deepEqual(db.getEntry('k'), { key: 'k', value: 'first process', ts })
  await db.put('k', 'still mine')
  await db.close()

  const after = await probe(dbPath)
  t.deepEqual(after, { ok: true, value: 'still mine' })
})

// ---------------------------------------------------------------------------------------------
// Damaged write-ahead logs

const marker = (i: number) => `MARKER-${String(i).padStart(3, '0')}-`

/** Writes `count` puts whose values carry findable markers, then closes. Returns their timestamps. */
async function writeMarked(dbPath: string, count: number): Promise<number[]> {
  const db = await open<string, string>(dbPath, { valueEncoding: 'utf8' })
  const ts: number[] = []
  for (let i = 0; i < count; i++) ts.push(await db.put(`key${String(i).padStart(3, '0')}`, `${marker(i)}${'v'.repeat(64)}-end`))
  await db.close()
  return ts
}

/** The WAL file holding `needle`, and the offset of its last occurrence. */
function findInWal(t: ExecutionContext, dbPath: string, needle: string): { file: string; offset: number } | undefined {
  let files: string[]
  try {
    files = walFiles(dbPath)
  } catch (err) {
    t.fail(`cannot list ${dbPath}/wal: ${String(err)}; the database directory holds ${fs.readdirSync(dbPath).join(', ')}`)
    return undefined
  }
  for (const file of files.reverse()) {
    const offset = fs.readFileSync(file).lastIndexOf(Buffer.from(needle))
    if (offset >= 0) return { file, offset }
  }
  t.fail(`no WAL file under ${dbPath}/wal (${files.map((f) => path.basename(f)).join(', ')}) contains ${needle}`)
  return undefined
}

test('a corrupt record in the middle of the WAL fails open() with a CorruptionError naming the file', async (t) => {
  const dbPath = tempDbPath(t)
  await writeMarked(dbPath, 40)
  const found = findInWal(t, dbPath, marker(20))
  if (!found) return
  const bytes = fs.readFileSync(found.file)
  bytes[found.offset + marker(20).length + 10]! ^= 0xff // inside the value of the 21st record
  fs.writeFileSync(found.file, bytes)

  const err = await rejectsChrono(t, () => open(dbPath, { valueEncoding: 'utf8' }), CorruptionError, CORRUPTION, 'open')
  t.true(err instanceof ChronoError)
  const message = (err as Error | undefined)?.message ?? ''
  t.true(message.includes(path.basename(found.file)), `the message does not name ${path.basename(found.file)}: ${message}`)
  t.regex(message, /\d/, 'the message gives no offset')

  // the failed open neither repaired nor truncated the log, and a second attempt fails the same way
  t.true(fs.readFileSync(found.file).equals(bytes), 'the failed open modified the damaged WAL file')
  await rejectsChrono(t, () => open(dbPath, { valueEncoding: 'utf8' }), CorruptionError, CORRUPTION, 'second open')
})

test('a torn tail (the last bytes of the log missing) opens fine and loses only the last write', async (t) => {
  const dbPath = tempDbPath(t)
  const ts = await writeMarked(dbPath, 40)
  const found = findInWal(t, dbPath, marker(39))
  if (!found) return
  // cut the log in the middle of the last put's value
  fs.truncateSync(found.file, found.offset + 5)

  let db = await open<string, string>(dbPath, { valueEncoding: 'utf8' })
  try {
    for (let i = 0; i < 39; i++) {
      const key = `key${String(i).padStart(3, '0')}`
      t.deepEqual(db.getEntry(key), { key, value: `${marker(i)}${'v'.repeat(64)}-end`, ts: ts[i]! })
    }
    t.is(db.get('key039'), undefined, 'the torn last write is visible')
    t.true(db.now() >= ts[38]!)
    const newTs = await db.put('after', 'recovery')
    t.true(newTs > ts[38]!)
  } finally {
    await db.close()
  }

  // writes after the recovered tail are readable later (the torn bytes were not left in the way)
  db = closeAtEnd(t, await open<string, string>(dbPath, { valueEncoding: 'utf8' }))
  t.is(db.get('after'), 'recovery')
  t.is(db.get('key038'), `${marker(38)}${'v'.repeat(64)}-end`)
})

test('a log missing only its last few bytes opens fine and keeps every earlier write', async (t) => {
  const dbPath = tempDbPath(t)
  const ts = await writeMarked(dbPath, 20)
  const files = walFiles(dbPath)
  const last = files[files.length - 1]!
  const size = fs.statSync(last).size
  t.true(size > 3)
  fs.truncateSync(last, size - 3)

  const db = closeAtEnd(t, await open<string, string>(dbPath, { valueEncoding: 'utf8' }))
  for (let i = 0; i < 19; i++) {
    const key = `key${String(i).padStart(3, '0')}`
    t.deepEqual(db.getEntry(key), { key, value: `${marker(i)}${'v'.repeat(64)}-end`, ts: ts[i]! })
  }
  // the last write is either whole or absent, never damaged
  const lastEntry = db.getEntry('key019')
  t.true(
    lastEntry === undefined || (lastEntry.value === `${marker(19)}${'v'.repeat(64)}-end` && lastEntry.ts === ts[19]),
    `key019 is ${JSON.stringify(lastEntry)}`,
  )
  const newTs = await db.put('after', 'x')
  t.true(newTs > ts[18]!)
})
