// Normalizes what the database yields so tests can compare with t.deepEqual.

export interface PlainVersion<K, V> {
  key: K
  ts: number
  deleted: boolean
  value?: V
}

export interface PlainEntry<K, V> {
  key: K
  ts: number
  value: V
}

/** History versions as plain objects; a tombstone carries no `value` property. */
export function plainVersions<K, V>(
  versions: Iterable<{ key: K; ts: number; deleted: boolean; value?: V }>,
): PlainVersion<K, V>[] {
  return Array.from(versions, (v) =>
    v.deleted ? { key: v.key, ts: v.ts, deleted: true } : { key: v.key, ts: v.ts, deleted: false, value: v.value as V },
  )
}

export function plainEntries<K, V>(entries: Iterable<{ key: K; ts: number; value: V }>): PlainEntry<K, V>[] {
  return Array.from(entries, (e) => ({ key: e.key, ts: e.ts, value: e.value }))
}

/** Bytes-like keys or values (Buffer or Uint8Array) as hex, for order-sensitive comparisons. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
