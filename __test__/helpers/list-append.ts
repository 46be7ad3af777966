// A list-append history checker in the style of Elle (Kingsbury & Alvaro, "Elle: Inferring
// Isolation Anomalies from Experimental Observations", VLDB 2020), written for chronokv, plus a
// runner that produces such histories against a real database.
//
// The workload: a few keys, each holding a JSON array of integers. A transaction is a short
// sequence of micro-ops:
//   r k         read the list under k
//   append k v  read the list under k, push v (unique across the whole history) and put it back
// Because every appended value is unique and lists only grow, the final list of a key is the
// complete order of its versions, and any list a transaction read names exactly the version it
// saw: the one whose last element it ends with. From those observations alone (the engine's
// timestamps are never trusted) we infer the dependencies between committed transactions:
//   ww  T1 -> T2  T2 appended the element right after T1's in some key's final order
//   wr  T1 -> T2  T2 read a list whose last element T1 appended
//   rw  T1 -> T2  T1 read a list that T2's element extends next (T2 overwrote what T1 saw)
// and look for cycles (Adya's phenomena):
//   G0        a cycle of ww edges                      (forbidden by both levels)
//   G1c       a cycle of ww and wr edges               (forbidden by both levels)
//   G-single  a cycle with exactly one rw edge         (forbidden by snapshot isolation)
//   G2        any other cycle, with two or more rw     (write skew: forbidden only by serializable)
// Besides cycles it checks, for every transaction:
//   incompatible-order  a read that is not a prefix of the key's final list
//   G1a                 a value appended by an aborted transaction, read by another or in a final list
//   G1b                 a read of a list ending in the middle of another transaction's appends
//   internal            a transaction that does not see its own earlier reads and appends
//   future-read         a transaction's first read of a key containing its own (later) append
//   lost-append         a committed append missing from the final list (a lost update)
//   duplicate-elements, unknown-element  garbage in a final list

import { ConflictError } from '../../ts/index'
import type { Isolation } from '../../ts/index'
import type { Rng } from './prng'

// ---------------------------------------------------------------------------------------------
// History

/** One micro-op with what it observed. */
export type MicroOp =
  /** A read of `key`: `value` is the list it returned ([] for an absent key). */
  | { f: 'r'; key: string; value: number[] }
  /** An append of `value` to `key`; `prior` is the list the append read before pushing. */
  | { f: 'append'; key: string; value: number; prior: number[] }

/** `ok`: committed. `fail`: known not to have committed (ConflictError, or aborted on purpose). */
export type Outcome = 'ok' | 'fail'

export interface Txn {
  id: number
  /** The client (logical process) that ran it; informational. */
  client: number
  ops: MicroOp[]
  outcome: Outcome
  /** How it was run (e.g. 'begin', 'run', 'retry#1', 'snapshot'); informational. */
  via?: string
}

export interface History {
  txns: Txn[]
  /** The final list of every key, read after all transactions finished. */
  final: Record<string, number[]>
}

// ---------------------------------------------------------------------------------------------
// Checker

export type AnomalyType =
  | 'duplicate-elements'
  | 'unknown-element'
  | 'incompatible-order'
  | 'lost-append'
  | 'G1a'
  | 'G1b'
  | 'internal'
  | 'future-read'
  | 'G0'
  | 'G1c'
  | 'G-single'
  | 'G2'

/** Every anomaly type except G2 is forbidden by snapshot isolation; serializable forbids them all. */
export function forbiddenAt(level: Isolation): ReadonlySet<AnomalyType> {
  const all: AnomalyType[] = [
    'duplicate-elements',
    'unknown-element',
    'incompatible-order',
    'lost-append',
    'G1a',
    'G1b',
    'internal',
    'future-read',
    'G0',
    'G1c',
    'G-single',
  ]
  if (level === 'serializable') all.push('G2')
  return new Set(all)
}

export type EdgeType = 'ww' | 'wr' | 'rw'

export interface Edge {
  from: number
  to: number
  type: EdgeType
  key: string
}

export interface Anomaly {
  type: AnomalyType
  message: string
  /** Transaction ids involved. */
  txns: number[]
  /** For cycle anomalies: the edges of one witness cycle, in order. */
  cycle?: Edge[]
}

export interface CheckResult {
  /** Anomalies the level forbids: the history is valid at that level iff this is empty. */
  anomalies: Anomaly[]
  /** Anomalies found that the level allows (G2 under snapshot isolation): informational. */
  permitted: Anomaly[]
  stats: {
    txns: number
    committed: number
    failed: number
    edges: Record<EdgeType, number>
  }
}

/** Stop listing more than this many anomalies of one type (the first few explain the failure). */
const MAX_PER_TYPE = 5

export function checkListAppend(history: History, level: Isolation): CheckResult {
  const found: Anomaly[] = []
  const counts = new Map<AnomalyType, number>()
  const report = (a: Anomaly) => {
    const n = counts.get(a.type) ?? 0
    counts.set(a.type, n + 1)
    if (n < MAX_PER_TYPE) found.push(a)
  }

  const txnById = new Map<number, Txn>()
  for (const t of history.txns) {
    if (txnById.has(t.id)) throw new Error(`history: two transactions share id ${t.id}`)
    txnById.set(t.id, t)
  }

  // Who appended each value, and each transaction's appends per key in order.
  const writerOf = new Map<number, Txn>()
  const appendsOf = new Map<Txn, Map<string, number[]>>()
  for (const t of history.txns) {
    const byKey = new Map<string, number[]>()
    for (const op of t.ops) {
      if (op.f !== 'append') continue
      const other = writerOf.get(op.value)
      if (other !== undefined) throw new Error(`history: value ${op.value} appended by T${other.id} and T${t.id}`)
      writerOf.set(op.value, t)
      let list = byKey.get(op.key)
      if (!list) byKey.set(op.key, (list = []))
      list.push(op.value)
    }
    appendsOf.set(t, byKey)
  }

  // ---- final lists
  const finalIndex = new Map<string, Map<number, number>>() // key -> value -> position
  for (const [key, list] of Object.entries(history.final)) {
    const index = new Map<number, number>()
    list.forEach((v, i) => {
      if (index.has(v)) {
        report({ type: 'duplicate-elements', message: `final list of ${key} holds ${v} twice: ${fmt(list)}`, txns: [] })
      } else index.set(v, i)
      const w = writerOf.get(v)
      if (w === undefined) {
        report({ type: 'unknown-element', message: `final list of ${key} holds ${v}, which no transaction appended`, txns: [] })
      } else if (w.outcome === 'fail') {
        report({ type: 'G1a', message: `final list of ${key} holds ${v}, appended by aborted T${w.id}`, txns: [w.id] })
      }
    })
    finalIndex.set(key, index)
  }
  for (const t of history.txns) {
    if (t.outcome !== 'ok') continue
    for (const [key, values] of appendsOf.get(t)!) {
      const index = finalIndex.get(key)
      const positions = values.map((v) => index?.get(v))
      const missing = values.filter((_, i) => positions[i] === undefined)
      if (missing.length > 0) {
        report({
          type: 'lost-append',
          message: `committed T${t.id} appended ${fmt(missing)} to ${key}, missing from its final list ${fmt(history.final[key] ?? [])}`,
          txns: [t.id],
        })
      } else {
        for (let i = 1; i < positions.length; i++) {
          if (positions[i]! < positions[i - 1]!) {
            report({
              type: 'incompatible-order',
              message: `T${t.id} appended ${fmt(values)} to ${key} in that order, but the final list has them as ${fmt(history.final[key] ?? [])}`,
              txns: [t.id],
            })
            break
          }
        }
      }
    }
  }

  // ---- per-transaction observations: internal consistency, external reads
  interface ExternalRead {
    txn: Txn
    key: string
    value: number[]
  }
  const externalReads: ExternalRead[] = []
  for (const t of history.txns) {
    const state = new Map<string, number[]>() // what t should now see under each key it touched
    for (const op of t.ops) {
      const observed = op.f === 'r' ? op.value : op.prior
      const expected = state.get(op.key)
      if (expected === undefined) {
        externalReads.push({ txn: t, key: op.key, value: observed })
      } else if (!sameList(expected, observed)) {
        report({
          type: 'internal',
          message: `T${t.id} ${op.f === 'r' ? 'read' : 'appended to'} ${op.key} seeing ${fmt(observed)}, but its own earlier reads and appends make it ${fmt(expected)}`,
          txns: [t.id],
        })
      }
      state.set(op.key, op.f === 'append' ? [...observed, op.value] : observed)
    }
  }

  // Elements another transaction read: G1a (aborted writer), unknown, future reads, G1b.
  for (const { txn: t, key, value } of externalReads) {
    const final = history.final[key] ?? []
    if (!isPrefix(value, final)) {
      report({
        type: 'incompatible-order',
        message: `T${t.id} read ${key} = ${fmt(value)}, which is not a prefix of its final list ${fmt(final)}`,
        txns: [t.id],
      })
    }
    for (const v of value) {
      const w = writerOf.get(v)
      if (w === undefined) {
        report({ type: 'unknown-element', message: `T${t.id} read ${v} in ${key}, which no transaction appended`, txns: [t.id] })
      } else if (w === t) {
        report({
          type: 'future-read',
          message: `T${t.id}'s first read of ${key} (${fmt(value)}) already holds ${v}, which T${t.id} appends later`,
          txns: [t.id],
        })
      } else if (w.outcome === 'fail') {
        report({ type: 'G1a', message: `T${t.id} read ${v} in ${key}, appended by aborted T${w.id}`, txns: [w.id, t.id] })
      }
    }
    const last = value[value.length - 1]
    if (last !== undefined) {
      const w = writerOf.get(last)
      const theirs = w === undefined || w === t ? undefined : appendsOf.get(w)!.get(key)
      if (theirs !== undefined && theirs[theirs.length - 1] !== last) {
        report({
          type: 'G1b',
          message: `T${t.id} read ${key} = ${fmt(value)}, an intermediate state of T${w!.id}, which appended ${fmt(theirs)} to it`,
          txns: [w!.id, t.id],
        })
      }
    }
  }

  // ---- the dependency graph over committed transactions
  const graph = new Graph()
  const committed = (t: Txn | undefined): t is Txn => t !== undefined && t.outcome === 'ok'
  for (const [key, list] of Object.entries(history.final)) {
    for (let i = 1; i < list.length; i++) {
      const a = writerOf.get(list[i - 1]!)
      const b = writerOf.get(list[i]!)
      if (committed(a) && committed(b) && a !== b) graph.add({ from: a.id, to: b.id, type: 'ww', key })
    }
  }
  for (const { txn: t, key, value } of externalReads) {
    if (t.outcome !== 'ok') continue
    const final = history.final[key] ?? []
    if (!isPrefix(value, final)) continue // already reported; no sound edge to draw
    const last = value[value.length - 1]
    if (last !== undefined) {
      const w = writerOf.get(last)
      if (committed(w) && w !== t) graph.add({ from: w.id, to: t.id, type: 'wr', key })
    }
    const next = final[value.length]
    if (next !== undefined) {
      const w = writerOf.get(next)
      if (committed(w) && w !== t) graph.add({ from: t.id, to: w.id, type: 'rw', key })
    }
  }

  const permitted: Anomaly[] = []
  for (const a of findCycles(graph)) report(a)

  const forbidden = forbiddenAt(level)
  const anomalies: Anomaly[] = []
  for (const a of found) (forbidden.has(a.type) ? anomalies : permitted).push(a)
  return {
    anomalies,
    permitted,
    stats: {
      txns: history.txns.length,
      committed: history.txns.filter((t) => t.outcome === 'ok').length,
      failed: history.txns.filter((t) => t.outcome === 'fail').length,
      edges: graph.countByType(),
    },
  }
}

class Graph {
  /** from -> to -> the edges between them (one per type and key). */
  readonly out = new Map<number, Map<number, Edge[]>>()
  readonly nodes = new Set<number>()

  add(edge: Edge): void {
    this.nodes.add(edge.from)
    this.nodes.add(edge.to)
    let targets = this.out.get(edge.from)
    if (!targets) this.out.set(edge.from, (targets = new Map()))
    let edges = targets.get(edge.to)
    if (!edges) targets.set(edge.to, (edges = []))
    if (!edges.some((e) => e.type === edge.type && e.key === edge.key)) edges.push(edge)
  }

  /** Edges out of `node` whose type is in `types`. */
  *edgesFrom(node: number, types: ReadonlySet<EdgeType>): Generator<Edge> {
    for (const edges of this.out.get(node)?.values() ?? []) {
      for (const e of edges) if (types.has(e.type)) yield e
    }
  }

  *allEdges(): Generator<Edge> {
    for (const targets of this.out.values()) for (const edges of targets.values()) yield* edges
  }

  countByType(): Record<EdgeType, number> {
    const counts = { ww: 0, wr: 0, rw: 0 }
    for (const e of this.allEdges()) counts[e.type]++
    return counts
  }

  /** Strongly connected components (Tarjan, iterative) over edges of the given types. */
  components(types: ReadonlySet<EdgeType>): Map<number, number> {
    const index = new Map<number, number>()
    const low = new Map<number, number>()
    const onStack = new Set<number>()
    const stack: number[] = []
    const component = new Map<number, number>()
    let counter = 0
    let componentId = 0
    for (const root of this.nodes) {
      if (index.has(root)) continue
      const work: Array<{ node: number; edges: Edge[]; i: number }> = []
      const visit = (node: number) => {
        index.set(node, counter)
        low.set(node, counter)
        counter++
        stack.push(node)
        onStack.add(node)
        work.push({ node, edges: [...this.edgesFrom(node, types)], i: 0 })
      }
      visit(root)
      while (work.length > 0) {
        const frame = work[work.length - 1]!
        if (frame.i < frame.edges.length) {
          const to = frame.edges[frame.i++]!.to
          if (!index.has(to)) visit(to)
          else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!))
          continue
        }
        work.pop()
        const parent = work[work.length - 1]
        if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
        if (low.get(frame.node) === index.get(frame.node)) {
          let member: number
          do {
            member = stack.pop()!
            onStack.delete(member)
            component.set(member, componentId)
          } while (member !== frame.node)
          componentId++
        }
      }
    }
    return component
  }

  /**
   * A shortest path from `from` to `to` over edges of the given types that stay inside
   * `within` (a component map and id), as a list of edges; undefined when there is none.
   */
  path(from: number, to: number, types: ReadonlySet<EdgeType>, within?: { component: Map<number, number>; id: number }): Edge[] | undefined {
    if (from === to) return []
    const via = new Map<number, Edge>()
    const queue = [from]
    const seen = new Set([from])
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!
      for (const e of this.edgesFrom(node, types)) {
        if (seen.has(e.to)) continue
        if (within && within.component.get(e.to) !== within.id) continue
        seen.add(e.to)
        via.set(e.to, e)
        if (e.to === to) {
          const path: Edge[] = []
          for (let at = to; at !== from; ) {
            const step = via.get(at)!
            path.push(step)
            at = step.from
          }
          return path.reverse()
        }
        queue.push(e.to)
      }
    }
    return undefined
  }
}

const WW = new Set<EdgeType>(['ww'])
const WW_WR = new Set<EdgeType>(['ww', 'wr'])
const ALL = new Set<EdgeType>(['ww', 'wr', 'rw'])

/** Cycle anomalies, one witness per component and kind (G-single: one per rw edge that closes one). */
function findCycles(graph: Graph): Anomaly[] {
  const out: Anomaly[] = []
  const cycleAnomaly = (type: AnomalyType, cycle: Edge[]): Anomaly => ({
    type,
    message: `${type} cycle: ${describeCycle(cycle)}`,
    txns: cycle.map((e) => e.from),
    cycle,
  })

  // G0: cycles of ww edges. G1c: cycles of ww and wr edges with at least one wr. Each is an
  // edge of `closing` type closed by a path over `allowed` edges, reported once per component.
  const closedCycles = (name: 'G0' | 'G1c', closing: 'ww' | 'wr', allowed: typeof WW): void => {
    const components = graph.components(allowed)
    const done = new Set<number>()
    for (const e of graph.allEdges()) {
      if (e.type !== closing) continue
      const id = components.get(e.from)!
      if (done.has(id) || components.get(e.to) !== id) continue
      const back = graph.path(e.to, e.from, allowed, { component: components, id })
      if (back) {
        done.add(id)
        out.push(cycleAnomaly(name, [e, ...back]))
      }
    }
  }
  closedCycles('G0', 'ww', WW)
  closedCycles('G1c', 'wr', WW_WR)

  // G-single: an rw edge closed by a path of ww/wr edges. G2: an rw edge closed by any path
  // (then with two or more rw edges, since no ww/wr path closes it).
  const allComponents = graph.components(ALL)
  const g2Done = new Set<number>()
  for (const e of graph.allEdges()) {
    if (e.type !== 'rw') continue
    const id = allComponents.get(e.from)!
    if (allComponents.get(e.to) !== id) continue
    const single = graph.path(e.to, e.from, WW_WR, { component: allComponents, id })
    if (single) {
      out.push(cycleAnomaly('G-single', [e, ...single]))
      continue
    }
    if (g2Done.has(id)) continue
    const back = graph.path(e.to, e.from, ALL, { component: allComponents, id })
    if (back) {
      g2Done.add(id)
      out.push(cycleAnomaly('G2', [e, ...back]))
    }
  }
  return out
}

function describeCycle(cycle: Edge[]): string {
  return cycle.map((e) => `T${e.from} -${e.type}(${e.key})-> `).join('') + `T${cycle[0]!.from}`
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function isPrefix(prefix: readonly number[], list: readonly number[]): boolean {
  return prefix.length <= list.length && prefix.every((v, i) => v === list[i])
}

function fmt(list: readonly number[]): string {
  return `[${list.join(' ')}]`
}

/** The transactions an anomaly names, for a readable failure report. */
export function explain(history: History, anomaly: Anomaly): string {
  const ids = new Set(anomaly.txns)
  const lines = [`${anomaly.type}: ${anomaly.message}`]
  for (const t of history.txns) {
    if (!ids.has(t.id)) continue
    const ops = t.ops
      .map((op) => (op.f === 'r' ? `r ${op.key} ${fmt(op.value)}` : `append ${op.key} ${op.value} (saw ${fmt(op.prior)})`))
      .join('; ')
    lines.push(`  T${t.id} [client ${t.client}, ${t.via ?? '?'}, ${t.outcome}]: ${ops}`)
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// Runner: produces a history against a real database

/** What the runner reads through: a chronokv Transaction or Snapshot of number[] values. */
export interface ListReader {
  get(key: string): number[] | undefined
  getEntry(key: string): { value: number[] } | undefined
  getRange(options: { gte?: string; lt?: string; lte?: string; reverse?: boolean }): Iterable<{ key: string; value: number[] }>
}

/** The part of a chronokv Transaction the runner uses. */
export interface ListTransaction extends ListReader {
  put(key: string, value: number[]): void
  commit(): Promise<unknown>
  abort(): void
}

/**
 * The part of a chronokv Database the runner uses: a `Database<string, number[]>` fits; so
 * does a deliberately broken stand-in (to prove the checker catches a broken engine).
 */
export interface ListAppendDb {
  beginTransaction(options: { isolation: Isolation }): ListTransaction
  transaction<R>(fn: (tx: ListTransaction) => Promise<R>, options: { isolation: Isolation; retries: number }): Promise<R>
  snapshot(): ListReader & { close(): void }
}

export interface RunOptions {
  /** Handles on the database; clients use them in turn (several handles share one engine). */
  dbs: ReadonlyArray<ListAppendDb>
  rng: Rng
  /** Prefix of this history's keys, so many histories can share one database. */
  prefix: string
  isolation: Isolation
  /** Keys per history (default 5). */
  keys?: number
  /** Concurrent clients (default: 3..6, from rng). */
  clients?: number
  /** Transactions per client (default: 4..10, from rng). */
  txnsPerClient?: number
}

type PlannedOp = { f: 'r'; key: string } | { f: 'append'; key: string } | { f: 'scan' }

/** How a client runs one transaction. */
type Style = 'begin' | 'run' | 'retry' | 'snapshot' | 'read-only-begin'

class VoluntaryAbort extends Error {}

/**
 * Runs a few concurrent clients against one database, each issuing random list-append
 * transactions with awaits between micro-ops so that they interleave, and records what every
 * transaction observed and whether it committed. Finally reads every key's list.
 */
export async function runListAppend(options: RunOptions): Promise<History> {
  const { dbs, rng, prefix, isolation } = options
  const keyCount = options.keys ?? 5
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`)
  const clients = options.clients ?? rng.between(3, 6)
  const txns: Txn[] = []
  let nextTxnId = 0
  let nextValue = 1
  const dbKey = (key: string) => `${prefix}${key}`

  // Plans are drawn up front so that the workload depends on the seed only.
  const plans: Array<Array<{ ops: PlannedOp[]; style: Style; abort: boolean }>> = []
  for (let c = 0; c < clients; c++) {
    const count = options.txnsPerClient ?? rng.between(4, 10)
    const list = []
    for (let i = 0; i < count; i++) {
      const ops: PlannedOp[] = []
      const n = rng.between(1, 4)
      for (let j = 0; j < n; j++) {
        const roll = rng.next()
        ops.push(roll < 0.08 ? { f: 'scan' } : roll < 0.5 ? { f: 'r', key: rng.pick(keys) } : { f: 'append', key: rng.pick(keys) })
      }
      const styleRoll = rng.next()
      const style: Style =
        styleRoll < 0.35 ? 'begin' : styleRoll < 0.7 ? 'run' : styleRoll < 0.82 ? 'retry' : styleRoll < 0.92 ? 'snapshot' : 'read-only-begin'
      list.push({ ops, style, abort: rng.chance(0.05) })
    }
    plans.push(list)
  }
  const pauses: number[] = Array.from({ length: 4096 }, () => rng.int(4))
  let pauseIndex = 0
  const pause = async () => {
    const kind = pauses[pauseIndex++ % pauses.length]!
    if (kind === 1) await Promise.resolve()
    else if (kind >= 2) await new Promise((resolve) => setImmediate(resolve))
  }

  const readList = (value: number[] | undefined): number[] => (value === undefined ? [] : [...value])

  /** Runs the planned ops against a transaction or snapshot, recording into `rec`. */
  const runOps = async (
    reader: ListReader & { put?: (k: string, v: number[]) => void },
    ops: PlannedOp[],
    rec: Txn,
    variant: () => number,
  ) => {
    for (const op of ops) {
      await pause()
      if (op.f === 'scan') {
        const seen = new Map<string, number[]>()
        const reverse = variant() % 2 === 0
        for (const e of reader.getRange({ gte: prefix, lt: `${prefix}~`, reverse })) {
          seen.set(e.key.slice(prefix.length), readList(e.value))
        }
        for (const key of keys) rec.ops.push({ f: 'r', key, value: seen.get(key) ?? [] })
      } else if (op.f === 'r') {
        const how = variant() % 3
        const k = dbKey(op.key)
        const value =
          how === 0 ? reader.get(k) : how === 1 ? reader.getEntry(k)?.value : [...reader.getRange({ gte: k, lte: k })][0]?.value
        rec.ops.push({ f: 'r', key: op.key, value: readList(value) })
      } else {
        if (!reader.put) throw new Error('append in a read-only transaction')
        const k = dbKey(op.key)
        const prior = readList(reader.get(k))
        const value = nextValue++
        reader.put(k, [...prior, value])
        rec.ops.push({ f: 'append', key: op.key, value, prior })
      }
    }
  }

  const client = async (c: number) => {
    const db = dbs[c % dbs.length]!
    let variantCounter = c
    const variant = () => variantCounter++
    for (const plan of plans[c]!) {
      await pause()
      const newTxn = (via: string): Txn => {
        const rec: Txn = { id: nextTxnId++, client: c, ops: [], outcome: 'fail', via }
        txns.push(rec)
        return rec
      }
      if (plan.style === 'snapshot') {
        // A read-only view: always "commits". Appends in the plan become reads.
        const rec = newTxn('snapshot')
        const snap = db.snapshot()
        try {
          const ops = plan.ops.map((op): PlannedOp => (op.f === 'append' ? { f: 'r', key: op.key } : op))
          await runOps(snap, ops, rec, variant)
        } finally {
          snap.close()
        }
        rec.outcome = 'ok'
      } else if (plan.style === 'begin' || plan.style === 'read-only-begin') {
        const rec = newTxn(plan.style)
        const tx = db.beginTransaction({ isolation })
        const ops =
          plan.style === 'begin' ? plan.ops : plan.ops.map((op): PlannedOp => (op.f === 'append' ? { f: 'r', key: op.key } : op))
        await runOps(tx, ops, rec, variant)
        await pause()
        if (plan.abort) {
          tx.abort()
          continue
        }
        try {
          await tx.commit()
          rec.outcome = 'ok'
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err
        }
      } else {
        // db.transaction: 'run' with retries 0, 'retry' with up to 2 retries; every attempt is
        // its own transaction in the history (a retried attempt failed).
        const retries = plan.style === 'run' ? 0 : 2
        let current: Txn | undefined
        let attempts = 0
        try {
          await db.transaction(
            async (tx) => {
              attempts++
              if (attempts > retries + 1) throw new Error(`db.transaction ran its callback ${attempts} times with retries ${retries}`)
              current = newTxn(retries === 0 ? 'run' : `retry#${attempts - 1}`)
              await runOps(tx, plan.ops, current, variant)
              await pause()
              if (plan.abort) throw new VoluntaryAbort()
            },
            { isolation, retries },
          )
          current!.outcome = 'ok'
        } catch (err) {
          if (!(err instanceof ConflictError) && !(err instanceof VoluntaryAbort)) throw err
        }
      }
    }
  }

  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)))

  const snap = dbs[0]!.snapshot()
  const final: Record<string, number[]> = {}
  for (const key of keys) final[key] = readList(snap.get(dbKey(key)))
  snap.close()
  return { txns, final }
}
