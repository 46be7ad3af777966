/**
 * Maintenance commands: stats, check, compact, backup.
 *
 * @packageDocumentation
 */

import type { Command } from 'commander'
import { check } from '../../index'
import { encodingsOf, globals, withDatabase } from '../context'
import { ExitCode, Outcome } from '../exit-codes'
import { progressBar } from '../progress'
import { bothTimes, parseTime } from '../time'

export function registerMaintenanceCommands(program: Command): void {
  program
    .command('stats')
    .summary('print counters describing the database')
    .description('Print the database\'s counters (versions, extents, log bytes, newest commit, ...).')
    .argument('<db>', 'database directory')
    .option('--json', 'print one JSON object')
    .action(async (path: string, options: { json?: boolean }, command: Command) => {
      await withDatabase(path, encodingsOf(command), { write: false }, async (db) => {
        const stats = db.stats()
        if (options.json) {
          process.stdout.write(`${JSON.stringify(stats)}\n`)
          return
        }
        const width = Math.max(...Object.keys(stats).map((k) => k.length))
        for (const [name, value] of Object.entries(stats)) {
          const shown = (name === 'now' || name === 'retentionHorizon') && value > 0 ? bothTimes(value) : String(value)
          process.stdout.write(`${name.padEnd(width)}  ${shown}\n`)
        }
      })
    })

  program
    .command('check')
    .summary('verify every checksum; list every problem by file and offset')
    .description(
      'Verify every checksum of the database without changing anything: every segment of the\n' +
        'write-ahead log, the manifest, and every block of every extent in the data file. Every\n' +
        'problem is listed as "<file>:<offset>: <message>" (not only the first). Exits with 1 when\n' +
        'problems were found, 4 when another process has the database open.',
    )
    .argument('<db>', 'database directory')
    .option('--json', 'print the report as one JSON object')
    .action(async (path: string, options: { json?: boolean }, command: Command) => {
      const bar = progressBar('check', 'bytes', globals(command).progress)
      let report
      try {
        report = await check(path, { onProgress: (done, total) => bar.update(done, total) })
      } finally {
        bar.stop()
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`)
      } else {
        for (const p of report.problems) process.stdout.write(`${p.file}:${p.offset}: ${p.message}\n`)
        process.stdout.write(
          `checked ${report.files} files (${report.bytes} bytes): ${report.extents} extents, ${report.blocks} blocks, ` +
            `${report.versions} versions, ${report.walSegments} log segments, ${report.walRecords} log records; ` +
            `${report.problems.length === 0 ? 'no problems' : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`}\n`,
        )
      }
      if (report.problems.length > 0) {
        throw new Outcome(`check found ${report.problems.length} problem(s) in ${path}`, ExitCode.NOT_FOUND_OR_PROBLEMS)
      }
    })

  program
    .command('compact')
    .summary('flush memory to disk and merge extents')
    .description('Write what is in memory to extents, then merge every extent into new ones, giving\nback the space of replaced extents.')
    .argument('<db>', 'database directory')
    .action(async (path: string, _options: object, command: Command) => {
      await withDatabase(path, encodingsOf(command), { write: true }, async (db) => {
        const bar = progressBar('compact', 'steps', globals(command).progress)
        let result
        try {
          bar.update(0, 2)
          await db.flush()
          bar.update(1, 2)
          result = await db.compact()
          bar.update(2, 2)
        } finally {
          bar.stop()
        }
        process.stdout.write(
          result.versionsIn === 0
            ? `flushed; nothing to merge (${result.extentsIn} extent${result.extentsIn === 1 ? '' : 's'})\n`
            : `compacted ${result.extentsIn} extents into ${result.extentsOut}; ${result.versionsIn} versions in, ${result.versionsOut} out\n`,
        )
      })
    })

  program
    .command('backup')
    .summary('copy the database, as of now or a past time, into a new directory')
    .description(
      'Copy the database as it was at --at (default: now) into <dir>, which must not exist or\n' +
        'must be empty. The copy opens as a chronokv database with the same history up to that\n' +
        'time. Programs can back up a database they keep open and writable (db.backup); the\n' +
        'command opens the database itself, so no other process may have it open.',
    )
    .argument('<db>', 'database directory')
    .argument('<dir>', 'where to put the copy (new or empty)')
    .option('--at <time>', 'copy the database as of this time', (text: string) => parseTime(text, '--at'))
    .addHelpText('after', '\nExamples:\n  chronokv backup ./data ./backups/2026-01-31\n  chronokv backup ./data ./before-migration --at 2026-01-31T12:00:00Z')
    .action(async (path: string, dir: string, options: { at?: number }, command: Command) => {
      await withDatabase(path, encodingsOf(command), { write: false }, async (db) => {
        const bar = progressBar('backup', 'versions', globals(command).progress)
        let result
        try {
          result = await db.backup(dir, { at: options.at, onProgress: (done, total) => bar.update(done, total) })
        } finally {
          bar.stop()
        }
        process.stdout.write(
          `backed up ${result.versions} versions as of ${bothTimes(result.at)} into ${result.path} (${result.extents} extents, ${result.bytes} bytes)\n`,
        )
      })
    })
}
