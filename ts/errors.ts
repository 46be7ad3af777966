/**
 * Typed errors. Every error chronokv throws or rejects with is a {@link ChronoError} whose `code`
 * is one of {@link ErrorCode}; the subclass tells the same thing to `instanceof`.
 *
 * The native binding reports failures as plain `Error`s with a string `code`; {@link fromNative}
 * is the single place that turns them into these classes, for sync and async calls alike.
 *
 * @packageDocumentation
 */

/** The stable string codes carried by {@link ChronoError.code}. */
export const ErrorCode = {
  /** A transaction lost a write-write (or serializable read) conflict. */
  CONFLICT: 'CHRONOKV_CONFLICT',
  /** The database (or the object used) has been closed. */
  CLOSED: 'CHRONOKV_CLOSED',
  /** A bad key, value, timestamp, option or argument; nothing was changed. */
  INVALID_ARGUMENT: 'CHRONOKV_INVALID_ARGUMENT',
  /** Another process holds the database. */
  LOCKED: 'CHRONOKV_LOCKED',
  /** A file on disk failed a check; the message names the file and byte offset. */
  CORRUPTION: 'CHRONOKV_CORRUPTION',
  /** The operating system reported an I/O failure; after a failed log write the database refuses writes. */
  IO: 'CHRONOKV_IO',
  /** A write was attempted on a database opened with `readOnly: true`. */
  READ_ONLY: 'CHRONOKV_READ_ONLY',
  /** A bug: an unexpected failure inside chronokv. Please report it. */
  INTERNAL: 'CHRONOKV_INTERNAL',
} as const

/** One of the string values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The base class of every error chronokv raises. */
export class ChronoError extends Error {
  /** A stable, machine-readable code; compare against {@link ErrorCode}. */
  readonly code: ErrorCode

  /**
   * @param message - a human sentence describing what went wrong.
   * @param code - the error's code; {@link ErrorCode.INTERNAL} unless a subclass says otherwise.
   * @param options - `cause`: the underlying error, when there is one.
   */
  constructor(message: string, code: ErrorCode = ErrorCode.INTERNAL, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A transaction conflicted with one that committed first (code `CHRONOKV_CONFLICT`). */
export class ConflictError extends ChronoError {
  /** @param message - what conflicted. @param options - `cause`, when there is one. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.CONFLICT, options)
  }
}

/** The database was closed before or during the call (code `CHRONOKV_CLOSED`). */
export class ClosedError extends ChronoError {
  /** @param message - what was attempted. @param options - `cause`, when there is one. */
  constructor(message = 'The database is closed.', options?: ErrorOptions) {
    super(message, ErrorCode.CLOSED, options)
  }
}

/**
 * A bad argument (code `CHRONOKV_INVALID_ARGUMENT`): an empty or over-long key, an unencodable
 * or too large value, a bad `at`/`since`/`until`/`limit`, or a bad option. Nothing was changed.
 */
export class InvalidArgumentError extends ChronoError {
  /** @param message - which argument and why. @param options - `cause`, when there is one. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.INVALID_ARGUMENT, options)
  }
}

/** Another process has the database open (code `CHRONOKV_LOCKED`). */
export class LockedError extends ChronoError {
  /** @param message - which database. @param options - `cause`, when there is one. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.LOCKED, options)
  }
}

/** A file failed an integrity check (code `CHRONOKV_CORRUPTION`); the message names the file and offset. */
export class CorruptionError extends ChronoError {
  /** @param message - the file, offset and check that failed. @param options - `cause`, when there is one. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.CORRUPTION, options)
  }
}

/**
 * The operating system reported an I/O failure (code `CHRONOKV_IO`). After a failed write to the
 * log the database is poisoned: later writes fail with this error too; reopen it to recover.
 */
export class IoError extends ChronoError {
  /** @param message - the operation and the OS error. @param options - `cause`, when there is one. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCode.IO, options)
  }
}

/** A write on a database opened with `readOnly: true` (code `CHRONOKV_READ_ONLY`). */
export class ReadOnlyError extends ChronoError {
  /** @param message - what was attempted. @param options - `cause`, when there is one. */
  constructor(message = 'The database was opened read-only.', options?: ErrorOptions) {
    super(message, ErrorCode.READ_ONLY, options)
  }
}

type ErrorClass = new (message: string, options?: ErrorOptions) => ChronoError

const byCode: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  [ErrorCode.CONFLICT, ConflictError],
  [ErrorCode.CLOSED, ClosedError],
  [ErrorCode.INVALID_ARGUMENT, InvalidArgumentError],
  [ErrorCode.LOCKED, LockedError],
  [ErrorCode.CORRUPTION, CorruptionError],
  [ErrorCode.IO, IoError],
  [ErrorCode.READ_ONLY, ReadOnlyError],
  // napi-rs rejects JS values of the wrong type with its own status names; the facade checks
  // types first, so these mean a facade bug, but they are still the caller's bad argument.
  ['InvalidArg', InvalidArgumentError],
  ['ObjectExpected', InvalidArgumentError],
  ['StringExpected', InvalidArgumentError],
  ['NameExpected', InvalidArgumentError],
  ['FunctionExpected', InvalidArgumentError],
  ['NumberExpected', InvalidArgumentError],
  ['BooleanExpected', InvalidArgumentError],
  ['ArrayExpected', InvalidArgumentError],
  ['BigintExpected', InvalidArgumentError],
  ['DateExpected', InvalidArgumentError],
  ['ArrayBufferExpected', InvalidArgumentError],
  ['DetachableArraybufferExpected', InvalidArgumentError],
  // Node's own argument errors (from Buffer and friends).
  ['ERR_INVALID_ARG_TYPE', InvalidArgumentError],
  ['ERR_INVALID_ARG_VALUE', InvalidArgumentError],
  ['ERR_OUT_OF_RANGE', InvalidArgumentError],
])

/**
 * Maps anything thrown by the native binding (or by Node underneath it) to a {@link ChronoError}.
 * A ChronoError passes through unchanged; otherwise the `code` picks the class, the message is
 * kept (less a leading "<code>: ", which napi-rs adds) and the original becomes `cause`. Unknown codes map to a ChronoError with code
 * `CHRONOKV_INTERNAL`.
 *
 * @internal
 */
export function fromNative(err: unknown): ChronoError {
  if (err instanceof ChronoError) return err
  let code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  let message = err instanceof Error ? err.message : `Unexpected failure: ${String(err)}`
  // Async rejections of the binding's tasks carry napi's own status as `code`; the stable code
  // travels at the start of the message.
  const prefixed = /^(CHRONOKV_[A-Z_]+): /.exec(message)
  if (prefixed !== null && (typeof code !== 'string' || !byCode.has(code))) code = prefixed[1]
  // napi-rs formats messages as "<code>: <reason>"; the code is already on `code`.
  if (typeof code === 'string' && message.startsWith(`${code}: `)) message = message.slice(code.length + 2)
  const ErrorClass = typeof code === 'string' ? byCode.get(code) : undefined
  if (ErrorClass !== undefined) return new ErrorClass(message, { cause: err })
  return new ChronoError(message, ErrorCode.INTERNAL, { cause: err })
}
