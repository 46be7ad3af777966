// A small seeded PRNG so randomized tests can be replayed: mulberry32 (public-domain algorithm).

export class Rng {
  private state: number

  constructor(readonly seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [lo, hi] (both inclusive). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(items.length)]!
  }

  /** A short printable string (ASCII plus a few multi-byte characters). */
  string(maxLength: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 -_é中🙂'
    const chars = Array.from(alphabet)
    const length = this.int(maxLength + 1)
    let out = ''
    for (let i = 0; i < length; i++) out += this.pick(chars)
    return out
  }
}

/**
 * The seed for a randomized test: `CHRONOKV_SEED` from the environment when set (to replay a
 * failure), otherwise a fresh random one. Always print it (see `announceSeed`).
 */
export function chooseSeed(): number {
  const fromEnv = process.env.CHRONOKV_SEED
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`CHRONOKV_SEED must be an integer in [0, 2^32): got ${fromEnv}`)
    }
    return seed
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0
}

/** Prints the seed both through ava (t.log) and on the console, as `seed=<n>`. */
export function announceSeed(t: { log: (...values: unknown[]) => void; title: string }, seed: number): void {
  t.log(`seed=${seed}`)
  console.log(`[${t.title}] seed=${seed} (replay with CHRONOKV_SEED=${seed})`)
}
