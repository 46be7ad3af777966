import test from 'ava'
import type { ExecutionContext } from 'ava'

import { open } from '../ts/index'
import { loadNative, type NativeHandle } from '../ts/native'
import { resolveOpenOptions } from '../ts/options'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

const INVALID = 'CHRONOKV_INVALID_ARGUMENT'

/** A native database with `key` -> `value` written, closed at the end of the test. */
async function nativeWith(t: ExecutionContext, key: Buffer, value: Buffer) {
  const binding = loadNative()
  const native = binding.NativeDatabase.open(tempDbPath(t), resolveOpenOptions({}).native)
  t.teardown(() => native.close())
  await native.waitDurable(native.put(key, value))
  return { binding, native, handle: native.handle() }
}

/** `fn` must throw an Error carrying `code` (the raw binding, below the facade's classes). */
function throwsCode(t: ExecutionContext, fn: () => unknown, code: string, what: string): void {
  const err = t.throws(fn, undefined, what)
  t.is((err as Error & { code?: unknown })?.code, code, `${what}: ${err?.message}`)
  t.true(err?.message.startsWith(`${code}: `), `${what}: the message starts with the code: ${err?.message}`)
}

test('raw getInto reads [ts | value] at the offset and copies nothing when it does not fit', async (t) => {
  const key = Buffer.from('k1')
  const value = Buffer.from('the value')
  const { binding, native, handle } = await nativeWith(t, key, value)
  const out = Buffer.alloc(64, 0xee)
  t.is(binding.getInto(handle, key, 2, undefined, out, 16), value.length)
  t.is(out.readDoubleLE(16), native.now())
  t.deepEqual(out.subarray(24, 24 + value.length), value)
  t.true(out.subarray(0, 16).every((b) => b === 0xee), 'nothing before the offset is touched')
  // Not enough room after the offset (and an offset past the end): the length, nothing copied.
  const small = Buffer.alloc(20, 0xee)
  t.is(binding.getInto(handle, key, 2, undefined, small, 4), value.length)
  t.is(binding.getInto(handle, key, 2, undefined, small, 1000), value.length)
  t.true(small.every((b) => b === 0xee))
  // Absent, and as of a time before the write.
  t.is(binding.getInto(handle, Buffer.from('k2'), 2, undefined, out, 0), -1)
  t.is(binding.getInto(handle, key, 2, native.now() - 1, out, 0), -1)
  // keyLen selects a prefix of the buffer.
  t.is(binding.getInto(handle, Buffer.from('k1-and-more'), 2, undefined, out, 0), value.length)
  t.true(binding.hasKey(handle, key, 2, undefined))
  t.true(binding.hasKey(handle, key, 2, null as unknown as undefined))
  t.false(binding.hasKey(handle, key, 1, undefined))
})

test('raw getInto and hasKey refuse bad arguments with INVALID_ARGUMENT, never a crash', async (t) => {
  const key = Buffer.from('k1')
  const { binding, handle } = await nativeWith(t, key, Buffer.from('v'))
  const out = Buffer.alloc(64)
  const bad: Array<[string, () => unknown]> = [
    ['a number as handle', () => binding.getInto(42 as unknown as NativeHandle, key, 2, undefined, out, 0)],
    ['an object as handle', () => binding.hasKey({} as NativeHandle, key, 2, undefined)],
    ['a string as key', () => binding.getInto(handle, 'k1' as unknown as Buffer, 2, undefined, out, 0)],
    ['keyLen beyond the key', () => binding.getInto(handle, key, 3, undefined, out, 0)],
    ['a negative keyLen', () => binding.hasKey(handle, key, -1, undefined)],
    ['a fractional keyLen', () => binding.hasKey(handle, key, 1.5, undefined)],
    ['a string as at', () => binding.getInto(handle, key, 2, '5' as unknown as number, out, 0)],
    ['a negative at', () => binding.hasKey(handle, key, 2, -1)],
    ['NaN as at', () => binding.hasKey(handle, key, 2, Number.NaN)],
    ['no out buffer', () => binding.getInto(handle, key, 2, undefined, undefined as unknown as Buffer, 0)],
    ['a missing offset', () => (binding.getInto as (...args: unknown[]) => number)(handle, key, 2, undefined, out)],
    ['out overlapping the key', () => binding.getInto(handle, out, 2, undefined, out, 0)],
    ['an empty key', () => binding.getInto(handle, key, 0, undefined, out, 0)],
  ]
  for (const [what, call] of bad) throwsCode(t, call, INVALID, what)
})

test('raw reads on a closed handle throw CLOSED', async (t) => {
  const key = Buffer.from('k1')
  const { binding, native, handle } = await nativeWith(t, key, Buffer.from('v'))
  native.close()
  throwsCode(t, () => binding.getInto(handle, key, 2, undefined, Buffer.alloc(16), 0), 'CHRONOKV_CLOSED', 'getInto')
  throwsCode(t, () => binding.hasKey(handle, key, 2, undefined), 'CHRONOKV_CLOSED', 'hasKey')
})

test('binary values are views that later reads never overwrite, across slabs and large values', async (t) => {
  const db = closeAtEnd(t, await open<Buffer, Buffer>(tempDbPath(t), { keyEncoding: 'binary', valueEncoding: 'binary' }))
  const keyOf = (i: number) => Buffer.from(`key-${i}`)
  const valueOf = (i: number) => Buffer.alloc(i % 7 === 0 ? 40_000 : 100 + (i % 13), i % 251)
  await db.batch(Array.from({ length: 600 }, (_, i) => ({ type: 'put' as const, key: keyOf(i), value: valueOf(i) })))
  // 600 reads span many 16 KiB slabs; every 7th value is larger than a slab.
  const got = Array.from({ length: 600 }, (_, i) => db.get(keyOf(i)))
  const entries = Array.from({ length: 600 }, (_, i) => db.getEntry(keyOf(i)))
  const many = db.getMany(Array.from({ length: 600 }, (_, i) => keyOf(i)))
  // Buffer.equals rather than deepEqual: ava's deep comparison of 40 kB buffers is slow.
  const same = (a: Buffer | undefined, i: number) => a !== undefined && a.equals(valueOf(i))
  for (let i = 0; i < 600; i++) {
    t.true(same(got[i], i), `get ${i}`)
    t.true(same(entries[i]?.value, i), `getEntry ${i}`)
    t.true(same(many[i], i), `getMany ${i}`)
  }
  // A caller writing into one value does not touch another.
  got[1]!.fill(0)
  t.true(same(db.get(keyOf(2)), 2))
  t.true(same(got[2], 2))
  t.is(got[1]!.byteLength, valueOf(1).length)
})

test('string and JSON values read back whole across slab boundaries', async (t) => {
  const db = closeAtEnd(t, await open<string, unknown>(tempDbPath(t)))
  const valueOf = (i: number) => ({ i, text: 'x'.repeat((i * 997) % 30_000) })
  await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: valueOf(i) })))
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      const got = db.get(`k${i}`) as ReturnType<typeof valueOf> | undefined
      t.is(got?.i, i, `round ${round}, k${i}`)
      t.is(got?.text, valueOf(i).text, `round ${round}, k${i}`)
    }
  }
  const entry = db.getEntry('k5')
  t.is(entry?.ts, db.now())
})
