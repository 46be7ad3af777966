// Shared between recovery.spec.ts and fixtures/crash-writer.ts (which must not be imported by tests:
// it runs its main loop on load).

export const ACCOUNTS = 8
export const TOTAL = 8_000
export const acctKey = (i: number) => `acct:${i}`

/** What the crash writer acknowledges, one JSON per `ack <ts> <json>` line. */
export type AckedWrite =
  | { kind: 'init'; each: number }
  | { kind: 'put'; key: string; value: unknown }
  | { kind: 'del'; key: string }
  | { kind: 'batch'; id: string; k: number }
  | { kind: 'transfer'; set: Record<string, number> }

export interface Ack {
  ts: number
  write: AckedWrite
  cycle: number
}
