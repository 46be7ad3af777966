/**
 * Errors of the abstract-level adapter.
 *
 * abstract-level identifies errors by string codes (`LEVEL_DATABASE_NOT_OPEN`, `LEVEL_LOCKED`,
 * ...). {@link toLevelError} gives chronokv's failures the matching code and keeps chronokv's
 * own error, with its `CHRONOKV_*` code, as the `cause`.
 *
 * @packageDocumentation
 */

import { ChronoError, ErrorCode } from '../errors'

/** An error with an abstract-level code (`LEVEL_*`); `cause` holds the underlying error, if any. */
export class LevelError extends Error {
  /** The abstract-level error code, such as `LEVEL_INVALID_KEY` or `LEVEL_IO_ERROR`. */
  readonly code: string

  /**
   * @param message - what went wrong.
   * @param code - the abstract-level code.
   * @param options - `cause`: the chronokv error behind this one, when there is one.
   */
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'LevelError'
  }
}

/** chronokv codes with an abstract-level counterpart. */
const LEVEL_CODES: ReadonlyMap<string, string> = new Map([
  [ErrorCode.CLOSED, 'LEVEL_DATABASE_NOT_OPEN'],
  [ErrorCode.LOCKED, 'LEVEL_LOCKED'],
  [ErrorCode.CORRUPTION, 'LEVEL_CORRUPTION'],
  [ErrorCode.IO, 'LEVEL_IO_ERROR'],
  [ErrorCode.READ_ONLY, 'LEVEL_READONLY'],
])

/**
 * The error to surface for `err`, thrown by chronokv underneath the adapter: a {@link LevelError}
 * with the abstract-level code and `err` as its cause when abstract-level has a code for it;
 * otherwise `err` itself (a bad `at` stays a chronokv `InvalidArgumentError`, a bug a
 * `CHRONOKV_INTERNAL` error).
 * @internal
 */
export function toLevelError(err: unknown): unknown {
  if (!(err instanceof ChronoError)) return err
  const code = LEVEL_CODES.get(err.code)
  return code === undefined ? err : new LevelError(err.message, code, { cause: err })
}

/**
 * The error of an iterator call cut short by its `signal` (code `LEVEL_ABORTED`, name
 * `AbortError`, as abstract-level's own).
 * @internal
 */
export function abortError(cause: unknown): LevelError {
  const err = new LevelError('Operation has been aborted', 'LEVEL_ABORTED', { cause })
  err.name = 'AbortError'
  return err
}
