/**
 * The `chronokv` command: its global options, help and commands (commander).
 *
 * @packageDocumentation
 */

import { Command, Option } from 'commander'
import { registerMaintenanceCommands } from './commands/maintenance'
import { registerReadCommands } from './commands/read'
import { registerTransferCommands } from './commands/transfer'
import { registerWriteCommands } from './commands/write'
import { KEY_ENCODINGS, VALUE_ENCODINGS } from './encoding'
import { EXIT_CODES_HELP } from './exit-codes'

const OVERVIEW = `
Times: integer microseconds since the Unix epoch (1769860800123456), an ISO-8601 date
(2026-01-31, 2026-01-31T12:00:00.123456Z; UTC unless a zone is given), or "now".
Printed as both.

Examples:
  chronokv put ./data user:alice '{"name":"Alice","plan":"free"}'
  chronokv get ./data user:alice --at 2026-01-31T12:00:00Z
  chronokv history ./data user:alice
  chronokv changes ./data --prefix user: --since 2026-01-31 --until 2026-02-01
  chronokv export ./data > data.ndjson && chronokv import ./restored data.ndjson
  chronokv check ./data

Long work (import, export, compact, check, backup) draws a progress bar on stderr when it is a
terminal, and stays quiet in pipes and files (or with --no-progress).

${EXIT_CODES_HELP}`

/** A fresh program (one per run, so tests can run several in one process). */
export function buildProgram(version: string): Command {
  const program = new Command('chronokv')
  program
    .description('Inspect and maintain chronokv databases: every committed write is a version you can read as of any past time.')
    .version(version, '-V, --version', 'print the version')
    .addOption(
      new Option('-k, --key-encoding <encoding>', 'how keys are written on the command line and in NDJSON (binary = hex)')
        .choices(KEY_ENCODINGS)
        .default('utf8'),
    )
    .addOption(
      new Option('-e, --value-encoding <encoding>', 'how values are stored and shown (json: JSON text; binary = hex)')
        .choices(VALUE_ENCODINGS)
        .default('json'),
    )
    .option('--no-progress', 'never draw progress bars')
    .helpOption('-h, --help', 'show help (also: chronokv help <command>)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      // Commander's own errors ("error: unknown option '--x'") as one line, like every other.
      outputError: (text, write) => write(`chronokv: usage error: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
    })
    .addHelpText('after', OVERVIEW)
  registerReadCommands(program)
  registerWriteCommands(program)
  registerMaintenanceCommands(program)
  registerTransferCommands(program)
  for (const command of program.commands) {
    // Descriptions are written as short source lines; commander wraps them to the terminal.
    command.description(command.description().replace(/\n/g, ' '))
    command.addHelpText('after', `\nGlobal options (-k, -e, --no-progress) and exit codes: chronokv --help`)
  }
  return program
}
