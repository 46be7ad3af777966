/**
 * `chronokv/level`: an [abstract-level](https://github.com/Level/abstract-level) database
 * stored in chronokv, with time travel (`at` on reads, `history`, `changes`).
 *
 * @example
 * ```ts
 * import { ChronoLevel } from 'chronokv/level'
 *
 * const db = new ChronoLevel('./data/level')
 * await db.put('a', '1')
 * const ts = db.chronokv.now()
 * await db.put('a', '2')
 * await db.get('a', { at: ts }) // '1'
 * ```
 *
 * @packageDocumentation
 */

export { ChronoLevel } from './chrono-level'
export { ChronoLevelSnapshot } from './snapshot'
export { ChronoSublevel, type ChronoSublevelApi, type ChronoSublevelOf } from './sublevel'
export { LevelError } from './errors'
export { KEY_PREFIX, MAX_LEVEL_KEY_BYTES } from './keys'
export type {
  ChronoChangesOptions,
  ChronoClearOptions,
  ChronoGetManyOptions,
  ChronoGetOptions,
  ChronoHasManyOptions,
  ChronoHasOptions,
  ChronoHistoryOptions,
  ChronoIteratorOptions,
  ChronoKeyIteratorOptions,
  ChronoLevelOptions,
  ChronoSnapshotOptions,
  ChronoValueIteratorOptions,
  LevelDeleteVersion,
  LevelPutVersion,
  LevelVersion,
  TimeTravelOptions,
} from './options'
