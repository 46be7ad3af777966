// Type tests for chronokv/level. Never run — only type-checked with the rest of the project
// (npm run typecheck), as types.check.ts is for the root API. Positive uses must compile with
// the types shown; each misuse is marked `// @ts-expect-error`, so the check fails if it ever
// starts to compile.

import type { AbstractLevel } from 'abstract-level'

import type { Database, Timestamp } from '../ts/index'
import {
  ChronoLevel,
  type ChronoLevelSnapshot,
  type ChronoSublevelOf,
  type LevelVersion,
} from '../ts/level/index'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** Compiles only when T is exactly `true`. */
function assertType<T extends true>(): T | void {}

interface Plan {
  plan: string
}

export async function timeTravelOptions(): Promise<void> {
  const db = new ChronoLevel<string, Plan>('./level', { valueEncoding: 'json', durability: 'none' })
  const ts: Timestamp = db.chronokv.now()
  assertType<Equal<typeof db.chronokv, Database<Buffer, Buffer>>>()

  const a: Plan | undefined = await db.get('k', { at: ts })
  const b: Plan | undefined = await db.get('k', { at: new Date() })
  const c: Plan | undefined = db.getSync('k', { at: ts })
  const many: Array<Plan | undefined> = await db.getMany(['k'], { at: ts })
  const has: boolean = await db.has('k', { at: ts })
  const hasMany: boolean[] = await db.hasMany(['k'], { at: ts })
  const entries: Array<[string, Plan]> = await db.iterator({ gte: 'a', at: ts }).all()
  const keys: string[] = await db.keys({ at: ts, reverse: true }).all()
  const values: Plan[] = await db.values({ at: ts, limit: 1 }).all()
  await db.clear({ lt: 'm', at: ts })
  const snapshot: ChronoLevelSnapshot = db.snapshot({ at: ts })
  const snapshotTs: Timestamp = snapshot.ts
  void [a, b, c, many, has, hasMany, entries, keys, values, snapshotTs]

  // @ts-expect-error -- 'at' is a timestamp or a Date
  await db.get('k', { at: 'yesterday' })
  // @ts-expect-error -- not an option of get()
  await db.get('k', { since: ts })
  // @ts-expect-error -- wrong value type
  await db.put('k', 'not a plan')
}

export async function versions(): Promise<void> {
  const db = new ChronoLevel<string, Plan>('./level', { valueEncoding: 'json' })
  const history: Array<LevelVersion<string, Plan>> = await db.history('k', { since: 0, reverse: true })
  for (const version of history) {
    const ts: Timestamp = version.ts
    if (!version.deleted) {
      const plan: Plan = version.value
      void plan
    }
    // @ts-expect-error -- value may be undefined (a delete) until `deleted` is checked
    const plan: Plan = version.value
    void [ts, plan]
  }
  const changes: Array<LevelVersion<string, Plan>> = await db.changes({ gte: 'a', lt: 'b', since: new Date() })
  const asText: Array<LevelVersion<string, string>> = await db.history<string, string>('k', { valueEncoding: 'utf8' })
  void [changes, asText]
}

export async function sublevels(): Promise<void> {
  const db = new ChronoLevel('./level')
  const users = db.sublevel<string, Plan>('users', { valueEncoding: 'json' })
  assertType<Equal<typeof users, ChronoSublevelOf<typeof db, string, Plan>>>()
  const ts = db.chronokv.now()
  const plan: Plan | undefined = await users.get('alice', { at: ts })
  const history: Array<LevelVersion<string, Plan>> = await users.history('alice')
  const nested = users.sublevel('admins')
  const changes: Array<LevelVersion<string, string>> = await nested.changes({ since: ts })
  void [plan, history, changes]
  // @ts-expect-error -- 'at' is a timestamp or a Date, on sublevels too
  await users.get('alice', { at: 'now' })
}

export function isAnAbstractLevel(): AbstractLevel<Buffer, string, string> {
  return new ChronoLevel('./level')
}

export function sublevelIsAnAbstractLevel(db: ChronoLevel): AbstractLevel<Buffer, string, string> {
  return db.sublevel('users').sublevel('admins')
}

export async function iteratesWithForAwait(db: ChronoLevel<string, Plan>): Promise<void> {
  for await (const [key, value] of db.iterator({ at: new Date() })) {
    const k: string = key
    const v: Plan = value
    void [k, v]
  }
}
