/**
 * What every command shares: the global options and opening the database with them.
 *
 * @packageDocumentation
 */

import type { Command } from 'commander'
import { open, type Database } from '../index'
import type { Durability } from '../options'
import { encodings, type CliKeyEncoding, type CliValueEncoding, type Encodings } from './encoding'

export interface GlobalOptions {
  keyEncoding: CliKeyEncoding
  valueEncoding: CliValueEncoding
  /** False with --no-progress. */
  progress: boolean
}

/** The program's options, as seen from any command. */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions
}

export function encodingsOf(command: Command): Encodings {
  const options = globals(command)
  return encodings(options.keyEncoding, options.valueEncoding)
}

/** How a command opens the database. */
export interface OpenMode {
  /** Writes need a writable open; reads open read-only (and never create a database). */
  write: boolean
  durability?: Durability
}

/** Opens the database at `path`, runs `fn` and closes it (also when `fn` fails). */
export async function withDatabase<T>(
  path: string,
  enc: Encodings,
  mode: OpenMode,
  fn: (db: Database<any, any>) => Promise<T>,
): Promise<T> {
  const db = await open<any, any>(path, {
    keyEncoding: enc.keyEncoding,
    valueEncoding: enc.valueEncoding,
    readOnly: !mode.write,
    createIfMissing: mode.write,
    durability: mode.durability ?? 'sync',
  })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}
