/**
 * The cost of crossing into chronokv's native addon, beside Node's own native functions: a bare
 * `NativeDatabase.now()` (no arguments, returns a number), `has(key)` (one Buffer argument),
 * `get(key)` (returns a new Buffer), all three napi-rs class methods; the point reads the facade
 * uses, `hasKey` and `getInto`, registered as plain Node-API callbacks (crates/node/src/raw.rs);
 * the facade's own calls; and Node built-ins for scale.
 * Each is called in a tight loop; the best of 5 runs is reported in ns per call.
 *
 * For where the time goes inside one call, profile natively (perf works on this machine with
 * the software clock; hardware counters are not available in the VM):
 *   perf record -e cpu-clock -g node --perf-basic-prof --import tsx benches/js/napi-call-overhead.ts --only=now
 *   perf report --no-children --sort dso,symbol
 *
 * Run: node --import tsx benches/js/napi-call-overhead.ts [--out=file.json] [--only=now]
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

import { loadChronokv, REPO_ROOT } from './lib/peers'

interface NativeHandle {
  now(): number
  has(key: Buffer, at?: number): boolean
  get(key: Buffer, at?: number): Buffer | null
  put(key: Buffer, value: Buffer): number
  waitDurable(ts: number): Promise<number>
  close(): void
}

export interface CallCost {
  name: string
  ns: number
}

let sink: unknown

function time(name: string, f: () => unknown, calls: number): CallCost {
  let best = Infinity
  for (let run = 0; run < 5; run++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) sink = f()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls)
  }
  return { name, ns: best }
}

async function main(): Promise<void> {
  const opts = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]))
  const dir = mkdtempSync(join(tmpdir(), 'chronokv-bench-napi-'))
  const binding = require(join(REPO_ROOT, 'native', 'index.js')) as {
    NativeDatabase: { open(path: string, o: object): NativeHandle & { handle(): unknown } }
    getInto(handle: unknown, key: Buffer, keyLen: number, at: number | undefined, out: Buffer, offset: number): number
    hasKey(handle: unknown, key: Buffer, keyLen: number, at: number | undefined): boolean
  }
  const native = binding.NativeDatabase.open(join(dir, 'native'), { durability: 'sync', createIfMissing: true, readOnly: false })
  const db = await loadChronokv().open<Buffer, Buffer>(join(dir, 'facade'), { keyEncoding: 'binary', valueEncoding: 'binary' })
  const key = Buffer.from('key:000000000001')
  const value = Buffer.alloc(100, 1)
  await native.waitDurable(native.put(key, value))
  await db.put(key, value)
  const calls = 100_000
  const handle = native.handle()
  const readOut = Buffer.alloc(4096)
  const at = native.now()
  const facadeAt = db.now()
  const cases: Array<[string, () => unknown]> = [
    ['native NativeDatabase.now()', () => native.now()],
    ['native NativeDatabase.has(key)', () => native.has(key)],
    ['native NativeDatabase.get(key) (returns a 100-byte Buffer)', () => native.get(key)],
    ['raw hasKey(handle, key)', () => binding.hasKey(handle, key, key.length, undefined)],
    ['raw getInto(handle, key, at, out) (copies 100 bytes)', () => binding.getInto(handle, key, key.length, at, readOut, 0)],
    ['facade db.now()', () => db.now()],
    ['facade db.has(key)', () => db.has(key)],
    ['facade db.get(key)', () => db.get(key)],
    ['facade db.get(key, { at })', () => db.get(key, { at: facadeAt })],
    ['Node: process.hrtime()', () => process.hrtime()],
    ['Node: performance.now()', () => performance.now()],
    ['Node: Buffer.alloc(100)', () => Buffer.alloc(100)],
  ]
  const only = opts.get('only')
  const results: CallCost[] = []
  for (const [name, f] of cases) {
    if (only !== undefined && !name.includes(only)) continue
    const r = time(name, f, only !== undefined ? calls * 20 : calls)
    results.push(r)
    console.log(`${r.name.padEnd(58)} ${r.ns.toFixed(0).padStart(6)} ns`)
  }
  void sink
  native.close()
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  const out = opts.get('out')
  if (out !== undefined) writeFileSync(out, JSON.stringify(results))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
