/**
 * Plain data types of the public API.
 *
 * @packageDocumentation
 */

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
  key: K
  value: V
  ts: Timestamp
  /** Never set on committed entries; lets `entry.pending` tell a transaction's own writes apart. */
  pending?: undefined
}

/** A version written by a put: `deleted` is false and `value` is present. */
export interface PutVersion<K, V> {
  key: K
  ts: Timestamp
  value: V
  deleted: false
}

/** A version written by a delete (a tombstone): `deleted` is true and `value` is undefined. */
export interface DeleteVersion<K> {
  key: K
  ts: Timestamp
  value?: undefined
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
export type BatchOp<K, V> = { type: 'put'; key: K; value: V } | { type: 'del'; key: K }

/**
 * An entry a transaction wrote and has not committed yet, as its own reads return it: it has no
 * commit timestamp until `commit()` resolves (`ts` is undefined, `pending` is true).
 */
export interface PendingEntry<K, V> {
  key: K
  value: V
  ts: undefined
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
  file: string
  offset: number
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
