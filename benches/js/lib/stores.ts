/**
 * One adapter per store: the same operations, each done the way a competent user of that store
 * would do it. The temporal operations (T1-T4) are native for chronokv and emulated by hand for
 * the peers; `HOW` says how, and RESULTS.md prints it.
 *
 * Durability is the same promise everywhere: a write's promise resolves once the write is
 * durable (chronokv durability 'sync'; lmdb-js defaults; classic-level `{ sync: true }`;
 * SQLite in WAL mode with synchronous=FULL).
 *
 * @packageDocumentation
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { composite, compositeEnd, compositeTs, type LoadOp } from './data'
import {
  loadChronokv,
  loadLevel,
  loadLmdb,
  loadSqlite,
  type ChronoDatabase,
  type LevelBatchOp,
  type LevelDatabase,
  type LmdbDatabase,
  type SqliteDatabase,
} from './peers'

export const STORE_NAMES = ['chronokv', 'lmdb', 'classic-level', 'better-sqlite3'] as const
export type StoreName = (typeof STORE_NAMES)[number]

/** A key-value pair as the scans return it. */
export type Pair = [key: Buffer, value: Buffer]
/** One version: timestamp and value, undefined for a delete. */
export type Ver = [ts: number, value: Buffer | undefined]
/** One version inside a rectangle. */
export type KeyVer = [key: Buffer, ts: number, value: Buffer | undefined]

type MaybePromise<T> = T | Promise<T>

/** What every store offers the workloads. */
export interface Store {
  readonly name: StoreName
  readonly dir: string
  /** True when reads (get, scans) are synchronous. */
  readonly syncReads: boolean
  /** W1 and data loading: one durable atomic batch, with the store's fastest batch API. */
  load(ops: LoadOp[]): Promise<void>
  /** W2. */
  get(key: Buffer): MaybePromise<Buffer | undefined>
  /** W3: up to `limit` entries from `start` on. */
  scan(start: Buffer, limit: number): MaybePromise<Pair[]>
  /** W4: one durable put. */
  put(key: Buffer, value: Buffer): Promise<void>
  /** W5: a durable put meant to be one of many in flight (resolves once that put is durable). */
  putInFlight(key: Buffer, value: Buffer): Promise<void>
  /** Temporal loading: one commit of versions at timestamp `ts` (chronokv assigns and returns it). */
  loadVersions(ops: LoadOp[], ts: number): Promise<number>
  /** T1: the value of `key` as of `at`. */
  getAt(key: Buffer, at: number): MaybePromise<Buffer | undefined>
  /** T2: every version of `key`, oldest first. */
  history(key: Buffer): MaybePromise<Ver[]>
  /** T3: up to `limit` live entries from `start` on, as of `at`. */
  scanAt(start: Buffer, at: number, limit: number): MaybePromise<Pair[]>
  /** T4: every version with key in [lo, hi) and ts in [since, until), by key then ts. */
  rectangle(lo: Buffer, hi: Buffer, since: number, until: number): MaybePromise<KeyVer[]>
  close(): Promise<void>
}

/** How each store does each workload; printed in RESULTS.md. */
export const HOW: Record<StoreName, Record<string, string>> = {
  chronokv: {
    open: "`open(dir, { keyEncoding: 'binary', valueEncoding: 'binary', durability: 'sync' })`",
    W1: '`await db.batch(ops)` per chunk',
    W2: '`db.get(key)` (sync)',
    W3: '`db.getRange({ gte, limit: 100 }).asArray`',
    W4: '`await db.put(k, v)`',
    W5: '`db.put(k, v)` x 10,000, then `Promise.all`',
    T1: 'native: `db.get(key, { at })`',
    T2: 'native: `db.history(key).asArray`',
    T3: 'native: `db.getRange({ gte, limit: 100, at }).asArray`',
    T4: 'native: `db.changes({ gte: lo, lt: hi, since, until }).asArray`',
  },
  lmdb: {
    open: "`open({ path, keyEncoding: 'binary', encoding: 'binary' })` (defaults: sync commits, overlappingSync)",
    W1: '`db.put()` x chunk without awaiting (lmdb-js batches them into one transaction), then await the last',
    W2: '`db.get(key)` (sync)',
    W3: '`db.getRange({ start, limit: 100 })` iterated',
    W4: '`await db.put(k, v)`',
    W5: '`db.put(k, v)` x 10,000, then `Promise.all`',
    T1: 'composite key `key + ts (8 bytes BE)`; `getRange({ start: key+at, end: key+0, reverse: true, limit: 1 })`; empty value = delete',
    T2: '`getRange({ start: key+0, end: key+ff..ff })`',
    T3: 'per key: `getKeys({ start: from, limit: 1 })` finds the next key, a reverse `getRange(..., limit: 1)` from `key+at` reads its version, then jump to `key+ff..ff`; until 100 live keys (5x faster than walking every version)',
    T4: 'per key in [lo, hi): `getKeys(limit: 1)` finds it, `getRange({ start: key+since, end: key+until })` reads the window, then jump to `key+ff..ff` (2.8x faster than filtering a walk of every version)',
  },
  'classic-level': {
    open: "`new ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })` (defaults)",
    W1: '`await db.batch(ops, { sync: true })` per chunk',
    W2: '`db.getSync(key)` (sync, abstract-level 3)',
    W3: '`await db.iterator({ gte, limit: 100 }).all()`',
    W4: '`await db.put(k, v, { sync: true })`',
    W5: '`db.put(k, v, { sync: true })` x 10,000, then `Promise.all`',
    T1: 'composite key `key + ts (8 bytes BE)`; `await db.iterator({ gte: key+0, lte: key+at, reverse: true, limit: 1 }).all()`; empty value = delete',
    T2: '`await db.iterator({ gte: key+0, lte: key+ff..ff }).all()`',
    T3: 'forward iterator from `start+0` read with `nextv(256)`, keeping per key the last version with ts <= at, until 100 live keys',
    T4: '`await db.iterator({ gte: lo+0, lt: hi+0 }).all()`, keeping versions with since <= ts < until',
  },
  'better-sqlite3': {
    open: '`journal_mode = WAL`, `synchronous = FULL`; `kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`',
    W1: 'one transaction of prepared `INSERT OR REPLACE` per chunk',
    W2: '`SELECT v FROM kv WHERE k = ?` (prepared, pluck)',
    W3: '`SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT 100` (prepared, raw)',
    W4: 'one autocommit `INSERT OR REPLACE` (synchronous; awaited like the others)',
    W5: 'hand-rolled group commit: puts queue up and one transaction per event-loop turn (setImmediate, as lmdb-js does) commits them, then their promises resolve',
    T1: '`versions(key, ts, value, deleted, PRIMARY KEY (key, ts)) WITHOUT ROWID`; `SELECT value, deleted ... WHERE key = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`',
    T2: '`SELECT ts, value, deleted FROM versions WHERE key = ? ORDER BY ts`',
    T3: '`SELECT key, value FROM (SELECT key, value, deleted, max(ts) FROM versions WHERE key >= ? AND ts <= ? GROUP BY key) WHERE deleted = 0 LIMIT 100` (SQLite bare-column max)',
    T4: '`SELECT key, ts, value, deleted FROM versions WHERE key >= ? AND key < ? AND ts >= ? AND ts < ? ORDER BY key, ts`',
  },
}

/** A fresh temporary directory for one store. */
export function freshDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `chronokv-bench-${name}-`))
}

/** Removes a store's directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

export async function openStore(name: StoreName, dir: string): Promise<Store> {
  switch (name) {
    case 'chronokv':
      return openChronokv(dir)
    case 'lmdb':
      return openLmdb(dir)
    case 'classic-level':
      return openLevel(dir)
    case 'better-sqlite3':
      return openSqlite(dir)
  }
}

// ---- chronokv -------------------------------------------------------------------------------

async function openChronokv(dir: string): Promise<Store> {
  const { open } = loadChronokv()
  const db: ChronoDatabase = await open<Buffer, Buffer>(join(dir, 'db'), {
    keyEncoding: 'binary',
    valueEncoding: 'binary',
    durability: 'sync',
  })
  const toBatch = (ops: LoadOp[]) =>
    ops.map((o) =>
      o.value === undefined ? { type: 'del' as const, key: o.key } : { type: 'put' as const, key: o.key, value: o.value },
    )
  return {
    name: 'chronokv',
    dir,
    syncReads: true,
    async load(ops) {
      await db.batch(toBatch(ops))
    },
    get: (key) => db.get(key),
    scan(start, limit) {
      const out: Pair[] = []
      for (const e of db.getRange({ gte: start, limit })) out.push([e.key, e.value])
      return out
    },
    async put(key, value) {
      await db.put(key, value)
    },
    async putInFlight(key, value) {
      await db.put(key, value)
    },
    loadVersions: (ops) => db.batch(toBatch(ops)),
    getAt: (key, at) => db.get(key, { at }),
    history(key) {
      const out: Ver[] = []
      for (const v of db.history(key)) out.push([v.ts, v.deleted ? undefined : v.value])
      return out
    },
    scanAt(start, at, limit) {
      const out: Pair[] = []
      for (const e of db.getRange({ gte: start, limit, at })) out.push([e.key, e.value])
      return out
    },
    rectangle(lo, hi, since, until) {
      const out: KeyVer[] = []
      for (const v of db.changes({ gte: lo, lt: hi, since, until })) out.push([v.key, v.ts, v.deleted ? undefined : v.value])
      return out
    },
    close: () => db.close(),
  }
}

// ---- lmdb-js --------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0)

function openLmdb(dir: string): Store {
  const db: LmdbDatabase = loadLmdb().open({ path: join(dir, 'db'), keyEncoding: 'binary', encoding: 'binary' })
  /** The user key of the first composite key at or after `from` (and before `end`), copied. */
  const nextUserKey = (from: Buffer, end?: Buffer): Buffer | undefined => {
    for (const k of db.getKeys(end === undefined ? { start: from, limit: 1 } : { start: from, end, limit: 1 })) {
      return Buffer.from(k.subarray(0, k.length - 8))
    }
    return undefined
  }
  const putAll = async (ops: LoadOp[]) => {
    let last: Promise<boolean> | undefined
    for (const o of ops) last = db.put(o.key, o.value as Buffer)
    await last
  }
  return {
    name: 'lmdb',
    dir,
    syncReads: true,
    // Writes issued in one turn go into one transaction; the last one's promise covers them all.
    load: putAll,
    get: (key) => db.get(key),
    scan(start, limit) {
      const out: Pair[] = []
      for (const { key, value } of db.getRange({ start, limit })) out.push([key, value])
      return out
    },
    async put(key, value) {
      await db.put(key, value)
    },
    async putInFlight(key, value) {
      await db.put(key, value)
    },
    async loadVersions(ops, ts) {
      let last: Promise<boolean> | undefined
      for (const o of ops) last = db.put(composite(o.key, ts), o.value ?? EMPTY)
      await last
      return ts
    },
    getAt(key, at) {
      for (const { value } of db.getRange({ start: composite(key, at), end: composite(key, 0), reverse: true, limit: 1 })) {
        return value.length === 0 ? undefined : value
      }
      // The reverse range excludes `end` (ts 0): no store here writes at ts 0.
      return undefined
    },
    history(key) {
      const out: Ver[] = []
      for (const { key: k, value } of db.getRange({ start: composite(key, 0), end: compositeEnd(key) })) {
        out.push([compositeTs(k), value.length === 0 ? undefined : value])
      }
      return out
    },
    // Seeking per key beats walking all 20 versions of every key (measured here: ~5x for T3,
    // ~2.8x for T4), because each lmdb-js range entry costs microseconds:
    // find the next key, then read just the versions needed, then jump past that key.
    scanAt(start, at, limit) {
      const out: Pair[] = []
      let from = composite(start, 0)
      while (out.length < limit) {
        const user = nextUserKey(from)
        if (user === undefined) break
        for (const { value } of db.getRange({ start: composite(user, at), end: composite(user, 0), reverse: true, limit: 1 })) {
          if (value.length > 0) out.push([user, value])
        }
        from = compositeEnd(user)
      }
      return out
    },
    rectangle(lo, hi, since, until) {
      const out: KeyVer[] = []
      const end = composite(hi, 0)
      let from = composite(lo, 0)
      for (;;) {
        const user = nextUserKey(from, end)
        if (user === undefined) break
        for (const { key: k, value } of db.getRange({ start: composite(user, since), end: composite(user, until) })) {
          out.push([user, compositeTs(k), value.length === 0 ? undefined : value])
        }
        from = compositeEnd(user)
      }
      return out
    },
    close: () => db.close(),
  }
}

// ---- classic-level --------------------------------------------------------------------------

async function openLevel(dir: string): Promise<Store> {
  const { ClassicLevel } = loadLevel()
  const db: LevelDatabase = new ClassicLevel(join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const SYNC = { sync: true }
  const toBatch = (ops: LoadOp[], ts?: number): LevelBatchOp[] =>
    ops.map((o) => {
      const key = ts === undefined ? o.key : composite(o.key, ts)
      if (ts !== undefined) return { type: 'put', key, value: o.value ?? EMPTY }
      return o.value === undefined ? { type: 'del', key } : { type: 'put', key, value: o.value }
    })
  return {
    name: 'classic-level',
    dir,
    syncReads: false,
    load: (ops) => db.batch(toBatch(ops), SYNC),
    get: (key) => db.getSync(key),
    scan: async (start, limit) => (await db.iterator({ gte: start, limit }).all()) as Pair[],
    put: (key, value) => db.put(key, value, SYNC),
    putInFlight: (key, value) => db.put(key, value, SYNC),
    async loadVersions(ops, ts) {
      await db.batch(toBatch(ops, ts), SYNC)
      return ts
    },
    async getAt(key, at) {
      const found = await db.iterator({ gte: composite(key, 0), lte: composite(key, at), reverse: true, limit: 1 }).all()
      const value = found[0]?.[1]
      return value === undefined || value.length === 0 ? undefined : value
    },
    async history(key) {
      const found = await db.iterator({ gte: composite(key, 0), lte: compositeEnd(key) }).all()
      return found.map(([k, value]): Ver => [compositeTs(k), value.length === 0 ? undefined : value])
    },
    async scanAt(start, at, limit) {
      const it = db.iterator({ gte: composite(start, 0) })
      try {
        const out: Pair[] = []
        let current: Buffer | undefined
        let best: Buffer | undefined
        for (;;) {
          const batch = await it.nextv(256)
          if (batch.length === 0) break
          for (const [k, value] of batch) {
            const userLen = k.length - 8
            if (current === undefined || k.compare(current, 0, userLen, 0, userLen) !== 0) {
              if (current !== undefined && best !== undefined) {
                out.push([current, best])
                if (out.length === limit) return out
              }
              current = k.subarray(0, userLen)
              best = undefined
            }
            if (compositeTs(k) <= at) best = value.length === 0 ? undefined : value
          }
        }
        if (current !== undefined && best !== undefined && out.length < limit) out.push([current, best])
        return out
      } finally {
        await it.close()
      }
    },
    async rectangle(lo, hi, since, until) {
      const out: KeyVer[] = []
      for (const [k, value] of await db.iterator({ gte: composite(lo, 0), lt: composite(hi, 0) }).all()) {
        const ts = compositeTs(k)
        if (ts >= since && ts < until) out.push([k.subarray(0, k.length - 8), ts, value.length === 0 ? undefined : value])
      }
      return out
    },
    close: () => db.close(),
  }
}

// ---- better-sqlite3 -------------------------------------------------------------------------

function openSqlite(dir: string): Store {
  const Database = loadSqlite()
  const db: SqliteDatabase = new Database(join(dir, 'db.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec('CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID')
  db.exec(
    'CREATE TABLE versions (key BLOB NOT NULL, ts INTEGER NOT NULL, value BLOB, deleted INTEGER NOT NULL, ' +
      'PRIMARY KEY (key, ts)) WITHOUT ROWID',
  )
  const insert = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
  const remove = db.prepare('DELETE FROM kv WHERE k = ?')
  const select = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
  const scan = db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?').raw()
  const insertVersion = db.prepare('INSERT INTO versions (key, ts, value, deleted) VALUES (?, ?, ?, ?)')
  const asOf = db.prepare('SELECT value, deleted FROM versions WHERE key = ? AND ts <= ? ORDER BY ts DESC LIMIT 1').raw()
  const history = db.prepare('SELECT ts, value, deleted FROM versions WHERE key = ? ORDER BY ts').raw()
  const scanAt = db
    .prepare(
      'SELECT key, value FROM (SELECT key, value, deleted, max(ts) FROM versions WHERE key >= ? AND ts <= ? GROUP BY key) ' +
        'WHERE deleted = 0 LIMIT ?',
    )
    .raw()
  const rectangle = db
    .prepare(
      'SELECT key, ts, value, deleted FROM versions WHERE key >= ? AND key < ? AND ts >= ? AND ts < ? ORDER BY key, ts',
    )
    .raw()
  const load = db.transaction((ops: LoadOp[]) => {
    for (const o of ops) {
      if (o.value === undefined) remove.run(o.key)
      else insert.run(o.key, o.value)
    }
  })
  const loadVersions = db.transaction((ops: LoadOp[], ts: number) => {
    for (const o of ops) insertVersion.run(o.key, ts, o.value ?? null, o.value === undefined ? 1 : 0)
  })

  // Hand-rolled group commit for W5: one transaction per event-loop turn.
  let queue: Array<{ op: LoadOp; resolve: () => void; reject: (e: unknown) => void }> = []
  const commitQueued = () => {
    const batch = queue
    queue = []
    try {
      load(batch.map((q) => q.op))
    } catch (err) {
      for (const q of batch) q.reject(err)
      return
    }
    for (const q of batch) q.resolve()
  }
  const queuedPut = (op: LoadOp) =>
    new Promise<void>((resolve, reject) => {
      if (queue.length === 0) setImmediate(commitQueued)
      queue.push({ op, resolve, reject })
    })

  return {
    name: 'better-sqlite3',
    dir,
    syncReads: true,
    async load(ops) {
      load(ops)
    },
    get: (key) => select.get(key) as Buffer | undefined,
    scan: (start, limit) => scan.all(start, limit) as Pair[],
    async put(key, value) {
      insert.run(key, value)
    },
    putInFlight: (key, value) => queuedPut({ key, value }),
    async loadVersions(ops, ts) {
      loadVersions(ops, ts)
      return ts
    },
    getAt(key, at) {
      const row = asOf.get(key, at) as [Buffer | null, number] | undefined
      return row === undefined || row[1] === 1 ? undefined : (row[0] as Buffer)
    },
    history(key) {
      return (history.all(key) as Array<[number, Buffer | null, number]>).map(
        ([ts, value, deleted]): Ver => [ts, deleted === 1 ? undefined : (value as Buffer)],
      )
    },
    scanAt: (start, at, limit) => scanAt.all(start, at, limit) as Pair[],
    rectangle(lo, hi, since, until) {
      return (rectangle.all(lo, hi, since, until) as Array<[Buffer, number, Buffer | null, number]>).map(
        ([key, ts, value, deleted]): KeyVer => [key, ts, deleted === 1 ? undefined : (value as Buffer)],
      )
    },
    async close() {
      db.close()
    },
  }
}

