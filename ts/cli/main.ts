#!/usr/bin/env node
/**
 * The `chronokv` command-line tool. See `chronokv --help`, or the README's "Command line".
 *
 * @packageDocumentation
 */

import { CommanderError } from 'commander'
import { describeFailure, ExitCode } from './exit-codes'
import { buildProgram } from './program'

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('../../package.json') as { version: string }
  const program = buildProgram(version)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return ExitCode.OK
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit 0; commander already printed any error line.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    const { exitCode, line } = describeFailure(err)
    process.stderr.write(`${line}\n`)
    return exitCode
  }
}

if (require.main === module) {
  // `chronokv export ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.OK)
    throw err
  })
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`${describeFailure(err).line}\n`)
      process.exitCode = ExitCode.INTERNAL
    },
  )
}
