/**
 * Key-range options shared by `range`, `changes` and `export`: --gte, --gt, --lt, --lte and
 * --prefix, parsed in the command's key encoding.
 *
 * @packageDocumentation
 */

import { Option, type Command } from 'commander'
import type { Encodings } from './encoding'
import { UsageError } from './exit-codes'

export interface KeyRangeFlags {
  gte?: string
  gt?: string
  lt?: string
  lte?: string
  prefix?: string
}

/** Adds the key-range options; `exclusive` adds --gt and --lte too (for `range`). */
export function addKeyRangeOptions(command: Command, inclusiveUpper: boolean): Command {
  command
    .option('--gte <key>', 'only keys >= this key')
    .option('--lt <key>', 'only keys < this key')
    .addOption(new Option('--prefix <text>', 'only keys starting with this prefix').conflicts(['gte', 'lt', 'gt', 'lte']))
  if (inclusiveUpper) command.option('--gt <key>', 'only keys > this key').option('--lte <key>', 'only keys <= this key')
  return command
}

/** The next key after every key that starts with `prefix`, or undefined when there is none. */
function successor(prefix: unknown): unknown {
  if (typeof prefix === 'string') {
    const last = prefix.charCodeAt(prefix.length - 1)
    // Incrementing the last UTF-16 unit keeps UTF-8 byte order unless it is a surrogate or U+FFFF.
    if (prefix.length === 0 || last === 0xffff || (last >= 0xd800 && last <= 0xdfff)) return undefined
    return prefix.slice(0, -1) + String.fromCharCode(last + 1)
  }
  const bytes = Buffer.from(prefix as Uint8Array)
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0xff) end--
  if (end === 0) return undefined
  const next = Buffer.from(bytes.subarray(0, end))
  next[end - 1]! += 1
  return next
}

/** The library's bounds for the flags (keys decoded with the command's key encoding). */
export function keyBounds(enc: Encodings, flags: KeyRangeFlags): Record<string, unknown> {
  const bounds: Record<string, unknown> = {}
  if (flags.prefix !== undefined) {
    const prefix = enc.parseKey(flags.prefix, '--prefix')
    if ((typeof prefix === 'string' ? prefix.length : (prefix as Buffer).length) === 0) {
      throw new UsageError('--prefix must not be empty')
    }
    bounds.gte = prefix
    const lt = successor(prefix)
    if (lt !== undefined) bounds.lt = lt
    return bounds
  }
  for (const name of ['gte', 'gt', 'lt', 'lte'] as const) {
    const text = flags[name]
    if (text !== undefined) bounds[name] = enc.parseKey(text, `--${name}`)
  }
  return bounds
}
