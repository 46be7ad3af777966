/**
 * A key's history as a readable timeline: one entry per version, oldest first, with the time
 * in UTC (to the microsecond), the raw timestamp, the time since the version before, and the
 * value or a deletion mark.
 *
 * ```text
 * user:alice: 3 versions, 2026-01-31T12:00:00.123456Z .. 2026-01-31T12:05:00.000000Z
 *
 *   ● 2026-01-31T12:00:00.123456Z  ts 1769860800123456
 *   │ {"name":"Alice","plan":"free"}
 *   │
 *   ● 2026-01-31T12:01:00.000000Z  ts 1769860860000000  (+59.9s)
 *   │ {"name":"Alice","plan":"pro"}
 *   │
 *   ✕ 2026-01-31T12:05:00.000000Z  ts 1769861100000000  (+4m 0s)
 *     deleted
 * ```
 *
 * @packageDocumentation
 */

import type { Version } from '../types'
import { isoTime } from './time'

/** A duration in microseconds as a short human string: 850µs, 12.3ms, 59.9s, 4m 0s, 3h 12m, 2d 4h. */
export function humanDuration(micros: number): string {
  if (micros < 1000) return `${micros}µs`
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(1)}ms`
  const seconds = micros / 1_000_000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const s = Math.floor(seconds)
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

/** The timeline's lines for `versions` (oldest first unless the caller reversed them). */
export function timeline(
  key: string,
  versions: ReadonlyArray<Version<unknown, unknown>>,
  formatValue: (value: unknown) => string,
): string[] {
  if (versions.length === 0) return [`${key}: no versions`]
  const first = versions[0]!
  const last = versions[versions.length - 1]!
  const count = `${versions.length} version${versions.length === 1 ? '' : 's'}`
  const span = versions.length === 1 ? isoTime(first.ts) : `${isoTime(first.ts)} .. ${isoTime(last.ts)}`
  const lines = [`${key}: ${count}, ${span}`, '']
  versions.forEach((version, i) => {
    const previous = versions[i - 1]
    const gap = previous === undefined ? '' : `  (${previous.ts <= version.ts ? '+' : '-'}${humanDuration(Math.abs(version.ts - previous.ts))})`
    const mark = version.deleted ? '✕' : '●'
    const end = i === versions.length - 1
    const rail = end ? ' ' : '│'
    lines.push(`  ${mark} ${isoTime(version.ts)}  ts ${version.ts}${gap}`)
    const body = version.deleted ? 'deleted' : formatValue(version.value)
    for (const text of body.split('\n')) lines.push(`  ${rail} ${text}`)
    if (!end) lines.push('  │')
  })
  return lines
}
