/**
 * Keys and values on the command line and in NDJSON.
 *
 * Keys: `utf8` (default), or bytes written as `hex` or `base64` (`binary` means `hex`).
 * Values: `json` (default: the JSON text as stored by the library's json encoding), `utf8`,
 * or bytes as `hex` or `base64` (`binary` means `hex`). The database is opened with the
 * matching library encodings, so the CLI reads and writes exactly what a program using
 * `open(path, { keyEncoding, valueEncoding })` does.
 *
 * @packageDocumentation
 */

import type { KeyEncoding, ValueEncoding } from '../options'
import { UsageError } from './exit-codes'

export const KEY_ENCODINGS = ['utf8', 'hex', 'base64', 'binary'] as const
export const VALUE_ENCODINGS = ['json', 'utf8', 'hex', 'base64', 'binary'] as const

export type CliKeyEncoding = (typeof KEY_ENCODINGS)[number]
export type CliValueEncoding = (typeof VALUE_ENCODINGS)[number]

/** Keys and values as the CLI sees them: strings on the command line, JSON in NDJSON. */
export interface Encodings {
  /** The library encodings to open the database with. */
  keyEncoding: KeyEncoding<any>
  valueEncoding: ValueEncoding<any>
  /** A key from the command line or an NDJSON line. */
  parseKey(text: unknown, what?: string): unknown
  /** A key for output. */
  formatKey(key: unknown): string
  /** A value from the command line (`json`: JSON text). */
  parseValueArg(text: string): unknown
  /** A value from an NDJSON line's `value` field. */
  parseValueField(field: unknown, what?: string): unknown
  /** A value for a line of human output. */
  formatValue(value: unknown): string
  /** A value for an NDJSON line's `value` field. */
  valueField(value: unknown): unknown
}

function bytesCodec(encoding: 'hex' | 'base64', label: string) {
  const pattern = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/ : /^[A-Za-z0-9+/]*={0,2}$/
  return {
    parse(text: unknown, what: string): Buffer {
      if (typeof text !== 'string' || !pattern.test(text) || (encoding === 'base64' && text.length % 4 !== 0)) {
        throw new UsageError(`${what} must be ${label} text (${encoding}), got ${JSON.stringify(text)}`)
      }
      return Buffer.from(text, encoding)
    },
    format(bytes: unknown): string {
      return Buffer.from(bytes as Uint8Array).toString(encoding)
    },
  }
}

export function encodings(key: CliKeyEncoding, value: CliValueEncoding): Encodings {
  const keyBytes = key === 'utf8' ? undefined : bytesCodec(key === 'base64' ? 'base64' : 'hex', 'binary key')
  const valueBytes =
    value === 'json' || value === 'utf8' ? undefined : bytesCodec(value === 'base64' ? 'base64' : 'hex', 'binary value')
  return {
    keyEncoding: keyBytes === undefined ? 'utf8' : 'binary',
    valueEncoding: valueBytes === undefined ? value as 'json' | 'utf8' : 'binary',
    parseKey(text, what = 'key') {
      if (keyBytes !== undefined) return keyBytes.parse(text, what)
      if (typeof text !== 'string') throw new UsageError(`${what} must be a string, got ${JSON.stringify(text)}`)
      return text
    },
    formatKey(k) {
      return keyBytes === undefined ? (k as string) : keyBytes.format(k)
    },
    parseValueArg(text) {
      if (valueBytes !== undefined) return valueBytes.parse(text, 'value')
      if (value === 'utf8') return text
      try {
        return JSON.parse(text)
      } catch (err) {
        throw new UsageError(
          `the value must be JSON with --value-encoding json (quote strings: '"text"', or use --value-encoding utf8): ${(err as Error).message}`,
        )
      }
    },
    parseValueField(field, what = 'value') {
      if (valueBytes !== undefined) return valueBytes.parse(field, what)
      if (value === 'utf8' && typeof field !== 'string') {
        throw new UsageError(`${what} must be a string with --value-encoding utf8, got ${JSON.stringify(field)}`)
      }
      return field
    },
    formatValue(v) {
      if (valueBytes !== undefined) return valueBytes.format(v)
      return value === 'utf8' ? (v as string) : JSON.stringify(v)
    },
    valueField(v) {
      return valueBytes !== undefined ? valueBytes.format(v) : v
    },
  }
}
