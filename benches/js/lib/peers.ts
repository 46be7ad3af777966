/**
 * The peers (lmdb-js, classic-level, better-sqlite3, benny) and chronokv itself, loaded at run
 * time with minimal local types.
 *
 * The peers live in benches/js/node_modules, installed on demand by run.ts, never by the root
 * package. Typing them here (instead of importing their declarations) keeps the root
 * `tsc --noEmit` green on a checkout where they are not installed.
 *
 * @packageDocumentation
 */

import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The repository root (benches/js/lib is three levels below it). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..')
/** benches/js, where the peers' node_modules lives. */
export const JS_DIR = resolve(__dirname, '..')

// ---- lmdb-js ------------------------------------------------------------------------------

export interface LmdbRangeOptions {
  start?: Buffer
  end?: Buffer
  reverse?: boolean
  limit?: number
  values?: boolean
}
export interface LmdbDatabase {
  get(key: Buffer): Buffer | undefined
  put(key: Buffer, value: Buffer): Promise<boolean>
  remove(key: Buffer): Promise<boolean>
  putSync(key: Buffer, value: Buffer): boolean
  getRange(options: LmdbRangeOptions): Iterable<{ key: Buffer; value: Buffer }>
  getKeys(options: LmdbRangeOptions): Iterable<Buffer>
  transaction<T>(fn: () => T): Promise<T>
  transactionSync<T>(fn: () => T): T
  batch<T>(fn: () => T): Promise<boolean>
  readonly flushed: Promise<boolean>
  close(): Promise<void>
}
export interface LmdbModule {
  open(options: { path: string; keyEncoding: 'binary'; encoding: 'binary'; [k: string]: unknown }): LmdbDatabase
}

// ---- classic-level ------------------------------------------------------------------------

export interface LevelIteratorOptions {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
  reverse?: boolean
  limit?: number
  fillCache?: boolean
}
export interface LevelIterator {
  next(): Promise<[Buffer, Buffer] | undefined>
  nextv(size: number): Promise<Array<[Buffer, Buffer]>>
  all(): Promise<Array<[Buffer, Buffer]>>
  close(): Promise<void>
}
export type LevelBatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }
export interface LevelDatabase {
  open(): Promise<void>
  get(key: Buffer): Promise<Buffer | undefined>
  getSync(key: Buffer): Buffer | undefined
  put(key: Buffer, value: Buffer, options?: { sync?: boolean }): Promise<void>
  batch(ops: LevelBatchOp[], options?: { sync?: boolean }): Promise<void>
  iterator(options: LevelIteratorOptions): LevelIterator
  close(): Promise<void>
}
export interface LevelModule {
  ClassicLevel: new (
    location: string,
    options: { keyEncoding: 'buffer'; valueEncoding: 'buffer'; [k: string]: unknown },
  ) => LevelDatabase
}

// ---- better-sqlite3 -----------------------------------------------------------------------

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  pluck(on?: boolean): SqliteStatement
  raw(on?: boolean): SqliteStatement
}
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  pragma(sql: string, options?: { simple?: boolean }): unknown
  exec(sql: string): void
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void
  close(): void
}
export type SqliteModule = new (file: string) => SqliteDatabase

// ---- benny ----------------------------------------------------------------------------------

export interface BennyCaseResult {
  name: string
  ops: number
  margin: number
  samples: number
  details: { mean: number; median: number; min: number; max: number; relativeMarginOfError: number }
}
export interface BennySummary {
  name: string
  results: BennyCaseResult[]
}
export interface BennyCaseOptions {
  minSamples?: number
  maxTime?: number
  minTime?: number
  initCount?: number
  delay?: number
}
type BennyEntry = unknown
export interface BennyModule {
  suite(name: string, ...entries: BennyEntry[]): Promise<BennySummary>
  add(name: string, fn: () => unknown, options?: BennyCaseOptions): BennyEntry
  configure(config: { cases?: BennyCaseOptions; minDisplayPrecision?: number }): BennyEntry
}

// ---- chronokv -----------------------------------------------------------------------------

export type ChronoModule = typeof import('../../../ts/index')
export type ChronoDatabase = import('../../../ts/database').Database<Buffer, Buffer>

// ---- loading --------------------------------------------------------------------------------

function peer<T>(name: string): T {
  // Resolve from benches/js, whose node_modules holds the peers.
  return require(require.resolve(name, { paths: [JS_DIR] })) as T
}

export const loadLmdb = (): LmdbModule => peer<LmdbModule>('lmdb')
export const loadLevel = (): LevelModule => peer<LevelModule>('classic-level')
export const loadSqlite = (): SqliteModule => peer<SqliteModule>('better-sqlite3')
export const loadBenny = (): BennyModule => peer<BennyModule>('benny')
/** chronokv as users get it: the compiled facade in dist/ over the built native addon. */
export const loadChronokv = (): ChronoModule => require(join(REPO_ROOT, 'dist', 'index.js')) as ChronoModule

/** The installed version of a package (read from its package.json, which some packages do not export). */
export function packageVersion(name: string): string {
  const dirs = name === 'chronokv' ? [REPO_ROOT] : [join(JS_DIR, 'node_modules', name)]
  for (const dir of dirs) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
    } catch {
      // not installed
    }
  }
  return 'not installed'
}
