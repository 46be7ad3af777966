/**
 * Timestamps on the command line: integer microseconds since the Unix epoch, or ISO-8601
 * dates (with up to six fractional digits), or `now`. Printed as both.
 *
 * @packageDocumentation
 */

import { MAX_TIMESTAMP } from '../options'
import { UsageError } from './exit-codes'

const ISO = /^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/

/** Parses a time argument; `what` names the option in errors. */
export function parseTime(text: string, what = 'time'): number {
  const trimmed = text.trim()
  if (trimmed === 'now') return Math.min(Date.now() * 1000, MAX_TIMESTAMP)
  if (/^\d+$/.test(trimmed)) {
    const micros = Number(trimmed)
    if (!Number.isSafeInteger(micros)) throw new UsageError(`${what} ${trimmed} is above the largest timestamp ${MAX_TIMESTAMP}`)
    return micros
  }
  const match = ISO.exec(trimmed)
  if (match !== null) {
    const [, base, fraction = '', zone] = match
    // Without a zone a time is UTC, as every time the CLI prints is.
    const millis = Date.parse(`${base!.replace(' ', 'T')}${zone ?? 'Z'}`)
    if (!Number.isNaN(millis)) {
      const micros = millis * 1000 + Number(fraction.padEnd(6, '0'))
      if (micros >= 0 && Number.isSafeInteger(micros)) return micros
    }
  }
  throw new UsageError(
    `${what} must be integer microseconds since the Unix epoch or an ISO-8601 date (2026-01-31T12:00:00.123456Z), got ${JSON.stringify(text)}`,
  )
}

/** A timestamp as an ISO-8601 UTC time with microseconds: 2026-01-31T12:00:00.123456Z. */
export function isoTime(ts: number): string {
  const iso = new Date(Math.floor(ts / 1000)).toISOString()
  return `${iso.slice(0, -1)}${String(ts % 1000).padStart(3, '0')}Z`
}

/** A timestamp printed both ways: `1769860800123456 (2026-01-31T12:00:00.123456Z)`. */
export function bothTimes(ts: number): string {
  return `${ts} (${isoTime(ts)})`
}
