/**
 * How abstract-level keys map to chronokv keys.
 *
 * abstract-level allows the empty key and chronokv does not (its keys are 1..4096 bytes), so
 * the adapter stores every key behind one constant byte, {@link KEY_PREFIX}: the level key `k`
 * is the chronokv key `0x00 ‖ k`. Prepending a constant keeps the byte order (`a < b` exactly
 * when `0x00 ‖ a < 0x00 ‖ b`), makes every key non-empty, and confines the adapter to the
 * chronokv key range `[0x00, 0x01)`. The cost is one byte: a level key may be at most
 * {@link MAX_LEVEL_KEY_BYTES} (4095) bytes after encoding.
 *
 * Range bounds, unlike keys, may be empty or longer than any stored key (abstract-level passes
 * them through as given); {@link storeRange} and {@link seekRange} turn them into bounds
 * chronokv accepts that select exactly the same stored keys.
 *
 * @packageDocumentation
 */

import { MAX_KEY_BYTES } from '../codecs'
import { LevelError } from './errors'

/** The byte in front of every key the adapter stores. */
export const KEY_PREFIX = 0x00

/** The longest level key, in bytes after abstract-level's encoding: chronokv's limit less the prefix. */
export const MAX_LEVEL_KEY_BYTES = MAX_KEY_BYTES - 1

/** The chronokv key of the empty level key: the smallest key the adapter can store. @internal */
export const LOWEST_KEY = Buffer.from([KEY_PREFIX])
/** The first chronokv key above every key the adapter stores. @internal */
export const PAST_HIGHEST_KEY = Buffer.from([KEY_PREFIX + 1])

/**
 * A key range in chronokv's terms: at most one lower and one upper bound, each a valid
 * chronokv key.
 * @internal
 */
export interface StoreRange {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
}

/**
 * The chronokv key of an encoded level key.
 * @throws LevelError `LEVEL_INVALID_KEY` for a key longer than {@link MAX_LEVEL_KEY_BYTES}.
 * @internal
 */
export function storeKey(key: Uint8Array): Buffer {
  if (key.byteLength > MAX_LEVEL_KEY_BYTES) {
    throw new LevelError(
      `A key must be at most ${MAX_LEVEL_KEY_BYTES} bytes after encoding (chronokv's ${MAX_KEY_BYTES} less the adapter's one-byte prefix); this one is ${key.byteLength} bytes.`,
      'LEVEL_INVALID_KEY',
    )
  }
  const stored = Buffer.allocUnsafe(key.byteLength + 1)
  stored[0] = KEY_PREFIX
  stored.set(key, 1)
  return stored
}

/**
 * The level key of a stored chronokv key: the bytes after the prefix, as a view (the stored
 * key is a fresh Buffer, so the view may be handed out).
 * @internal
 */
export function levelKey(stored: Buffer): Buffer {
  return stored.subarray(1)
}

/**
 * A bound as a chronokv key selecting the same stored keys. A bound longer than any stored key
 * is cut to `MAX_KEY_BYTES` bytes, which turns `gte`/`gt` into `gt` and `lt`/`lte` into `lte`:
 * a stored key `k` (at most `MAX_KEY_BYTES` bytes) is above `B` exactly when it is above `B`'s
 * first `MAX_KEY_BYTES` bytes, because it cannot extend them.
 */
function bound(bytes: Uint8Array, side: 'gt' | 'gte' | 'lt' | 'lte'): StoreRange {
  if (bytes.byteLength <= MAX_LEVEL_KEY_BYTES) return { [side]: storeKey(bytes) }
  const cut = storeKey(bytes.subarray(0, MAX_LEVEL_KEY_BYTES))
  return side === 'gt' || side === 'gte' ? { gt: cut } : { lte: cut }
}

/** Range options as abstract-level hands them to the private API: encoded bounds, any of them. */
export interface EncodedRange {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
}

/**
 * The chronokv range holding the stored keys of a level range. Without a lower (upper) bound,
 * the range starts at the empty level key (ends below the first key past the adapter's prefix).
 * abstract-level gives `gte` precedence over `gt` and `lte` over `lt`, as this does.
 * @internal
 */
export function storeRange(range: EncodedRange): StoreRange {
  const lower =
    range.gte !== undefined ? bound(range.gte, 'gte') : range.gt !== undefined ? bound(range.gt, 'gt') : { gte: LOWEST_KEY }
  const upper =
    range.lte !== undefined ? bound(range.lte, 'lte') : range.lt !== undefined ? bound(range.lt, 'lt') : { lt: PAST_HIGHEST_KEY }
  return { ...lower, ...upper }
}

/**
 * `range` narrowed for `iterator.seek(target)`: the keys from `target` on (down from `target`
 * when `reverse`) that are still inside `range`. The stricter of the two bounds wins.
 * @internal
 */
export function seekRange(range: StoreRange, target: Uint8Array, reverse: boolean): StoreRange {
  if (!reverse) {
    const seek = bound(target, 'gte')
    const { gt, gte, ...upper } = range
    const current = (gte ?? gt)!
    const seekKey = (seek.gte ?? seek.gt)!
    const order = Buffer.compare(seekKey, current)
    // At an equal key, gt is stricter than gte.
    const seekWins = order > 0 || (order === 0 && seek.gt !== undefined && gt === undefined)
    return seekWins ? { ...seek, ...upper } : range
  }
  const seek = bound(target, 'lte')
  const { lt, lte, ...lower } = range
  const current = (lte ?? lt)!
  const seekKey = seek.lte!
  const order = Buffer.compare(seekKey, current)
  // At an equal key, lt is stricter than lte.
  const seekWins = order < 0 || (order === 0 && lt === undefined)
  return seekWins ? { ...lower, ...seek } : range
}
