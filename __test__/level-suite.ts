// abstract-level's own shared test suite, run against chronokv/level (ts/level):
//
//   node --import tsx __test__/level-suite.ts        (npm run test:level)
//
// The suite is written for tape. This runner reads tape's results as objects and prints a
// compact report: one line per failed assertion (with its test and details) and a summary with
// the number of tests and assertions. It exits non-zero when an assertion failed or a test did
// not finish. Set CHRONOKV_LEVEL_TAP=1 to print the full TAP stream instead.
//
// Every database the suite creates lives in its own directory under one temporary root, removed
// at exit. Databases use chronokv's default durability ('sync'); CHRONOKV_LEVEL_DURABILITY=
// async|none overrides it (about twice as fast with 'none').

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import test from 'tape'

import { ChronoLevel, type ChronoLevelOptions } from '../ts/level/index'

type Factory = (options?: ChronoLevelOptions<any, any>) => ChronoLevel<any, any>
// abstract-level/test ships no type declarations.
const suite = require('abstract-level/test') as (options: { test: typeof test; factory: Factory }) => void

const durability = process.env.CHRONOKV_LEVEL_DURABILITY as 'sync' | 'async' | 'none' | undefined
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chronokv-level-suite-'))
let databases = 0

process.on('exit', () => {
  fs.rmSync(root, { recursive: true, force: true })
})

interface Row {
  type: 'test' | 'assert' | 'end'
  id?: number
  test?: number
  name?: string
  ok?: boolean
  skip?: boolean | string
  todo?: boolean | string
  operator?: string
  actual?: unknown
  expected?: unknown
  error?: unknown
}

let tests = 0
let assertions = 0
let passed = 0
let skipped = 0
const failures: string[] = []
const names = new Map<number, string>()
let finished = false

if (process.env.CHRONOKV_LEVEL_TAP === '1') {
  test.createStream().pipe(process.stdout)
} else {
  const stream = test.createStream({ objectMode: true })
  stream.on('data', (row: Row) => {
    if (row.type === 'test') {
      tests++
      names.set(row.id ?? -1, row.name ?? '')
      if (row.skip) skipped++
    } else if (row.type === 'assert') {
      assertions++
      if (row.ok || row.todo) {
        passed++
      } else {
        const where = names.get(row.test ?? -1) ?? '?'
        const detail = describeFailure(row)
        failures.push(`not ok ${assertions} ${row.name ?? ''}\n  in test: ${where}\n  ${detail.split('\n').join('\n  ')}`)
        console.log(failures[failures.length - 1])
      }
    }
  })
  stream.on('end', () => {
    finished = true
    report()
  })
  process.on('exit', () => {
    if (!finished) {
      console.log('abstract-level suite: the process exited before every test ended.')
      report()
      process.exitCode = 1
    }
  })
}

/** Expected and actual values and the suite's line for a failed assertion; the stack for an exception. */
function describeFailure(row: Row): string {
  const error = row.operator === 'error' && row.actual instanceof Error ? row.actual : row.error
  const stack = error instanceof Error ? (error.stack ?? error.message) : ''
  if (row.operator === 'error') return stack
  const line = stack.split('\n').find((l) => l.includes('abstract-level/test/'))
  return `operator: ${row.operator}, expected: ${safe(row.expected)}, actual: ${safe(row.actual)}${line ? `\n${line.trim()}` : ''}`
}

function safe(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

function report(): void {
  console.log(
    `abstract-level ${require('abstract-level/package.json').version} suite on chronokv/level (durability '${durability ?? 'sync'}'): ` +
      `${tests} tests (${skipped} skipped), ${assertions} assertions, ${passed} passed, ${failures.length} failed; ` +
      `${databases} databases created.`,
  )
  if (failures.length > 0) process.exitCode = 1
}

suite({
  test,
  factory(options) {
    const location = path.join(root, String(++databases))
    return new ChronoLevel(location, durability === undefined ? options : { durability, ...options })
  },
})
