/**
 * The export format: one JSON object per line, one line per version, in commit order
 * (timestamp ascending; versions of one commit in key order):
 *
 * ```text
 * {"key":"user:alice","ts":1769860800123456,"value":{"name":"Alice"}}
 * {"key":"user:bob","ts":1769860800123999,"deleted":true}
 * ```
 *
 * Keys and values are written in the command's encodings (see encoding.ts). `chronokv import`
 * reads the same lines back; versions sharing a timestamp are committed together.
 *
 * @packageDocumentation
 */

import { InvalidArgumentError } from '../errors'
import type { Version } from '../types'
import type { Encodings } from './encoding'
import { UsageError } from './exit-codes'

/** One version read from a line. */
export interface ImportedVersion {
  key: unknown
  ts: number
  /** Absent for a delete. */
  value?: unknown
  deleted: boolean
}

/** The line for one version (without the newline). */
export function versionLine(enc: Encodings, version: Version<unknown, unknown>): string {
  const key = enc.formatKey(version.key)
  if (version.deleted) return JSON.stringify({ key, ts: version.ts, deleted: true })
  return JSON.stringify({ key, ts: version.ts, value: enc.valueField(version.value) })
}

/** Parses line number `lineNo`; every problem is an InvalidArgumentError naming the line. */
export function parseVersionLine(enc: Encodings, text: string, lineNo: number): ImportedVersion {
  const bad = (why: string) => new InvalidArgumentError(`line ${lineNo}: ${why}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('expected an object like {"key":...,"ts":...,"value":...} or {"key":...,"ts":...,"deleted":true}')
  }
  const line = parsed as Record<string, unknown>
  for (const name of Object.keys(line)) {
    if (!['key', 'ts', 'value', 'deleted'].includes(name)) throw bad(`unknown field "${name}"`)
  }
  const ts = line.ts
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts <= 0) {
    throw bad(`"ts" must be a positive integer number of microseconds, got ${JSON.stringify(ts)}`)
  }
  const deleted = line.deleted
  if (deleted !== undefined && deleted !== true && deleted !== false) throw bad('"deleted" must be true or false')
  const hasValue = Object.hasOwn(line, 'value')
  if (deleted === true && hasValue) throw bad('a deleted version has no "value"')
  if (deleted !== true && !hasValue) throw bad('a version needs a "value" or "deleted": true')
  try {
    const key = enc.parseKey(line.key, '"key"')
    if (deleted === true) return { key, ts, deleted: true }
    return { key, ts, value: enc.parseValueField(line.value, '"value"'), deleted: false }
  } catch (err) {
    if (err instanceof UsageError) throw bad(err.message)
    throw err
  }
}
