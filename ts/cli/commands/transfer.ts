/**
 * export and import: every version as NDJSON (see ndjson.ts), timestamps preserved.
 *
 * Export writes versions in commit order. `changes()` lists a rectangle in key order, so the
 * export reads the time axis in windows small enough to sort in memory (at most
 * {@link WINDOW_VERSIONS} versions; a window with more is halved, which the rectangle query's
 * time pruning makes cheap) and sorts each by timestamp (stable: key order within a commit).
 *
 * Import reads lines in order and commits each run of lines sharing a timestamp as one batch
 * at that timestamp (`db.batchAt`). Timestamps must ascend and be newer than everything in the
 * database. The first bad line stops the import: the batches before it are committed, nothing
 * from its batch on is, and the error names the line, its timestamp and how far the import got.
 *
 * @packageDocumentation
 */

import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { ChronoError, ErrorCode } from '../../errors'
import type { BatchOp, Version } from '../../types'
import { encodingsOf, globals, withDatabase } from '../context'
import { addKeyRangeOptions, keyBounds, type KeyRangeFlags } from '../key-range'
import { parseVersionLine, versionLine } from '../ndjson'
import { LineWriter } from '../output'
import { progressBar } from '../progress'
import { bothTimes, parseTime } from '../time'
import { UsageError } from '../exit-codes'

/** Versions sorted in memory at a time by export. */
const WINDOW_VERSIONS = 50_000

const time = (what: string) => (text: string) => parseTime(text, what)

export function registerTransferCommands(program: Command): void {
  addKeyRangeOptions(
    program
      .command('export')
      .summary('write every version as NDJSON, timestamps preserved')
      .description(
        'Write every version (or those in a key range and time window) as NDJSON, one line per\n' +
          'version in commit order: {"key":...,"ts":...,"value":...} or {"key":...,"ts":...,"deleted":true}.\n' +
          'Keys and values are written in the key and value encodings. chronokv import reads it back.',
      )
      .argument('<db>', 'database directory'),
    false,
  )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--since <time>', 'only versions at or after this time', time('--since'))
    .option('--until <time>', 'only versions before this time', time('--until'))
    .option('--at <time>', 'only versions at or before this time (instead of --until)', time('--at'))
    .addHelpText('after', '\nExamples:\n  chronokv export ./data > data.ndjson\n  chronokv export ./data --prefix user: --since 2026-01-01 -o users.ndjson')
    .action(async (path: string, options: KeyRangeFlags & { output?: string; since?: number; until?: number; at?: number }, command: Command) => {
      const enc = encodingsOf(command)
      if (options.at !== undefined && options.until !== undefined) throw new UsageError('give --at or --until, not both')
      const bounds = keyBounds(enc, options)
      await withDatabase(path, enc, { write: false }, async (db) => {
        const out = new LineWriter(options.output === undefined ? process.stdout : createWriteStream(options.output))
        const bar = progressBar('export', 'versions', globals(command).progress)
        const total = db.stats().versions
        const newest = db.now() + 1
        const wanted = options.at !== undefined ? options.at + 1 : options.until
        const until = Math.min(wanted ?? newest, newest)
        let done = 0
        try {
          bar.update(0, total)
          for (const window of windows(db, bounds, options.since ?? 0, until)) {
            for (const version of window) await out.line(versionLine(enc, version))
            done += window.length
            bar.update(done, total)
          }
          await out.close()
          bar.update(done, done)
        } finally {
          bar.stop()
        }
      })
    })

  program
    .command('import')
    .summary('read NDJSON versions (as export writes them) into a database')
    .description(
      'Read versions as chronokv export writes them (from <file>, or stdin) and commit them at\n' +
        'their timestamps: lines sharing a timestamp commit atomically together. Timestamps must\n' +
        'ascend and be newer than everything already in the database (an empty database takes any).\n' +
        'The first bad line stops the import (exit 3): what came before it is committed, nothing\n' +
        'from its commit on, and the error says where it stopped.',
    )
    .argument('<db>', 'database directory (created if missing)')
    .argument('[file]', 'NDJSON file to read (default: stdin, also as -)')
    .addHelpText('after', '\nExamples:\n  chronokv import ./restored data.ndjson\n  chronokv export ./data | chronokv import ./copy')
    .action(async (path: string, file: string | undefined, _options: object, command: Command) => {
      const enc = encodingsOf(command)
      const fromFile = file !== undefined && file !== '-'
      const total = fromFile ? statSync(file).size : 0
      // Each batch waits for the log's write, not its fsync; closing the database syncs it all.
      await withDatabase(path, enc, { write: true, durability: 'async' }, async (db) => {
        const bar = progressBar('import', 'bytes', globals(command).progress)
        const input = fromFile ? createReadStream(file) : process.stdin
        const lines = createInterface({ input, crlfDelay: Infinity })
        let lineNo = 0
        let bytes = 0
        let pending: { ts: number; firstLine: number; lastLine: number; ops: BatchOp<unknown, unknown>[] } | undefined
        const done = { versions: 0, commits: 0, lastLine: 0, lastTs: 0 }
        const commit = async () => {
          if (pending === undefined) return
          const batch = pending
          pending = undefined
          try {
            await db.batchAt(batch.ts, batch.ops)
          } catch (err) {
            throw stopped(err, `line ${batch.firstLine} (ts ${batch.ts})`, done)
          }
          done.versions += batch.ops.length
          done.commits += 1
          done.lastLine = batch.lastLine
          done.lastTs = batch.ts
        }
        try {
          bar.update(0, total)
          for await (const text of lines) {
            lineNo++
            bytes += Buffer.byteLength(text) + 1
            if (text.trim() === '') continue
            let version
            try {
              version = parseVersionLine(enc, text, lineNo)
            } catch (err) {
              throw stopped(err, `line ${lineNo}`, done)
            }
            if (pending !== undefined && version.ts !== pending.ts) {
              if (version.ts < pending.ts) {
                const err = new ChronoError(
                  `ts ${version.ts} comes after ts ${pending.ts} (line ${pending.firstLine}); an import must be in ascending ts order, as chronokv export writes it`,
                  ErrorCode.INVALID_ARGUMENT,
                )
                // The batch before this line is complete: keep it.
                const bad = lineNo
                await commit()
                throw stopped(err, `line ${bad}`, done)
              }
              await commit()
            }
            pending ??= { ts: version.ts, firstLine: lineNo, lastLine: lineNo, ops: [] }
            pending.lastLine = lineNo
            pending.ops.push(version.deleted ? { type: 'del', key: version.key } : { type: 'put', key: version.key, value: version.value })
            if (lineNo % 256 === 0) bar.update(bytes, total)
          }
          await commit()
          bar.update(bytes, total === 0 ? bytes : total)
        } finally {
          bar.stop()
          lines.close()
        }
        const range = done.commits === 0 ? '' : `, up to ${bothTimes(done.lastTs)}`
        process.stdout.write(`imported ${done.versions} versions in ${done.commits} commits${range}\n`)
      })
    })
}

/** The error that stops an import: what failed where, and how far the import got. */
function stopped(err: unknown, where: string, done: { versions: number; commits: number; lastLine: number; lastTs: number }): ChronoError {
  const code = err instanceof ChronoError ? err.code : err instanceof UsageError ? ErrorCode.INVALID_ARGUMENT : ErrorCode.INTERNAL
  const message = err instanceof Error ? err.message : String(err)
  const kept =
    done.commits === 0
      ? 'nothing was imported'
      : `the ${done.versions} versions in ${done.commits} commits before it (through line ${done.lastLine}, ts ${done.lastTs}) were imported; nothing after them was`
  return new ChronoError(`import stopped at ${where}: ${message.replace(/^line \d+: /, '')}; ${kept}`, code, { cause: err })
}

/** Versions in the range in [since, until), in commit order, a window at a time. */
function* windows(
  db: { changes(options: object): { asArray: Version<unknown, unknown>[] } },
  bounds: Record<string, unknown>,
  since: number,
  until: number,
): Generator<Version<unknown, unknown>[]> {
  if (since >= until) return
  let versions = db.changes({ ...bounds, since, until, limit: WINDOW_VERSIONS + 1 }).asArray
  if (versions.length > WINDOW_VERSIONS) {
    if (until - since > 1) {
      const middle = since + Math.floor((until - since) / 2)
      yield* windows(db, bounds, since, middle)
      yield* windows(db, bounds, middle, until)
      return
    }
    // One microsecond holds them all (one huge commit): take it whole.
    versions = db.changes({ ...bounds, since, until }).asArray
  }
  // Stable: versions of one commit stay in key order.
  versions.sort((a, b) => a.ts - b.ts)
  if (versions.length > 0) yield versions
}
