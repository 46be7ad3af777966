/**
 * Plain data types of the public API.
 *
 * @packageDocumentation
 */

import type { ChangeFeed } from './change-feed'

/** A commit timestamp: integer microseconds since the Unix epoch, at most 2^53 - 1. */
export type Timestamp = number

/**
 * A point in time to read at: a {@link Timestamp}, or a `Date` (its milliseconds * 1000).
 * Must be a non-negative integer no larger than 2^53 - 1 once converted.
 */
export type At = Timestamp | Date

/** Options of the point reads `get`, `getEntry`, `has` and `getMany`. */
export interface ReadOptions {
  /** Read the database as it was at this time (default: now). */
  at?: At
}

/** A key with its value and the commit timestamp of the version the value comes from. */
export interface Entry<K, V> {
  /** The key, decoded. */
  key: K
  /** The value of the version read, decoded. */
  value: V
  /** The commit timestamp of that version. */
  ts: Timestamp
  /** Never set on committed entries; lets `entry.pending` tell a transaction's own writes apart. */
  pending?: undefined
}

/** A version written by a put: `deleted` is false and `value` is present. */
export interface PutVersion<K, V> {
  /** The key written. */
  key: K
  /** The commit timestamp of the put (shared by every write of its batch or transaction). */
  ts: Timestamp
  /** The value written. */
  value: V
  /** Always false for a put. */
  deleted: false
}

/** A version written by a delete (a tombstone): `deleted` is true and `value` is undefined. */
export interface DeleteVersion<K> {
  /** The key deleted. */
  key: K
  /** The commit timestamp of the delete (shared by every write of its batch or transaction). */
  ts: Timestamp
  /** Always undefined: a tombstone has no value. */
  value?: undefined
  /** Always true for a delete. */
  deleted: true
}

/**
 * One version of a key, as listed by `history`. Check `deleted` to narrow `value`:
 * `if (!v.deleted) use(v.value)`.
 */
export type Version<K, V> = PutVersion<K, V> | DeleteVersion<K>

/**
 * Bounds and order of `getRange`. Keys are compared by their encoded bytes. At most one of
 * `gt`/`gte` and one of `lt`/`lte` may be given.
 */
export interface RangeOptions<K> {
  /** Only keys strictly greater than this one. */
  gt?: K
  /** Only keys greater than or equal to this one. */
  gte?: K
  /** Only keys strictly less than this one. */
  lt?: K
  /** Only keys less than or equal to this one. */
  lte?: K
  /** Descending key order when true (default false). */
  reverse?: boolean
  /** At most this many entries (a non-negative integer). */
  limit?: number
  /** The snapshot to read; fixed when `getRange` is called (default: `db.now()` at that moment). */
  at?: At
}

/** Time window, order and size of `history`. */
export interface HistoryOptions {
  /** Only versions with `ts >= since` (inclusive). */
  since?: At
  /** Only versions with `ts < until` (exclusive). */
  until?: At
  /** Newest first when true; oldest first otherwise (default). */
  reverse?: boolean
  /** At most this many versions (a non-negative integer). */
  limit?: number
}

/** Counters describing a database. */
export interface Stats {
  /**
   * Distinct keys in the in-memory tables (counted per table). Keys that live only in extents
   * on disk are not counted: that would take a full scan.
   */
  keys: number
  /** Number of versions kept, in memory and in extents, tombstones included. */
  versions: number
  /** Bytes held by the in-memory tables (the active one and those waiting for their flush). */
  memtableBytes: number
  /** In-memory tables: the active one plus frozen ones waiting for their flush. */
  memtables: number
  /** Live extents on disk. */
  extents: number
  /** Blocks in the live extents. */
  extentBlocks: number
  /** Bytes of the live extents. */
  extentBytes: number
  /** Allocated size of the data file (live extents, reusable free space, holes). */
  dataFileBytes: number
  /** Extent blocks decoded by reads since the database was opened. */
  blocksRead: number
  /** Extent blocks ruled out by their key, time and Morton bounds without reading them. */
  blocksSkipped: number
  /** Flushes completed since open. */
  flushes: number
  /** Compactions completed since open. */
  compactions: number
  /** Versions collected by retention since open. */
  versionsCollected: number
  /** Reads at a time before this are refused (0: nothing has been collected). */
  retentionHorizon: Timestamp
  /** Open snapshots and transactions pinning history. */
  pins: number
  /** Bytes of write-ahead log on disk. */
  walBytes: number
  /** The newest visible commit timestamp, as `db.now()` returns. */
  now: Timestamp
}

/** The key range x time window of `db.changes()`. */
export interface ChangesOptions<K> {
  /** Only keys greater than or equal to this one. */
  gte?: K
  /** Only keys strictly less than this one. */
  lt?: K
  /** Only versions with `ts >= since` (inclusive). */
  since?: At
  /** Only versions with `ts < until` (exclusive); never later than `db.now()` when called. */
  until?: At
  /** At most this many versions (a non-negative integer). */
  limit?: number
  /** `false` or absent: a one-off listing. See {@link LiveChangesOptions} for a live feed. */
  live?: false
}

/**
 * Options of a live change feed, `db.changes({ live: true, ... })`: every version whose key is
 * in `[gte, lt)`, in commit-timestamp order, first those already committed with `ts >= since`,
 * then new commits as they happen.
 */
export interface LiveChangesOptions<K> {
  /** Makes `changes()` return a {@link ChangeFeed} instead of a one-off listing. */
  live: true
  /** Only keys greater than or equal to this one. */
  gte?: K
  /** Only keys strictly less than this one. */
  lt?: K
  /**
   * Start with the versions committed at this time (inclusive); default 0, the whole history
   * kept. To follow only new commits, pass `db.now() + 1`; to resume a feed, its
   * {@link ChangeFeed.position}. A `since` before `stats().retentionHorizon` is refused with
   * InvalidArgumentError: versions it asks for may have been collected. Without `since`, the
   * feed starts at the horizon. While open, the feed keeps retention from collecting anything
   * it has not read yet.
   */
  since?: At
  /** End the feed once every version with `ts < until` has been handed out (default: never). */
  until?: At
  /** Ends the feed when aborted: iteration then completes normally. */
  signal?: AbortSignal
  /**
   * How often, in milliseconds, a waiting feed checks `db.now()` for commits made through other
   * worker threads (default 50); commits through this thread wake it at once.
   */
  pollIntervalMs?: number
}

/** What `db.compact()` did. */
export interface CompactResult {
  /** Extents merged. */
  extentsIn: number
  /** Extents written. */
  extentsOut: number
  /** Versions read. */
  versionsIn: number
  /** Versions written: the rest were collected by retention. */
  versionsOut: number
  /** The retention horizon afterwards (0: none). */
  horizon: Timestamp
}

/** One operation of `db.batch`: a put of `value` under `key`, or a delete of `key`. */
export type BatchOp<K, V> =
  | {
      /** Writes `value` under `key`. */
      type: 'put'
      /** The key to write. */
      key: K
      /** The value to write. */
      value: V
    }
  | {
      /** Deletes `key` (writes a tombstone version). */
      type: 'del'
      /** The key to delete. */
      key: K
    }

/**
 * An entry a transaction wrote and has not committed yet, as its own reads return it: it has no
 * commit timestamp until `commit()` resolves (`ts` is undefined, `pending` is true).
 */
export interface PendingEntry<K, V> {
  /** The key the transaction wrote. */
  key: K
  /** The value the transaction wrote. */
  value: V
  /** Undefined: the write has no commit timestamp before the commit. */
  ts: undefined
  /** Always true: tells a transaction's own uncommitted write from a committed {@link Entry}. */
  pending: true
}

/** What a transaction's `getEntry` and `getRange` return: committed entries or its own pending ones. */
export type TransactionEntry<K, V> = Entry<K, V> | PendingEntry<K, V>

/**
 * Isolation of a transaction. `'snapshot'` (default): reads come from one snapshot, and a
 * commit fails with ConflictError if another transaction committed a write to one of the same
 * keys after that snapshot (first committer wins); write skew is possible. `'serializable'`:
 * additionally fails if another commit after the snapshot changed a key it read or added,
 * changed or deleted a key inside a range it scanned.
 */
export type Isolation = 'snapshot' | 'serializable'

/** Options of `db.beginTransaction` and `db.transaction`. */
export interface TransactionOptions {
  /** Default `'snapshot'`. */
  isolation?: Isolation
}

/** Options of `db.transaction`. */
export interface RunTransactionOptions extends TransactionOptions {
  /** How many times to run the callback again after a ConflictError (default 3). */
  retries?: number
}

/** Options of `db.snapshot`. */
export interface SnapshotOptions {
  /** The time to pin (default: `db.now()`). */
  at?: At
}

/** Called now and then during long work with how much is done out of a total (0: not known yet). */
export type ProgressListener = (done: number, total: number) => void

/** Options of `db.backup`. */
export interface BackupOptions {
  /** Copy the database as it was at this time (default: `db.now()`). */
  at?: At
  /** Told the versions copied so far, out of the database's version count. */
  onProgress?: ProgressListener
}

/** What `db.backup()` copied. */
export interface BackupResult {
  /** The absolute path of the copy. */
  path: string
  /** The copy holds every version with a timestamp at or before this; its `now()` is this. */
  at: Timestamp
  /** Versions copied. */
  versions: number
  /** Extents written. */
  extents: number
  /** Bytes of those extents. */
  bytes: number
}

/** Options of `check()`. */
export interface CheckOptions {
  /** Told the bytes checked so far, out of the bytes to check. */
  onProgress?: ProgressListener
}

/** One problem `check()` found: the damaged file, the byte offset in it and what failed. */
export interface CheckProblem {
  /** The damaged file's path. */
  file: string
  /** Byte offset of the damage in that file. */
  offset: number
  /** What is wrong there. */
  message: string
}

/** What `check()` read and found. */
export interface CheckReport {
  /** Files read: the format marker, the manifest, the data file, log segments. */
  files: number
  /** Bytes read. */
  bytes: number
  /** Extents the manifest lists. */
  extents: number
  /** Extent blocks checked. */
  blocks: number
  /** Versions in the blocks that passed. */
  versions: number
  /** Log segments checked. */
  walSegments: number
  /** Intact commit records in the log. */
  walRecords: number
  /** Everything wrong, each with its file and offset; empty for a healthy database. */
  problems: CheckProblem[]
}
