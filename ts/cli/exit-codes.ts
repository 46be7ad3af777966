/**
 * The CLI's exit codes and how errors become them. Every failure prints one line to stderr,
 * `chronokv: <CODE>: <message>`, and exits with the code below.
 *
 * @packageDocumentation
 */

import { ChronoError, ErrorCode } from '../errors'

/** Exit codes, documented in `chronokv --help` and the README. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** `get` found no value, or `check` found problems. */
  NOT_FOUND_OR_PROBLEMS: 1,
  /** Bad command line: unknown command or option, missing argument, unparsable time or key. */
  USAGE: 2,
  /** chronokv refused an argument (CHRONOKV_INVALID_ARGUMENT), e.g. an import line out of order. */
  INVALID_ARGUMENT: 3,
  /** Another process has the database open (CHRONOKV_LOCKED). */
  LOCKED: 4,
  /** A file failed an integrity check (CHRONOKV_CORRUPTION). */
  CORRUPTION: 5,
  /** The operating system reported an error, or there is no database at the path (CHRONOKV_IO). */
  IO: 6,
  /** Any other failure (CHRONOKV_INTERNAL and the rest): please report it. */
  INTERNAL: 70,
} as const

/** The help text's list of exit codes. */
export const EXIT_CODES_HELP = `Exit codes:
  0   success
  1   get: no value at that key (and time); check: problems were found
  2   usage error (unknown command or option, missing argument, bad time or key)
  3   ${ErrorCode.INVALID_ARGUMENT}: chronokv refused an argument (e.g. an import out of order)
  4   ${ErrorCode.LOCKED}: another process has the database open
  5   ${ErrorCode.CORRUPTION}: a file failed an integrity check (run chronokv check)
  6   ${ErrorCode.IO}: an operating-system error, or no database at that path
  70  any other failure (${ErrorCode.INTERNAL}): please report it`

/** A failure of the command line itself (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** An expected outcome that is not success but not an error either (`get` of a missing key). */
export class Outcome extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

const byCode: Record<string, number> = {
  [ErrorCode.INVALID_ARGUMENT]: ExitCode.INVALID_ARGUMENT,
  [ErrorCode.LOCKED]: ExitCode.LOCKED,
  [ErrorCode.CORRUPTION]: ExitCode.CORRUPTION,
  [ErrorCode.IO]: ExitCode.IO,
}

/** The exit code and the one line to print for an error. */
export function describeFailure(err: unknown): { exitCode: number; line: string } {
  if (err instanceof Outcome) return { exitCode: err.exitCode, line: `chronokv: ${err.message}` }
  if (err instanceof UsageError) return { exitCode: ExitCode.USAGE, line: `chronokv: usage error: ${err.message}` }
  if (err instanceof ChronoError) {
    return { exitCode: byCode[err.code] ?? ExitCode.INTERNAL, line: `chronokv: ${err.code}: ${oneLine(err.message)}` }
  }
  const message = err instanceof Error ? err.message : String(err)
  if (typeof (err as { syscall?: unknown } | null)?.syscall === 'string') {
    // Node's own file errors (an import file that is not there, an export file not writable).
    return { exitCode: ExitCode.IO, line: `chronokv: ${ErrorCode.IO}: ${oneLine(message)}` }
  }
  return { exitCode: ExitCode.INTERNAL, line: `chronokv: ${ErrorCode.INTERNAL}: ${oneLine(message)}` }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}
