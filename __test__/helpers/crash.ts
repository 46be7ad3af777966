// Shared by recovery.spec.ts and the crash writer (fixtures/crash-writer.js, plain JavaScript:
// keep ACCOUNTS and TOTAL in step with it).

export const ACCOUNTS = 8
export const TOTAL = 8_000
export const acctKey = (i: number) => `acct:${i}`

/** What the crash writer announces before each write, one JSON per `w <n> <json>` line. */
export type IssuedWrite =
  | { kind: 'init'; each: number; w: string }
  | { kind: 'put'; key: string; value: { w: string; pad: string } }
  | { kind: 'del'; key: string }
  | { kind: 'batch'; id: string; k: number }
  | { kind: 'transfer'; set: Record<string, number>; w: string }

/** One write of a writer process, in issue (= commit) order, with its ack if it was printed. */
export interface Write {
  n: number
  write: IssuedWrite
  ackTs?: number
}

/** The value each key of a write must hold, `undefined` for a delete. */
export function writeKeys(write: IssuedWrite): Array<[string, unknown]> {
  switch (write.kind) {
    case 'init':
      return Array.from({ length: ACCOUNTS }, (_, i) => [acctKey(i), { bal: write.each, w: write.w }])
    case 'put':
      return [[write.key, write.value]]
    case 'del':
      return [[write.key, undefined]]
    case 'batch':
      return Array.from({ length: write.k }, (_, j) => [`b:${write.id}:${j}`, { batch: write.id, j, k: write.k }])
    case 'transfer':
      return Object.entries(write.set).map(([key, bal]) => [key, { bal, w: write.w }])
  }
}

/**
 * Parses a writer's log (complete lines). Fails (throws) on lines out of order: `w` lines must
 * count up from 0, and acks must come in issue order for issued writes.
 */
export function parseWriterOutput(lines: readonly string[]): Write[] {
  const writes: Write[] = []
  let lastAck = -1
  for (const line of lines) {
    let m = /^w (\d+) (.*)$/.exec(line)
    if (m) {
      const n = Number(m[1])
      if (n !== writes.length) throw new Error(`write ${n} announced out of order (expected ${writes.length})`)
      writes.push({ n, write: JSON.parse(m[2]!) as IssuedWrite })
      continue
    }
    m = /^ack (\d+) (\d+)$/.exec(line)
    if (m) {
      const n = Number(m[1])
      const write = writes[n]
      if (!write) throw new Error(`ack of write ${n}, which was never announced`)
      if (n <= lastAck) throw new Error(`ack of write ${n} after the ack of write ${lastAck}`)
      lastAck = n
      write.ackTs = Number(m[2])
      continue
    }
    throw new Error(`unexpected line from the writer: ${JSON.stringify(line)}`)
  }
  return writes
}
