import type { ExecutionContext } from 'ava'

type ErrorClass = abstract new (...args: never[]) => Error

/** Checks that `err` is an instance of `cls` and carries the stable string `code`. */
export function assertChronoError(t: ExecutionContext, err: unknown, cls: ErrorClass, code: string, what = ''): void {
  const label = what ? `${what}: ` : ''
  if (!(err instanceof Error)) {
    t.fail(`${label}expected a ${cls.name} (${code}), got ${String(err)}`)
    return
  }
  t.true(err instanceof cls, `${label}expected an instance of ${cls.name}, got ${err.constructor.name}: ${err.message}`)
  t.is((err as Error & { code?: unknown }).code, code, `${label}wrong code on ${err.constructor.name}: ${err.message}`)
}

/** `fn` must throw synchronously with the given class and code. Returns the error. */
export function throwsChrono(t: ExecutionContext, fn: () => unknown, cls: ErrorClass, code: string, what = ''): unknown {
  let result: unknown
  try {
    result = fn()
  } catch (err) {
    assertChronoError(t, err, cls, code, what)
    return err
  }
  if (result instanceof Promise) result.catch(() => undefined)
  t.fail(`${what ? `${what}: ` : ''}expected a synchronous ${cls.name} (${code}), but the call returned ${describe(result)}`)
  return undefined
}

/**
 * `fn` must return a promise (not throw synchronously) that rejects with the given class and code.
 * Returns the error.
 */
export async function rejectsChrono(
  t: ExecutionContext,
  fn: () => unknown,
  cls: ErrorClass,
  code: string,
  what = '',
): Promise<unknown> {
  const label = what ? `${what}: ` : ''
  let result: unknown
  try {
    result = fn()
  } catch (err) {
    t.fail(`${label}expected a rejected promise, but the call threw synchronously: ${String(err)}`)
    assertChronoError(t, err, cls, code, what)
    return err
  }
  if (!(result instanceof Promise) && !isThenable(result)) {
    t.fail(`${label}expected a promise, got ${describe(result)}`)
    return undefined
  }
  try {
    const value = await result
    t.fail(`${label}expected a rejection with ${cls.name} (${code}), but it resolved with ${describe(value)}`)
    return undefined
  } catch (err) {
    assertChronoError(t, err, cls, code, what)
    return err
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function describe(value: unknown): string {
  try {
    return typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))
  } catch {
    return String(value)
  }
}
