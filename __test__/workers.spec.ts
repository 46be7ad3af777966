// worker_threads sharing one engine: open() of the same path from several threads of one process
// joins the same engine, transactions from different threads conflict and retry correctly, and a
// write is visible to every other thread as soon as its promise resolves.
//
// About loading the .ts fixtures: ava runs this file with `--import=tsx`, and a Worker inherits
// that execArgv, but on Node 20 the ESM hooks tsx registers through --import do not reach worker
// threads, so `new Worker('x.ts')` fails with ERR_UNKNOWN_FILE_EXTENSION (tsx issue #354; the
// first test logs what this Node does). The workers are therefore started with tsx's CommonJS
// hook instead: `execArgv: ['--require', 'tsx/cjs']`.

import test from 'ava'
import type { ExecutionContext } from 'ava'
import path from 'node:path'
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads'

import { open, type Durability } from '../ts/index'
import type { CounterWorkerData, CounterWorkerMessage } from './fixtures/counter-worker'
import type { Observation, VisibilityMessage, VisibilityWorkerData, Written } from './fixtures/worker-visibility'
import { announceSeed, chooseSeed } from './helpers/prng'
import { closeAtEnd, tempDbPath } from './helpers/tmp'

const FIXTURES = path.join(__dirname, 'fixtures')
const TS_WORKER_EXEC_ARGV = ['--require', 'tsx/cjs']

/** A worker running a .ts fixture; terminated at the end of the test if still running. */
function startWorker<M>(
  t: ExecutionContext,
  file: string,
  workerData: unknown,
  onMessage: (message: M) => void,
  transferList: TransferListItem[] = [],
): { worker: Worker; exited: Promise<void> } {
  const worker = new Worker(path.join(FIXTURES, file), { workerData, transferList, execArgv: TS_WORKER_EXEC_ARGV })
  let failed: Error | undefined
  worker.on('error', (err) => (failed = err))
  worker.on('message', onMessage)
  const exited = new Promise<void>((resolve, reject) =>
    worker.on('exit', (code) => {
      if (failed) reject(failed)
      else if (code !== 0) reject(new Error(`${file} exited with code ${code}`))
      else resolve()
    }),
  )
  t.teardown(() => worker.terminate())
  return { worker, exited }
}

/** Whether `new Worker(file)` with the inherited execArgv alone runs a .ts file on this Node. */
function plainTsWorkerRuns(): Promise<string> {
  return new Promise((resolve) => {
    const worker = new Worker(path.join(FIXTURES, 'worker-probe.ts'))
    worker.on('message', (m) => resolve(`yes (${String(m)})`))
    worker.on('error', (err) => resolve(`no: ${(err as Error & { code?: string }).code ?? err.message}`))
    worker.on('exit', () => resolve('no: exited without a message'))
  })
}

const WORKERS = 4
const INCREMENTS = 1000
const COUNTERS = 4

test('4 worker threads x 1,000 increment transactions on 4 shared counters lose no increment', async (t) => {
  t.timeout(120_000)
  t.log(`execArgv inherited by workers: ${JSON.stringify(process.execArgv)}; plain new Worker('x.ts') runs: ${await plainTsWorkerRuns()}`)
  const seed = chooseSeed()
  announceSeed(t, seed)
  const dir = tempDbPath(t)
  // The main thread holds the database open too: all five handles share one engine.
  const db = closeAtEnd(t, await open<string, number>(dir, { durability: 'none' }))

  const done: Array<{ aimed: number[]; attempts: number }> = []
  let ready = 0
  const workers: Worker[] = []
  const exits: Promise<void>[] = []
  const allReady = new Promise<void>((resolveReady) => {
    for (let w = 0; w < WORKERS; w++) {
      const data: CounterWorkerData = { dir, counters: COUNTERS, increments: INCREMENTS, lanes: 4, seed: (seed + w * 7919) >>> 0 }
      const { worker, exited } = startWorker<CounterWorkerMessage>(t, 'counter-worker.ts', data, (m) => {
        if (m.type === 'ready' && ++ready === WORKERS) resolveReady()
        if (m.type === 'done') done.push({ aimed: m.aimed, attempts: m.attempts })
      })
      workers.push(worker)
      exits.push(exited)
    }
  })
  // a worker that dies before 'ready' must fail the test rather than hang it
  await Promise.race([allReady, Promise.all(exits).then(() => Promise.reject(new Error('workers exited early')))])
  const started = Date.now()
  for (const worker of workers) worker.postMessage('go')
  await Promise.all(exits)
  const elapsed = Date.now() - started

  t.is(done.length, WORKERS)
  const expected = new Array<number>(COUNTERS).fill(0)
  for (const d of done) d.aimed.forEach((n, i) => (expected[i]! += n))
  const attempts = done.reduce((sum, d) => sum + d.attempts, 0)
  t.log(`${WORKERS * INCREMENTS} increments in ${elapsed} ms; aimed per counter ${JSON.stringify(expected)}; ${attempts - WORKERS * INCREMENTS} retries after conflicts`)

  const counts = Array.from({ length: COUNTERS }, (_, i) => db.get(`counter:${i}`) ?? 0)
  t.deepEqual(counts, expected, 'each counter equals the increments aimed at it')
  t.is(
    counts.reduce((a, b) => a + b, 0),
    WORKERS * INCREMENTS,
  )
  // Every increment is its own version, and the versions count 1, 2, 3, ... with no gap or repeat.
  for (let i = 0; i < COUNTERS; i++) {
    const values = [...db.history(`counter:${i}`)].map((v) => v.value)
    t.deepEqual(
      values,
      Array.from({ length: expected[i]! }, (_, n) => n + 1),
      `history of counter:${i}`,
    )
  }
})

async function checkVisibility(t: ExecutionContext, durability: Durability, rounds: number): Promise<void> {
  const dir = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, { round: number; writer: number }>(dir, { durability }))
  const { port1, port2 } = new MessageChannel()
  const mainSeen: Observation[] = []
  const reports: Array<Extract<VisibilityMessage, { type: 'done' }>> = []
  let ready = 0
  let resolveReady!: () => void
  const allReady = new Promise<void>((resolve) => (resolveReady = resolve))
  const onMessage = (m: VisibilityMessage) => {
    if (m.type === 'ready' && ++ready === 2) resolveReady()
    if (m.type === 'written') {
      // the main thread reads it too, the moment the writer's message arrives
      const w: Written = m.written
      const entry = db.getEntry(w.key)
      const now = db.now()
      const snapshot = db.snapshot()
      const inSnapshot = snapshot.get(w.key)?.round === w.round
      snapshot.close()
      const tx = db.beginTransaction()
      const inTransaction = tx.get(w.key)?.round === w.round
      tx.abort()
      mainSeen.push({ round: w.round, seen: entry && { value: entry.value, ts: entry.ts }, now, ts: w.ts, inTransaction, inSnapshot })
    }
    if (m.type === 'done') reports.push(m)
  }
  const writerData: VisibilityWorkerData = { dir, durability, role: 'writer', rounds, peer: port1 }
  const readerData: VisibilityWorkerData = { dir, durability, role: 'reader', rounds, peer: port2 }
  const writer = startWorker(t, 'worker-visibility.ts', writerData, onMessage, [port1])
  const reader = startWorker(t, 'worker-visibility.ts', readerData, onMessage, [port2])
  await Promise.race([
    allReady,
    Promise.all([writer.exited, reader.exited]).then(() => Promise.reject(new Error('workers exited early'))),
  ])
  writer.worker.postMessage('go')
  reader.worker.postMessage('go')
  await Promise.all([writer.exited, reader.exited])

  const writerThread = reports.find((r) => r.role === 'writer')!.threadId
  const readerObservations = reports.find((r) => r.role === 'reader')!.observations
  for (const [who, observations] of [
    ['the reader thread', readerObservations],
    ['the main thread', mainSeen],
  ] as const) {
    t.is(observations.length, rounds, who)
    const stale = observations.filter(
      (o) =>
        o.seen === undefined ||
        o.seen.ts !== o.ts ||
        JSON.stringify(o.seen.value) !== JSON.stringify({ round: o.round, writer: writerThread }) ||
        o.now < o.ts ||
        !o.inTransaction ||
        !o.inSnapshot,
    )
    t.deepEqual(stale.slice(0, 5), [], `${who} missed ${stale.length} of ${rounds} writes whose put had resolved`)
  }
}

test("a write in one worker is visible in another (and in the main thread) as soon as its put resolves, durability 'none'", async (t) => {
  await checkVisibility(t, 'none', 500)
})

test("a write in one worker is visible in another (and in the main thread) as soon as its put resolves, durability 'sync'", async (t) => {
  await checkVisibility(t, 'sync', 200)
})
