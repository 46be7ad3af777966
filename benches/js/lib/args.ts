/**
 * Command-line options shared by run.ts and every *.bench.ts, and the sizes they imply.
 * @packageDocumentation
 */

import { STORE_NAMES, type StoreName } from './stores'

export interface BenchArgs {
  /** 'quick' (default) or 'full' (N = 1,000,000). */
  size: 'quick' | 'full'
  /** Keys of the plain data set. */
  n: number
  /** Keys of the temporal data set (20 versions each, so 20 x this many versions). */
  temporalKeys: number
  /** Measured rounds per store (medians and min-max come from these). */
  rounds: number
  /** Benny's maxTime per case and round, seconds. */
  maxTime: number
  /** Duration of one W4 round per store, milliseconds. */
  w4Millis: number
  /** Stores to run, in their base order (rounds rotate it). */
  stores: StoreName[]
  /** Where a workload writes its JSON result (run.ts sets it). */
  out: string | undefined
  /** Workloads run.ts should run (default all). */
  only: string[] | undefined
  /** run.ts: skip the cargo benches. */
  skipRust: boolean
  /** run.ts: skip the CPU profiles of the biggest gaps. */
  skipProfile: boolean
}

/** Parses `--full`, `--n=`, `--temporal-keys=`, `--rounds=`, `--max-time=`, `--w4-ms=`,
 *  `--stores=a,b`, `--out=`, `--only=W1,T2`, `--skip-rust`, `--skip-profile`. */
export function parseArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const flags = new Map<string, string>()
  for (const arg of argv) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg)
    if (m === null) throw new Error(`unknown argument ${arg}`)
    flags.set(m[1] as string, m[2] ?? 'true')
  }
  const known = new Set(['full', 'quick', 'n', 'temporal-keys', 'rounds', 'max-time', 'w4-ms', 'stores', 'out', 'only', 'skip-rust', 'skip-profile'])
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`)
  const full = flags.has('full')
  const num = (name: string, fallback: number) => {
    const v = flags.get(name)
    if (v === undefined) return fallback
    const x = Number(v)
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number`)
    return x
  }
  const n = Math.round(num('n', full ? 1_000_000 : 100_000))
  const stores = (flags.get('stores')?.split(',') ?? [...STORE_NAMES]).map((s) => {
    if (!(STORE_NAMES as readonly string[]).includes(s)) throw new Error(`unknown store ${s}`)
    return s as StoreName
  })
  return {
    size: full ? 'full' : 'quick',
    n,
    temporalKeys: Math.round(num('temporal-keys', Math.max(100, Math.round(n / 20)))),
    rounds: Math.max(1, Math.round(num('rounds', 3))),
    maxTime: num('max-time', full ? 2 : 0.5),
    w4Millis: num('w4-ms', full ? 3000 : 1000),
    stores,
    out: flags.get('out'),
    only: flags.get('only')?.split(','),
    skipRust: flags.has('skip-rust'),
    skipProfile: flags.has('skip-profile'),
  }
}
