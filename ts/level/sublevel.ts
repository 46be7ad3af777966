/**
 * Sublevels of the abstract-level adapter: abstract-level's AbstractSublevel (prefixed keys,
 * forwarding every operation to the parent database, `at` included), plus `history()` and
 * `changes()` over the sublevel's keys.
 *
 * @packageDocumentation
 */

import {
  AbstractSublevel,
  type AbstractLevel,
  type AbstractIterator,
  type AbstractKeyIterator,
  type AbstractSublevelOptions,
  type AbstractValueIterator,
  type AbstractDeferOptions,
  type AbstractDelOptions,
  type AbstractResource,
  type Transcoder,
} from 'abstract-level'
import type { Database } from '../database'
import { LevelError } from './errors'
import type {
  ChronoChangesOptions,
  ChronoClearOptions,
  ChronoGetManyOptions,
  ChronoGetOptions,
  ChronoHasManyOptions,
  ChronoHasOptions,
  ChronoHistoryOptions,
  ChronoIteratorOptions,
  ChronoKeyIteratorOptions,
  ChronoSnapshotOptions,
  ChronoValueIteratorOptions,
  LevelVersion,
} from './options'
import type { ChronoLevelSnapshot } from './snapshot'
import { readChanges, readHistory, sublevelScope, type BufferEncoding, type Scope } from './versions'

/**
 * What a sublevel adds to abstract-level's manifest (which starts sublevels without additional
 * methods): the methods it has.
 * @internal
 */
export const SUBLEVEL_MANIFEST = { additionalMethods: { history: true, changes: true } }

/** The root database as a sublevel sees it. */
interface Root {
  readonly chronokv: Database<Buffer, Buffer>
}

/**
 * A sublevel of a {@link ChronoLevel}: keys under a prefix, with its own encodings (see
 * abstract-level's `db.sublevel()`). Its reads take `at` as the database's do, and
 * {@link ChronoSublevel.history} and {@link ChronoSublevel.changes} list versions of its keys.
 *
 * @typeParam TDatabase - the parent database (a ChronoLevel or another ChronoSublevel).
 * @typeParam KDefault - the type of keys under the sublevel's default key encoding.
 * @typeParam VDefault - the type of values under the sublevel's default value encoding.
 */
export class ChronoSublevel<TDatabase, KDefault = string, VDefault = string> extends AbstractSublevel<
  TDatabase,
  Buffer,
  KDefault,
  VDefault
> {
  #scope: Scope | undefined

  /**
   * Every version of `key` in this sublevel, oldest first (newest first with `reverse`),
   * deletes included; see `ChronoLevel.history`.
   */
  async history<K = KDefault, V = VDefault>(key: K, options?: ChronoHistoryOptions<K, V>): Promise<Array<LevelVersion<K, V>>> {
    if (this.status === 'opening') return this.deferAsync(() => this.history(key, options))
    const db = this.#chronokv()
    return readHistory(db, this.#keyScope(), key, this.#keyEncoding(options?.keyEncoding), this.#valueEncoding(options?.valueEncoding), options)
  }

  /**
   * Every version whose key (of this sublevel) is in `[gte, lt)` and whose commit timestamp is
   * in `[since, until)`; without bounds, every key of the sublevel. See `ChronoLevel.changes`.
   */
  async changes<K = KDefault, V = VDefault>(options?: ChronoChangesOptions<K, V>): Promise<Array<LevelVersion<K, V>>> {
    if (this.status === 'opening') return this.deferAsync(() => this.changes(options))
    const db = this.#chronokv()
    return readChanges(db, this.#keyScope(), this.#keyEncoding(options?.keyEncoding), this.#valueEncoding(options?.valueEncoding), options)
  }

  /** @internal Nested sublevels are ChronoSublevels too. */
  _sublevel(name: string | string[], options: AbstractSublevelOptions<unknown, unknown>): ChronoSublevel<unknown, unknown, unknown> {
    return new ChronoSublevel(this, name as string, { ...options, manifest: SUBLEVEL_MANIFEST } as AbstractSublevelOptions<unknown, unknown>)
  }

  #chronokv(): Database<Buffer, Buffer> {
    if (this.status !== 'open') throw new LevelError('Database is not open', 'LEVEL_DATABASE_NOT_OPEN')
    return (this.db as unknown as Root).chronokv
  }

  #keyScope(): Scope {
    this.#scope ??= sublevelScope(this.prefix)
    return this.#scope
  }

  #keyEncoding(encoding: unknown): BufferEncoding {
    return (this.keyEncoding as (encoding?: unknown) => BufferEncoding)(encoding ?? undefined)
  }

  #valueEncoding(encoding: unknown): BufferEncoding {
    return (this.valueEncoding as (encoding?: unknown) => BufferEncoding)(encoding ?? undefined)
  }
}

/**
 * Declaration merging (types only): the read methods of a ChronoSublevel with `at` in their
 * options, as on ChronoLevel, and the inherited members whose abstract-level comments TypeDoc
 * cannot render, with comments of our own. (`sublevel()` keeps abstract-level's type here;
 * `db.sublevel()` is typed as {@link ChronoSublevelOf}.)
 */
export interface ChronoSublevel<TDatabase, KDefault = string, VDefault = string> {
  /** Gets a value as of now. */
  get(key: KDefault): Promise<VDefault | undefined>
  /** Gets a value as of now, `options.at` or `options.snapshot`. */
  get<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): Promise<V | undefined>
  /** Gets a value synchronously, as of now. */
  getSync(key: KDefault): VDefault | undefined
  /** Gets a value synchronously, as of now, `options.at` or `options.snapshot`. */
  getSync<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): V | undefined
  /** Gets several values as of now. */
  getMany(keys: KDefault[]): Promise<Array<VDefault | undefined>>
  /** Gets several values as of one time: now, `options.at` or `options.snapshot`. */
  getMany<K = KDefault, V = VDefault>(keys: K[], options: ChronoGetManyOptions<K, V>): Promise<Array<V | undefined>>
  /** True when `key` has a value now. */
  has(key: KDefault): Promise<boolean>
  /** True when `key` had a value as of now, `options.at` or `options.snapshot`. */
  has<K = KDefault>(key: K, options: ChronoHasOptions<K>): Promise<boolean>
  /** For each key, whether it has a value now. */
  hasMany(keys: KDefault[]): Promise<boolean[]>
  /** For each key, whether it had a value as of one time: now, `options.at` or `options.snapshot`. */
  hasMany<K = KDefault>(keys: K[], options: ChronoHasManyOptions<K>): Promise<boolean[]>
  /** An iterator of entries, reading the database as of its creation. */
  iterator(): AbstractIterator<this, KDefault, VDefault>
  /** An iterator of entries, reading one time: now, `options.at` or `options.snapshot`. */
  iterator<K = KDefault, V = VDefault>(options: ChronoIteratorOptions<K, V>): AbstractIterator<this, K, V>
  /** An iterator of keys, reading the database as of its creation. */
  keys(): AbstractKeyIterator<this, KDefault>
  /** An iterator of keys, reading one time: now, `options.at` or `options.snapshot`. */
  keys<K = KDefault>(options: ChronoKeyIteratorOptions<K>): AbstractKeyIterator<this, K>
  /** An iterator of values, reading the database as of its creation. */
  values(): AbstractValueIterator<this, KDefault, VDefault>
  /** An iterator of values, reading one time: now, `options.at` or `options.snapshot`. */
  values<K = KDefault, V = VDefault>(options: ChronoValueIteratorOptions<K, V>): AbstractValueIterator<this, K, V>
  /** Deletes every key. */
  clear(): Promise<void>
  /** Deletes the keys of a range that had a value now, at `options.at`, or in `options.snapshot`. */
  clear<K = KDefault>(options: ChronoClearOptions<K>): Promise<void>
  /** A snapshot of now, or of `options.at`. */
  snapshot(options?: ChronoSnapshotOptions): ChronoLevelSnapshot
  /** Deletes `key`: a delete version; earlier versions stay readable with `at` and in `history`. */
  del(key: KDefault): Promise<void>
  /** Deletes `key`, encoded with `options.keyEncoding`. */
  del<K = KDefault>(key: K, options: AbstractDelOptions<K>): Promise<void>
  /** The key encoding of that name, normalized (a level-transcoder encoding). */
  keyEncoding<N extends Transcoder.KnownEncodingName>(encoding: N): Transcoder.KnownEncoding<N, Buffer>
  /** The given key encoding, normalized (a level-transcoder encoding). */
  keyEncoding<TIn, TOut>(encoding: Transcoder.MixedEncoding<TIn, any, TOut>): Transcoder.Encoding<TIn, Buffer, TOut>
  /** The default key encoding, normalized (a level-transcoder encoding). */
  keyEncoding(): Transcoder.Encoding<KDefault, Buffer, KDefault>
  /** The value encoding of that name, normalized (a level-transcoder encoding). */
  valueEncoding<N extends Transcoder.KnownEncodingName>(encoding: N): Transcoder.KnownEncoding<N, Buffer>
  /** The given value encoding, normalized (a level-transcoder encoding). */
  valueEncoding<TIn, TOut>(encoding: Transcoder.MixedEncoding<TIn, any, TOut>): Transcoder.Encoding<TIn, Buffer, TOut>
  /** The default value encoding, normalized (a level-transcoder encoding). */
  valueEncoding(): Transcoder.Encoding<VDefault, Buffer, VDefault>
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: string, keyFormat: 'utf8', local?: boolean | undefined): string
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: Buffer, keyFormat: 'buffer', local?: boolean | undefined): Buffer
  /** An encoded key with the sublevel prefix added (of the parent if `local`, else of the root); a database's keys have none. */
  prefixKey(key: Uint8Array, keyFormat: 'view', local?: boolean | undefined): Uint8Array
  /** Calls the synchronous function `fn` once the status changes to 'open' or 'closed' (a deferred operation). */
  defer(fn: Function, options?: AbstractDeferOptions | undefined): void
  /** Calls the asynchronous function `fn` once the status changes to 'open' or 'closed'; resolves with its result. */
  deferAsync<T>(fn: () => Promise<T>, options?: AbstractDeferOptions | undefined): Promise<T>
  /** Closes `resource` when the database closes (iterators, snapshots and sublevels are attached this way). */
  attachResource(resource: AbstractResource): void
  /** Stops tracking `resource`. */
  detachResource(resource: AbstractResource): void
}

/**
 * The sublevel `db.sublevel()` returns, as TypeScript sees it: abstract-level's
 * AbstractSublevel, plus {@link ChronoSublevelApi} (the reads typed with `at`, `history()`,
 * `changes()`). At run time it is a {@link ChronoSublevel}.
 *
 * @typeParam TDatabase - the parent database.
 * @typeParam K - the type of keys under the sublevel's default key encoding.
 * @typeParam V - the type of values under the sublevel's default value encoding.
 */
// ChronoSublevelApi first: its overloads (with `at`, and sublevel() returning this type) are tried first.
export type ChronoSublevelOf<TDatabase, K, V> = ChronoSublevelApi<K, V> & AbstractSublevel<TDatabase, Buffer, K, V>

/**
 * What a sublevel of a ChronoLevel adds to abstract-level's AbstractSublevel in TypeScript:
 * its read methods with `at` in their options (each overload set repeats abstract-level's,
 * with the options widened), `history()`, `changes()`, and `sublevel()` returning the same
 * kind of sublevel. Kept free of `this` and of the database type so that a ChronoLevel stays
 * cheaply assignable to abstract-level's types.
 *
 * @typeParam KDefault - the type of keys under the sublevel's default key encoding.
 * @typeParam VDefault - the type of values under the sublevel's default value encoding.
 */
export interface ChronoSublevelApi<KDefault, VDefault> {
  /** Gets a value as of now. */
  get(key: KDefault): Promise<VDefault | undefined>
  /** Gets a value as of now, `options.at` or `options.snapshot`. */
  get<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): Promise<V | undefined>
  /** Gets a value synchronously, as of now. */
  getSync(key: KDefault): VDefault | undefined
  /** Gets a value synchronously, as of now, `options.at` or `options.snapshot`. */
  getSync<K = KDefault, V = VDefault>(key: K, options: ChronoGetOptions<K, V>): V | undefined
  /** Gets several values as of now. */
  getMany(keys: KDefault[]): Promise<Array<VDefault | undefined>>
  /** Gets several values as of one time: now, `options.at` or `options.snapshot`. */
  getMany<K = KDefault, V = VDefault>(keys: K[], options: ChronoGetManyOptions<K, V>): Promise<Array<V | undefined>>
  /** True when `key` has a value now. */
  has(key: KDefault): Promise<boolean>
  /** True when `key` had a value as of now, `options.at` or `options.snapshot`. */
  has<K = KDefault>(key: K, options: ChronoHasOptions<K>): Promise<boolean>
  /** For each key, whether it has a value now. */
  hasMany(keys: KDefault[]): Promise<boolean[]>
  /** For each key, whether it had a value as of one time: now, `options.at` or `options.snapshot`. */
  hasMany<K = KDefault>(keys: K[], options: ChronoHasManyOptions<K>): Promise<boolean[]>
  /** An iterator of entries, reading the database as of its creation. */
  iterator(): AbstractIterator<AbstractLevel<Buffer, any, any>, KDefault, VDefault>
  /** An iterator of entries, reading one time: now, `options.at` or `options.snapshot`. */
  iterator<K = KDefault, V = VDefault>(options: ChronoIteratorOptions<K, V>): AbstractIterator<AbstractLevel<Buffer, any, any>, K, V>
  /** An iterator of keys, reading the database as of its creation. */
  keys(): AbstractKeyIterator<AbstractLevel<Buffer, any, any>, KDefault>
  /** An iterator of keys, reading one time: now, `options.at` or `options.snapshot`. */
  keys<K = KDefault>(options: ChronoKeyIteratorOptions<K>): AbstractKeyIterator<AbstractLevel<Buffer, any, any>, K>
  /** An iterator of values, reading the database as of its creation. */
  values(): AbstractValueIterator<AbstractLevel<Buffer, any, any>, KDefault, VDefault>
  /** An iterator of values, reading one time: now, `options.at` or `options.snapshot`. */
  values<K = KDefault, V = VDefault>(options: ChronoValueIteratorOptions<K, V>): AbstractValueIterator<AbstractLevel<Buffer, any, any>, K, V>
  /** Deletes every key. */
  clear(): Promise<void>
  /** Deletes the keys of a range that had a value now, at `options.at`, or in `options.snapshot`. */
  clear<K = KDefault>(options: ChronoClearOptions<K>): Promise<void>
  /** A snapshot of now, or of `options.at`. */
  snapshot(options?: ChronoSnapshotOptions): ChronoLevelSnapshot
  /** Every version of `key` in this sublevel; see `ChronoLevel.history`. */
  history<K = KDefault, V = VDefault>(key: K, options?: ChronoHistoryOptions<K, V>): Promise<Array<LevelVersion<K, V>>>
  /** Every version of this sublevel's keys in `[gte, lt)` x `[since, until)`; see `ChronoLevel.changes`. */
  changes<K = KDefault, V = VDefault>(options?: ChronoChangesOptions<K, V>): Promise<Array<LevelVersion<K, V>>>
  /** A nested sublevel with utf8 keys and values. */
  sublevel(name: string | string[]): ChronoSublevelOf<AbstractLevel<Buffer, any, any>, string, string>
  /** A nested sublevel with the given separator and encodings. */
  sublevel<K = string, V = string>(
    name: string | string[],
    options: AbstractSublevelOptions<K, V>,
  ): ChronoSublevelOf<AbstractLevel<Buffer, any, any>, K, V>
}
