/**
 * Deterministic data for every workload: 16-byte keys, 100-byte values, a seeded random number
 * generator, and the temporal data set (20 versions per key, some of them deletes).
 *
 * Every store receives exactly the same bytes: keys and values are Buffers, so no store pays for
 * (or benefits from) its own string or JSON encoding.
 *
 * @packageDocumentation
 */

/** Bytes per key. */
export const KEY_BYTES = 16
/** Bytes per value. */
export const VALUE_BYTES = 100
/** Versions per key in the temporal data set. */
export const VERSIONS_PER_KEY = 20
/** Operations per batch, for every store, when loading data. */
export const LOAD_CHUNK = 10_000
/** Operations per commit when loading the temporal data set (so versions get many timestamps). */
export const TEMPORAL_CHUNK = 1_000

/** Mulberry32: a small, fast, seeded generator; returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit integer hash of two integers (for choosing values and deletes deterministically). */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  return h >>> 0
}

/** The key of item `i`: `key:` and 12 zero-padded digits, 16 ASCII bytes, sorted by `i`. */
export function keyOf(i: number): Buffer {
  return Buffer.from(`key:${String(i).padStart(12, '0')}`, 'latin1')
}

/** `n` keys, in key order. */
export function makeKeys(n: number): Buffer[] {
  const keys = new Array<Buffer>(n)
  for (let i = 0; i < n; i++) keys[i] = keyOf(i)
  return keys
}

const POOL_SIZE = 4096
let pool: Buffer[] | undefined

/** 4096 random 100-byte values (so LevelDB's block compression gains little, as in real data). */
function valuePool(): Buffer[] {
  if (pool === undefined) {
    const next = rng(42)
    pool = []
    for (let i = 0; i < POOL_SIZE; i++) {
      const b = Buffer.allocUnsafe(VALUE_BYTES)
      for (let j = 0; j < VALUE_BYTES; j++) b[j] = Math.floor(next() * 256)
      pool.push(b)
    }
  }
  return pool
}

/** The value of key `i` in version `round` (round 0 for the plain data set). */
export function valueOf(i: number, round = 0): Buffer {
  return valuePool()[mix(i, round) % POOL_SIZE] as Buffer
}

/** A random permutation of 0..n-1 (Fisher-Yates with a seeded generator). */
export function shuffled(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const next = rng(seed)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  return order
}

/** `count` random integers in [0, n), precomputed so that no store pays for the generator. */
export function randomIndexes(count: number, n: number, seed: number): Uint32Array {
  const next = rng(seed)
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = Math.floor(next() * n)
  return out
}

/** One put or delete of the plain or temporal data set. */
export interface LoadOp {
  key: Buffer
  /** Undefined for a delete. */
  value: Buffer | undefined
}

/** The plain data set: `n` keys in a random order (a bulk load rarely arrives sorted), in chunks. */
export function* plainChunks(n: number, chunk = LOAD_CHUNK): Generator<LoadOp[]> {
  const order = shuffled(n, 7)
  for (let start = 0; start < n; start += chunk) {
    const ops: LoadOp[] = []
    for (let j = start; j < Math.min(n, start + chunk); j++) {
      const i = order[j] as number
      ops.push({ key: keyOf(i), value: valueOf(i) })
    }
    yield ops
  }
}

/** True when version `round` of key `i` is a delete: about 2%, never in the first round (every key
 *  starts live) nor in the last (every key is live now). */
export function isDelete(i: number, round: number): boolean {
  return round < VERSIONS_PER_KEY - 1 && round > 0 && mix(i, round + 1000) % 50 === 0
}

/**
 * The temporal data set: `keys` keys x 20 versions. Round r writes version r of every key, in a
 * fresh random order, in commits of {@link TEMPORAL_CHUNK} operations; so a key's versions are
 * spread over the whole timeline and each commit holds many keys.
 */
export function* temporalChunks(keys: number, chunk = TEMPORAL_CHUNK): Generator<LoadOp[]> {
  for (let round = 0; round < VERSIONS_PER_KEY; round++) {
    const order = shuffled(keys, 100 + round)
    for (let start = 0; start < keys; start += chunk) {
      const ops: LoadOp[] = []
      for (let j = start; j < Math.min(keys, start + chunk); j++) {
        const i = order[j] as number
        ops.push({ key: keyOf(i), value: isDelete(i, round) ? undefined : valueOf(i, round) })
      }
      yield ops
    }
  }
}

/** A composite key `key || ts (8 bytes big-endian)`, how lmdb-js and classic-level users emulate versions. */
export function composite(key: Buffer, ts: number): Buffer {
  const b = Buffer.allocUnsafe(key.length + 8)
  key.copy(b, 0)
  b.writeUInt32BE(Math.floor(ts / 2 ** 32), key.length)
  b.writeUInt32BE(ts >>> 0, key.length + 4)
  return b
}

/** The timestamp at the end of a composite key. */
export function compositeTs(k: Uint8Array): number {
  const n = k.length
  const hi = ((k[n - 8] as number) * 2 ** 24 + ((k[n - 7] as number) << 16) + ((k[n - 6] as number) << 8) + (k[n - 5] as number))
  const lo = ((k[n - 4] as number) * 2 ** 24 + ((k[n - 3] as number) << 16) + ((k[n - 2] as number) << 8) + (k[n - 1] as number))
  return hi * 2 ** 32 + lo
}

/** `key` followed by eight 0xff bytes: above every composite key of `key`. */
export function compositeEnd(key: Buffer): Buffer {
  const b = Buffer.alloc(key.length + 8, 0xff)
  key.copy(b, 0)
  return b
}
