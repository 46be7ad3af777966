/**
 * Reading commands: get, history, range, changes.
 *
 * @packageDocumentation
 */

import type { Command } from 'commander'
import type { Version } from '../../types'
import { encodingsOf, withDatabase } from '../context'
import { ExitCode, Outcome, UsageError } from '../exit-codes'
import { addKeyRangeOptions, keyBounds, type KeyRangeFlags } from '../key-range'
import { versionLine } from '../ndjson'
import { LineWriter } from '../output'
import { bothTimes, isoTime, parseTime } from '../time'
import { timeline } from '../timeline'

const time = (what: string) => (text: string) => parseTime(text, what)

function count(what: string) {
  return (text: string) => {
    if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`)
    return Number(text)
  }
}

export function registerReadCommands(program: Command): void {
  program
    .command('get')
    .summary('print the value of a key, now or as of a past time')
    .description(
      'Print the value of <key>: the newest version at or before --at (default: now).\n' +
        'Exits with 1 (and prints nothing on stdout) when the key has no value at that time.',
    )
    .argument('<db>', 'database directory')
    .argument('<key>', 'the key, in the key encoding')
    .option('--at <time>', 'read as of this time (µs since the epoch or an ISO date)', time('--at'))
    .option('--entry', 'print an NDJSON line {"key","ts","value"} instead of the bare value')
    .addHelpText('after', '\nExamples:\n  chronokv get ./data user:alice\n  chronokv get ./data user:alice --at 2026-01-31T12:00:00Z\n  chronokv get ./data user:alice --entry')
    .action(async (path: string, keyText: string, options: { at?: number; entry?: boolean }, command: Command) => {
      const enc = encodingsOf(command)
      const key = enc.parseKey(keyText)
      await withDatabase(path, enc, { write: false }, async (db) => {
        const entry = db.getEntry(key, options.at === undefined ? undefined : { at: options.at })
        if (entry === undefined) {
          const when = options.at === undefined ? '' : ` at ${bothTimes(options.at)}`
          throw new Outcome(`no value for key ${JSON.stringify(keyText)}${when}`, ExitCode.NOT_FOUND_OR_PROBLEMS)
        }
        if (options.entry) {
          process.stdout.write(`${versionLine(enc, { key, ts: entry.ts, value: entry.value, deleted: false })}\n`)
        } else {
          process.stdout.write(`${enc.formatValue(entry.value)}\n`)
        }
      })
    })

  program
    .command('history')
    .summary("show every version of a key as a timeline")
    .description(
      "Show every version of <key>, deletes included, as a timeline (oldest first): each\n" +
        'version with its time in UTC, its timestamp, the time since the one before, and its value.',
    )
    .argument('<db>', 'database directory')
    .argument('<key>', 'the key, in the key encoding')
    .option('--since <time>', 'only versions at or after this time', time('--since'))
    .option('--until <time>', 'only versions before this time', time('--until'))
    .option('--reverse', 'newest first')
    .option('--limit <n>', 'at most this many versions', count('--limit'))
    .option('--ndjson', 'print NDJSON lines {"key","ts","value"|"deleted"} instead of a timeline')
    .addHelpText('after', '\nExamples:\n  chronokv history ./data user:alice\n  chronokv history ./data user:alice --since 2026-01-01 --ndjson')
    .action(async (path: string, keyText: string, options: { since?: number; until?: number; reverse?: boolean; limit?: number; ndjson?: boolean }, command: Command) => {
      const enc = encodingsOf(command)
      const key = enc.parseKey(keyText)
      await withDatabase(path, enc, { write: false }, async (db) => {
        const versions = db.history(key, {
          since: options.since,
          until: options.until,
          reverse: options.reverse ?? false,
          limit: options.limit,
        }).asArray as Version<unknown, unknown>[]
        const out = new LineWriter()
        if (options.ndjson) {
          for (const version of versions) await out.line(versionLine(enc, version))
        } else {
          for (const line of timeline(keyText, versions, (v) => enc.formatValue(v))) await out.line(line)
        }
        await out.close()
      })
    })

  addKeyRangeOptions(
    program
      .command('range')
      .summary('list the live entries of a key range, now or as of a past time')
      .description('List the keys with a value in a key range as of --at (default: now), in key order:\none line per key, "<key>\\t<value>", or NDJSON with --ndjson.')
      .argument('<db>', 'database directory'),
    true,
  )
    .option('--at <time>', 'as of this time', time('--at'))
    .option('--reverse', 'descending key order')
    .option('--limit <n>', 'at most this many entries', count('--limit'))
    .option('--ndjson', 'print NDJSON lines {"key","ts","value"}')
    .addHelpText('after', '\nExamples:\n  chronokv range ./data --prefix user:\n  chronokv range ./data --gte a --lt m --at 1769860800000000 --ndjson')
    .action(async (path: string, options: KeyRangeFlags & { at?: number; reverse?: boolean; limit?: number; ndjson?: boolean }, command: Command) => {
      const enc = encodingsOf(command)
      const bounds = keyBounds(enc, options)
      await withDatabase(path, enc, { write: false }, async (db) => {
        const out = new LineWriter()
        const entries = db.getRange({ ...bounds, at: options.at, reverse: options.reverse ?? false, limit: options.limit })
        for (const entry of entries) {
          await out.line(
            options.ndjson
              ? versionLine(enc, { key: entry.key, ts: entry.ts, value: entry.value, deleted: false })
              : `${enc.formatKey(entry.key)}\t${enc.formatValue(entry.value)}`,
          )
        }
        await out.close()
      })
    })

  addKeyRangeOptions(
    program
      .command('changes')
      .summary('list every version in a key range x time window')
      .description(
        'List every version whose key is in the range and whose timestamp is in [--since, --until)\n' +
          '(or up to and including --at), deletes included, in key order and per key oldest first:\n' +
          'one line per version, "<time>\\t<ts>\\t<key>\\t<value or (deleted)>", or NDJSON with --ndjson.',
      )
      .argument('<db>', 'database directory'),
    false,
  )
    .option('--since <time>', 'only versions at or after this time', time('--since'))
    .option('--until <time>', 'only versions before this time', time('--until'))
    .option('--at <time>', 'only versions at or before this time (instead of --until)', time('--at'))
    .option('--limit <n>', 'at most this many versions', count('--limit'))
    .option('--ndjson', 'print NDJSON lines {"key","ts","value"|"deleted"}')
    .addHelpText('after', '\nExamples:\n  chronokv changes ./data --prefix sensor: --since 2026-01-31T00:00:00Z --until 2026-02-01\n  chronokv changes ./data --at 1769860800000000 --ndjson')
    .action(async (path: string, options: KeyRangeFlags & { since?: number; until?: number; at?: number; limit?: number; ndjson?: boolean }, command: Command) => {
      const enc = encodingsOf(command)
      if (options.at !== undefined && options.until !== undefined) {
        throw new UsageError('give --at or --until, not both')
      }
      const bounds = keyBounds(enc, options)
      const until = options.at !== undefined ? options.at + 1 : options.until
      await withDatabase(path, enc, { write: false }, async (db) => {
        const out = new LineWriter()
        for (const version of db.changes({ ...bounds, since: options.since, until, limit: options.limit })) {
          await out.line(
            options.ndjson
              ? versionLine(enc, version as Version<unknown, unknown>)
              : `${isoTime(version.ts)}\t${version.ts}\t${enc.formatKey(version.key)}\t${version.deleted ? '(deleted)' : enc.formatValue(version.value)}`,
          )
        }
        await out.close()
      })
    })
}
