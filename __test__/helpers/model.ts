// An in-memory model of every version of every key, built from the timestamps the database
// resolved with. Keys are utf8 strings, ordered by their encoded bytes like the database.

export interface ModelVersion<V> {
  ts: number
  deleted: boolean
  value?: V
}

export interface ModelEntry<V> {
  key: string
  ts: number
  value: V
}

export interface RangeBounds {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  reverse?: boolean
  limit?: number
}

export interface HistoryBounds {
  since?: number
  until?: number
  reverse?: boolean
  limit?: number
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export class VersionModel<V> {
  private readonly versions = new Map<string, ModelVersion<V>[]>()
  private sortedKeys: string[] | null = []
  /** Every distinct commit timestamp, ascending once `commitTimestamps()` is called. */
  private readonly timestamps = new Set<number>()

  put(key: string, ts: number, value: V): void {
    this.add(key, { ts, deleted: false, value })
  }

  delete(key: string, ts: number): void {
    this.add(key, { ts, deleted: true })
  }

  private add(key: string, version: ModelVersion<V>): void {
    let list = this.versions.get(key)
    if (!list) {
      list = []
      this.versions.set(key, list)
      this.sortedKeys = null
    }
    const last = list[list.length - 1]
    if (last !== undefined && last.ts === version.ts) {
      throw new Error(`model: two versions of ${key} share ts ${version.ts}`)
    }
    list.push(version)
    if (last !== undefined && last.ts > version.ts) list.sort((a, b) => a.ts - b.ts)
    this.timestamps.add(version.ts)
  }

  keys(): string[] {
    if (this.sortedKeys === null) this.sortedKeys = [...this.versions.keys()].sort(compareKeys)
    return this.sortedKeys
  }

  commitTimestamps(): number[] {
    return [...this.timestamps].sort((a, b) => a - b)
  }

  /** The newest version of `key` with ts <= at, if it is a live value. */
  entryAt(key: string, at: number): { ts: number; value: V } | undefined {
    const list = this.versions.get(key)
    if (!list) return undefined
    // binary search for the last version with ts <= at
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (list[mid]!.ts <= at) lo = mid + 1
      else hi = mid
    }
    if (lo === 0) return undefined
    const v = list[lo - 1]!
    return v.deleted ? undefined : { ts: v.ts, value: v.value as V }
  }

  history(key: string, bounds: HistoryBounds = {}): ModelVersion<V>[] {
    let list = (this.versions.get(key) ?? []).filter(
      (v) => (bounds.since === undefined || v.ts >= bounds.since) && (bounds.until === undefined || v.ts < bounds.until),
    )
    if (bounds.reverse) list = list.reverse()
    if (bounds.limit !== undefined) list = list.slice(0, bounds.limit)
    return list
  }

  range(at: number, bounds: RangeBounds = {}): ModelEntry<V>[] {
    let keys = this.keys().filter(
      (k) =>
        (bounds.gt === undefined || compareKeys(k, bounds.gt) > 0) &&
        (bounds.gte === undefined || compareKeys(k, bounds.gte) >= 0) &&
        (bounds.lt === undefined || compareKeys(k, bounds.lt) < 0) &&
        (bounds.lte === undefined || compareKeys(k, bounds.lte) <= 0),
    )
    if (bounds.reverse) keys = keys.reverse()
    const out: ModelEntry<V>[] = []
    for (const key of keys) {
      if (bounds.limit !== undefined && out.length >= bounds.limit) break
      const e = this.entryAt(key, at)
      if (e) out.push({ key, ts: e.ts, value: e.value })
    }
    return out
  }
}
