// Generators of invalid arguments for the bad-input fuzz (fuzz.spec.ts), and the check that
// runs one invalid call and judges its outcome without ava (10,000+ calls would otherwise make
// 30,000+ ava assertions and an unreadable failure report).
//
// Every generator returns a fresh `{ label, value }`: fresh because some values are mutable or
// circular, labelled so that a failure names the input.

import { ChronoError, ClosedError, InvalidArgumentError } from '../../ts/index'
import type { Rng } from './prng'

export interface Bad {
  label: string
  value: unknown
}

type Maker = (rng: Rng) => Bad

const bad = (label: string, value: unknown): Bad => ({ label, value })

/** Draws one generator from `makers` and runs it. */
export function oneOf(rng: Rng, makers: readonly Maker[]): Bad {
  return rng.pick(makers)(rng)
}

// ---------------------------------------------------------------------------------------------
// Primitive building blocks

const NUMBERS_NOT_SAFE: Maker[] = [
  () => bad('NaN', NaN),
  () => bad('Infinity', Infinity),
  () => bad('-Infinity', -Infinity),
  () => bad('2^53', 2 ** 53),
  () => bad('2^53 + 2', 2 ** 53 + 2),
  (rng) => {
    const n = 2 ** (54 + rng.int(900))
    return bad(`2^${Math.log2(n)}`, n)
  },
  () => bad('Number.MAX_VALUE', Number.MAX_VALUE),
]

const NEGATIVE_OR_FRACTIONAL: Maker[] = [
  () => bad('-1', -1),
  (rng) => bad('a negative integer', -1 - rng.int(1_000_000)),
  () => bad('-(2^53 - 1)', -Number.MAX_SAFE_INTEGER),
  (rng) => {
    const n = rng.int(1000) + 0.5
    return bad(`fractional ${n}`, n)
  },
  () => bad('Number.EPSILON', Number.EPSILON),
  () => bad('-0.5', -0.5),
]

/** Values of every JS type except `except`, none of them a plain options object. */
function wrongTypes(except: ReadonlyArray<'string' | 'number' | 'boolean' | 'object' | 'date'>): Maker[] {
  const makers: Maker[] = [
    () => bad('null', null),
    () => bad('a BigInt', 10n),
    () => bad('a symbol', Symbol('s')),
    () => bad('a function', () => 'a'),
    () => bad('an array', ['a']),
    () => bad('an empty array', []),
    () => bad('a Map', new Map([['a', 1]])),
    () => bad('a RegExp', /a/),
    () => bad('a Promise', Promise.resolve('a')),
    () => bad('a boxed string', new String('a')),
    () => bad('a boxed number', new Number(1)),
  ]
  if (!except.includes('string')) makers.push(() => bad('"a"', 'a'), () => bad('an empty string', ''))
  if (!except.includes('number')) makers.push(() => bad('0', 0), () => bad('42', 42), () => bad('NaN', NaN))
  if (!except.includes('boolean')) makers.push(() => bad('true', true), () => bad('false', false))
  if (!except.includes('date')) makers.push(() => bad('a Date', new Date(0)))
  if (!except.includes('object')) makers.push(() => bad('an object', { a: 1 }), () => bad('an empty object', {}))
  return makers
}

// ---------------------------------------------------------------------------------------------
// Keys

/** Strings of more than 4,096 bytes after UTF-8 encoding. */
const OVERLONG_STRINGS: Maker[] = [
  () => bad('4,097 ASCII bytes', 'k'.repeat(4097)),
  () => bad('4,095 ASCII bytes and a two-byte character (4,097 bytes)', `${'k'.repeat(4095)}é`),
  (rng) => {
    const n = 4097 + rng.int(20_000)
    return bad(`${n} ASCII bytes`, 'x'.repeat(n))
  },
  () => bad('2,049 two-byte characters (4,098 bytes)', 'é'.repeat(2049)),
  () => bad('1,366 three-byte characters (4,098 bytes)', '中'.repeat(1366)),
  () => bad('1,025 four-byte characters (4,100 bytes)', '🙂'.repeat(1025)),
]

/** Not a valid key of a database with utf8 keys: wrong types, the empty string, over-long strings. */
export const BAD_UTF8_KEYS: Maker[] = [
  ...wrongTypes(['string', 'object']),
  () => bad('an object', { key: 'a' }),
  () => bad('an object with toString', { toString: () => 'a' }),
  () => bad('a Buffer', Buffer.from('a')),
  () => bad('a Uint8Array', new Uint8Array([97])),
  () => bad('undefined', undefined),
  ...NUMBERS_NOT_SAFE,
  () => bad('the empty string', ''),
  () => bad('the empty string', ''),
  ...OVERLONG_STRINGS,
  ...OVERLONG_STRINGS,
]

/** Not a valid key of a database with binary keys. */
export const BAD_BINARY_KEYS: Maker[] = [
  ...wrongTypes(['object']),
  () => bad('undefined', undefined),
  () => bad('an object', { 0: 1, length: 1 }),
  () => bad('an empty Buffer', Buffer.alloc(0)),
  () => bad('an empty Uint8Array', new Uint8Array(0)),
  () => bad('a 4,097-byte Buffer', Buffer.alloc(4097, 1)),
  (rng) => {
    const n = 4097 + rng.int(10_000)
    return bad(`a ${n}-byte Uint8Array`, new Uint8Array(n))
  },
  () => bad('an ArrayBuffer', new ArrayBuffer(4)),
  () => bad('a DataView', new DataView(new ArrayBuffer(4))),
  () => bad('an Int8Array', new Int8Array(4)),
  () => bad('a Uint8ClampedArray', new Uint8ClampedArray(4)),
  () => bad('a Uint16Array', new Uint16Array(2)),
  () => bad('an array of bytes', [1, 2, 3]),
]

// ---------------------------------------------------------------------------------------------
// Values

function circularObject(): unknown {
  const o: Record<string, unknown> = { name: 'loop' }
  o.self = o
  return o
}

function deepCircular(): unknown {
  const root: Record<string, unknown> = {}
  root.a = { b: { c: [1, 2, { d: root }] } }
  return root
}

/** Not storable with the 'json' value encoding. */
export const BAD_JSON_VALUES: Maker[] = [
  () => bad('a BigInt', 10n),
  () => bad('an object holding a BigInt', { n: 1n }),
  () => bad('an array holding a BigInt', [1, 2, 3n]),
  () => bad('a circular object', circularObject()),
  () => bad('a circular array', (() => {
    const a: unknown[] = [1]
    a.push(a)
    return a
  })()),
  () => bad('a deep circular structure', deepCircular()),
  () => bad('undefined', undefined),
  () => bad('a function', function value() {}),
  () => bad('an arrow function', () => 1),
  () => bad('a symbol', Symbol('v')),
  () => bad('an object whose toJSON throws', { toJSON: () => { throw new Error('no') } }),
  () => bad('an object whose toJSON returns undefined', { toJSON: () => undefined }),
  () => bad('a getter that throws', Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('get') } })),
]

/** Not storable with the 'utf8' value encoding. */
export const BAD_UTF8_VALUES: Maker[] = [...wrongTypes(['string']), () => bad('undefined', undefined), () => bad('a Buffer', Buffer.from('v'))]

// ---------------------------------------------------------------------------------------------
// Times, limits, flags

/** Not a valid `at` / `since` / `until`. */
export const BAD_TIMES: Maker[] = [
  ...NUMBERS_NOT_SAFE,
  ...NEGATIVE_OR_FRACTIONAL,
  ...wrongTypes(['number', 'date']),
  () => bad('a numeric string', '1700000000000000'),
  () => bad('an invalid Date', new Date(NaN)),
  () => bad('a Date before 1970', new Date(-1)),
  () => bad('a Date before 1970', new Date(-8.64e15)),
  () => bad('a Date past 2^53 microseconds', new Date(9_007_199_254_741)),
  () => bad('the largest Date', new Date(8.64e15)),
]

/** Not a valid `limit`. */
export const BAD_LIMITS: Maker[] = [...NUMBERS_NOT_SAFE, ...NEGATIVE_OR_FRACTIONAL, ...wrongTypes(['number']), () => bad('"10"', '10')]

/** Not a boolean (for `reverse`, `readOnly`, `createIfMissing`). */
export const BAD_BOOLEANS: Maker[] = [
  ...wrongTypes(['boolean']),
  () => bad('"true"', 'true'),
  () => bad('1', 1),
  () => bad('0', 0),
]

/** Not an options object at all (undefined excluded: it means "no options"). */
export const NOT_OBJECTS: Maker[] = [
  () => bad('null', null),
  () => bad('a number', 5),
  () => bad('NaN', NaN),
  () => bad('a string', 'at'),
  () => bad('the empty string', ''),
  () => bad('true', true),
  () => bad('an array', []),
  () => bad('an array of options', [{ at: 1 }]),
  () => bad('a BigInt', 1n),
  () => bad('a symbol', Symbol('o')),
  () => bad('a function', () => ({})),
]

/** An options object with a name no option has (in addition to `real`, valid names). */
export function unknownOptionName(rng: Rng, invalidNames: readonly string[]): Bad {
  const names = [...invalidNames, 'foo', 'timeout', 'AT', 'Limit', 'signal', 'encoding', 'constructor']
  const name = rng.pick(names)
  if (rng.chance(0.1)) {
    // an own property literally named __proto__
    return bad("an own '__proto__' option", JSON.parse('{"__proto__": 1}'))
  }
  return bad(`unknown option '${name}'`, { [name]: rng.chance(0.5) ? 1 : undefined })
}

export const BAD_ISOLATIONS: Maker[] = [
  () => bad("'SNAPSHOT'", 'SNAPSHOT'),
  () => bad("'Serializable'", 'Serializable'),
  () => bad("'read-committed'", 'read-committed'),
  () => bad("'repeatable-read'", 'repeatable-read'),
  () => bad("'strict-serializable'", 'strict-serializable'),
  () => bad("' snapshot'", ' snapshot'),
  () => bad('the empty string', ''),
  ...wrongTypes(['string']),
]

export const BAD_RETRIES: Maker[] = [
  ...NUMBERS_NOT_SAFE,
  ...NEGATIVE_OR_FRACTIONAL,
  () => bad('1,000,001', 1_000_001),
  ...wrongTypes(['number']),
  () => bad('"3"', '3'),
]

// ---------------------------------------------------------------------------------------------
// Running one call

export type Expected = 'invalid' | 'closed'
export type Mode = 'sync' | 'async'

export interface InvalidCall {
  /** The API entry point, e.g. 'db.get' or 'tx(committed).put'. */
  site: string
  /** What is wrong with it, e.g. 'key: the empty string'. */
  input: string
  expect: Expected
  /** sync: must throw; async: must return a promise that rejects (and never throw). */
  mode: Mode
  run: () => unknown
}

const EXPECTED: Record<Expected, { cls: new (...args: never[]) => ChronoError; code: string }> = {
  invalid: { cls: InvalidArgumentError, code: 'CHRONOKV_INVALID_ARGUMENT' },
  closed: { cls: ClosedError, code: 'CHRONOKV_CLOSED' },
}

function show(value: unknown): string {
  try {
    if (typeof value === 'bigint') return `${value}n`
    if (typeof value === 'symbol' || typeof value === 'function') return String(value)
    const text = JSON.stringify(value)
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}...` : text
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function judgeError(call: InvalidCall, err: unknown, how: string): string | undefined {
  const { cls, code } = EXPECTED[call.expect]
  if (!(err instanceof ChronoError)) {
    return `${how} ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : show(err)}, not a ChronoError`
  }
  const e: ChronoError = err
  if (!(e instanceof cls)) return `${how} ${err.constructor.name} (${err.code}: ${err.message}), expected ${cls.name}`
  if (err.code !== code) return `${how} ${cls.name} with code ${String(err.code)}, expected ${code}`
  if (typeof err.message !== 'string' || err.message.length === 0) return `${how} ${cls.name} without a message`
  return undefined
}

/**
 * Makes the call and judges it: undefined when it failed exactly as documented, otherwise a
 * sentence saying what happened instead.
 */
export async function perform(call: InvalidCall): Promise<string | undefined> {
  let result: unknown
  try {
    result = call.run()
  } catch (err) {
    if (call.mode === 'async') {
      const wrong = judgeError(call, err, 'threw synchronously')
      return `threw synchronously instead of rejecting${wrong ? ` (and ${wrong})` : ''}`
    }
    return judgeError(call, err, 'threw')
  }
  if (call.mode === 'sync') {
    if (result instanceof Promise) {
      result.catch(() => undefined)
      return 'returned a promise instead of throwing'
    }
    return `returned ${show(result)} instead of throwing`
  }
  if (!(result instanceof Promise)) return `returned ${show(result)} instead of a promise`
  try {
    const value = await result
    return `resolved with ${show(value)} instead of rejecting`
  } catch (err) {
    return judgeError(call, err, 'rejected with')
  }
}
