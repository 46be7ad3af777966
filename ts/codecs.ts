/**
 * Codecs turn keys and values into the bytes the engine stores, and back.
 *
 * Keys are ordered by their encoded bytes, so a key codec decides the iteration order of
 * `getRange`. The built-in encodings are `'utf8'` and `'binary'` for keys and `'json'`, `'utf8'`,
 * `'binary'` and `'msgpack'` for values; any object with `encode` and `decode` can be used
 * instead. Encoding failures become {@link InvalidArgumentError}s before anything is written.
 *
 * @packageDocumentation
 */

import { ChronoError, InvalidArgumentError } from './errors'

/**
 * Converts values of type `T` to bytes and back. `decode(encode(x))` should give back a value
 * equal to `x`; for keys, the byte order of encodings is the order of `getRange`.
 */
export interface Codec<T> {
  /** Encodes a value; may throw to refuse it (the call then fails with InvalidArgumentError). */
  encode(value: T): Uint8Array
  /** Decodes bytes produced by `encode`. The bytes passed in are a fresh Buffer the codec may keep. */
  decode(bytes: Uint8Array): T
}

/** The smallest allowed key, in bytes after encoding. */
export const MIN_KEY_BYTES = 1
/** The largest allowed key, in bytes after encoding. */
export const MAX_KEY_BYTES = 4096
/** The largest allowed value, in bytes after encoding (64 MiB). */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024

/** Views a Uint8Array as a Buffer over the same memory, without copying. @internal */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** A short description of a value's type for error messages. @internal */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    return name && name !== 'Object' ? `a ${name}` : 'an object'
  }
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return `a ${typeof value}`
}

/** Keys and values stored as UTF-8 text. */
export const utf8Codec: Codec<string> = {
  encode(value) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(`Expected a string for the 'utf8' encoding, got ${describe(value)}.`)
    }
    return Buffer.from(value, 'utf8')
  },
  decode(bytes) {
    return toBuffer(bytes).toString('utf8')
  },
}

/** Raw bytes: accepts any Uint8Array (Buffers included) and reads back Buffers. */
export const binaryCodec: Codec<Uint8Array> = {
  encode(value) {
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        `Expected a Buffer or Uint8Array for the 'binary' encoding, got ${describe(value)}.`,
      )
    }
    return value
  },
  decode(bytes) {
    return toBuffer(bytes)
  },
}

/** Rejects top-level values that have no serialized form in JSON or MessagePack. */
function checkSerializable(value: unknown, encoding: string): void {
  const type = typeof value
  if (type === 'undefined' || type === 'function' || type === 'symbol') {
    throw new InvalidArgumentError(
      `The value cannot be stored with the '${encoding}' encoding: ${describe(value)} has no ${encoding} form.`,
    )
  }
}

/**
 * Values stored as JSON text. As with `JSON.stringify`, `undefined` and functions nested inside
 * objects are dropped and Dates become strings; a top-level `undefined`, function or symbol, a
 * BigInt anywhere or a circular structure is refused.
 */
export const jsonCodec: Codec<any> = {
  encode(value) {
    checkSerializable(value, 'json')
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (err) {
      throw new InvalidArgumentError(
        `The value cannot be stored with the 'json' encoding: ${(err as Error).message}.`,
        { cause: err },
      )
    }
    if (text === undefined) {
      throw new InvalidArgumentError(`The value cannot be stored with the 'json' encoding: ${describe(value)} has no json form.`)
    }
    return Buffer.from(text, 'utf8')
  },
  decode(bytes) {
    return JSON.parse(toBuffer(bytes).toString('utf8'))
  },
}

/** The part of msgpackr's Packr that the msgpack codec uses. */
interface Packer {
  pack(value: unknown): Buffer
  unpack(bytes: Uint8Array): unknown
}

let packer: Packer | undefined

/**
 * The shared msgpackr Packr, created on first use so that databases without msgpack values
 * never load msgpackr. Plain MessagePack (no msgpackr records), so other MessagePack readers
 * can decode the stored bytes; maps with string keys decode to plain objects.
 */
function getPacker(): Packer {
  if (packer === undefined) {
    let msgpackr: { Packr: new (options: object) => Packer }
    try {
      msgpackr = require('msgpackr') as typeof msgpackr
    } catch (err) {
      throw new InvalidArgumentError(
        "valueEncoding 'msgpack' needs the msgpackr package, which could not be loaded.",
        { cause: err },
      )
    }
    // copyBuffers: binary values are copied out of the input, which may be a reused buffer.
    packer = new msgpackr.Packr({ useRecords: false, mapsAsObjects: true, copyBuffers: true })
  }
  return packer
}

/**
 * Values stored as standard MessagePack through msgpackr: more compact than JSON, and it keeps
 * Dates, binary data (read back as Buffers), BigInts within 64 bits and `undefined` nested in
 * objects and arrays. Maps come back as plain objects and Sets as arrays. A top-level
 * `undefined`, function or symbol, or a circular structure is refused.
 */
export const msgpackCodec: Codec<any> = {
  encode(value) {
    checkSerializable(value, 'msgpack')
    try {
      // The returned Buffer is a slice of msgpackr's shared output buffer; it stays intact until
      // msgpackr's buffer is exhausted, and the binding copies it synchronously.
      return getPacker().pack(value)
    } catch (err) {
      if (err instanceof ChronoError) throw err
      throw new InvalidArgumentError(
        `The value cannot be stored with the 'msgpack' encoding: ${(err as Error).message}.`,
        { cause: err },
      )
    }
  },
  decode(bytes) {
    return getPacker().unpack(bytes)
  },
}

/** Loads msgpackr now, so that `open` fails early if it is missing. @internal */
export function preloadMsgpack(): void {
  getPacker()
}

/** True for objects that look like a {@link Codec}. @internal */
export function isCodec(value: unknown): value is Codec<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Codec<unknown>).encode === 'function' &&
    typeof (value as Codec<unknown>).decode === 'function'
  )
}

function encodeWith<T>(codec: Codec<T>, value: T, what: 'key' | 'value'): Uint8Array {
  let bytes: unknown
  try {
    bytes = codec.encode(value)
  } catch (err) {
    if (err instanceof ChronoError) throw err
    throw new InvalidArgumentError(`The ${what} could not be encoded: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    })
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(`The ${what} codec returned ${describe(bytes)} instead of a Uint8Array.`)
  }
  return bytes
}

/**
 * Encodes a key and checks its size (1..4096 bytes).
 * @throws InvalidArgumentError
 * @internal
 */
export function encodeKey<K>(codec: Codec<K>, key: K): Buffer {
  const bytes = encodeWith(codec, key, 'key')
  if (bytes.byteLength < MIN_KEY_BYTES || bytes.byteLength > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(
      `A key must be ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes after encoding; this one is ${bytes.byteLength} bytes.`,
    )
  }
  return toBuffer(bytes)
}

/**
 * Encodes a value and checks its size (at most 64 MiB).
 * @throws InvalidArgumentError
 * @internal
 */
export function encodeValue<V>(codec: Codec<V>, value: V): Buffer {
  const bytes = encodeWith(codec, value, 'value')
  if (bytes.byteLength > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(
      `A value must be at most ${MAX_VALUE_BYTES} bytes (64 MiB) after encoding; this one is ${bytes.byteLength} bytes.`,
    )
  }
  return toBuffer(bytes)
}

/**
 * Decodes stored bytes; a codec that throws (typically: the database was written with another
 * encoding) becomes an InvalidArgumentError naming the problem.
 * @internal
 */
export function decodeWith<T>(codec: Codec<T>, bytes: Buffer, what: 'key' | 'value'): T {
  try {
    return codec.decode(bytes)
  } catch (err) {
    throw decodeError(err, what)
  }
}

/**
 * Decodes `buf[start..end)`, where `buf` is a buffer the caller reuses (the fast read path's
 * output buffer). The built-in text codecs decode straight out of it; msgpackr copies binary
 * values out (copyBuffers); any other codec gets a fresh copy it may keep, as {@link Codec}
 * promises.
 * @internal
 */
export function decodeSlice<T>(codec: Codec<T>, buf: Buffer, start: number, end: number, what: 'key' | 'value'): T {
  try {
    if (codec === jsonCodec) return JSON.parse(buf.toString('utf8', start, end)) as T
    if (codec === (utf8Codec as Codec<unknown>)) return buf.toString('utf8', start, end) as T
    if (codec === msgpackCodec) return getPacker().unpack(buf.subarray(start, end)) as T
    return codec.decode(Buffer.from(buf.subarray(start, end)))
  } catch (err) {
    throw decodeError(err, what)
  }
}

/**
 * True when `codec.decode` keeps no reference to its input (it builds a string or objects;
 * msgpack copies binary data out, see getPacker), so the bytes it read may be reused.
 * @internal
 */
export function copiesOnDecode(codec: Codec<unknown>): boolean {
  return codec === (utf8Codec as Codec<unknown>) || codec === jsonCodec || codec === msgpackCodec
}

/**
 * Decodes bytes handed over for good: a view that nothing will overwrite, which the codec may
 * return or keep (the binary codec returns it as is).
 * @internal
 */
export function decodeOwned<T>(codec: Codec<T>, bytes: Buffer, what: 'key' | 'value'): T {
  try {
    return codec.decode(bytes)
  } catch (err) {
    throw decodeError(err, what)
  }
}

function decodeError(err: unknown, what: 'key' | 'value'): ChronoError {
  if (err instanceof ChronoError) return err
  return new InvalidArgumentError(
    `A stored ${what} could not be decoded (was it written with another ${what}Encoding?): ${(err as Error)?.message ?? String(err)}`,
    { cause: err },
  )
}
