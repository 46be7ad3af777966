#!/usr/bin/env node
/**
 * A short tour of chronokv, printed as plain sentences.
 *
 * Run it with `node dist/demo.js [dir]` (default dir: ./demo-data) or `npm run demo`. It writes a
 * document, overwrites it, deletes it, reads it back as of each of those moments, prints its
 * history as a timeline, logs the run and lists the latest runs with a range scan. Running it
 * again reuses the directory: each run adds its own document and run entry, and earlier runs'
 * history stays readable.
 *
 * @packageDocumentation
 */

import { open, type Database, type Timestamp } from './index'

interface Doc {
  kind: 'doc'
  title: string
  body: string
  tags: string[]
}

interface RunLog {
  kind: 'run'
  run: number
  finishedAt: string
}

type Value = Doc | RunLog

const RUNS_PREFIX = 'runs/'

/** A commit timestamp (microseconds) as an ISO-8601 time with microsecond precision. */
function when(ts: Timestamp): string {
  const iso = new Date(Math.floor(ts / 1000)).toISOString() // 2025-01-01T12:00:00.123Z
  return `${iso.slice(0, -1)}${String(ts % 1000).padStart(3, '0')}Z`
}

function describeValue(value: Value | undefined): string {
  if (value === undefined) return 'nothing (the key did not exist)'
  if (value.kind === 'run') return `run #${value.run}`
  return `"${value.title}" tagged [${value.tags.join(', ')}]`
}

function say(sentence: string): void {
  console.log(sentence)
}

function runKey(run: number): string {
  return `${RUNS_PREFIX}${String(run).padStart(4, '0')}`
}

async function tour(db: Database<string, Value>): Promise<void> {
  const earlierRuns = db.getRange({ gte: RUNS_PREFIX, lt: 'runs0' }).asArray.length
  const run = earlierRuns + 1
  say(
    earlierRuns === 0
      ? `Opened a new database in ${db.path}.`
      : `Opened the database in ${db.path}; ${earlierRuns} earlier demo run(s) left data there (newest commit: ${when(db.now())}).`,
  )

  const key = `docs/${String(run).padStart(4, '0')}`
  const t1 = await db.put(key, {
    kind: 'doc',
    title: 'Meeting notes',
    body: 'Agenda: ship the first release.',
    tags: ['draft'],
  })
  say(`Wrote the first version of "${key}" at ${when(t1)}.`)

  const t2 = await db.put(key, {
    kind: 'doc',
    title: 'Meeting notes (final)',
    body: 'Decided: ship the first release on Friday.',
    tags: ['final', 'shared'],
  })
  say(`Overwrote it at ${when(t2)}; a plain get() now returns ${describeValue(db.get(key))}.`)

  const t3 = await db.delete(key)
  say(`Deleted it at ${when(t3)}; a plain get() now returns ${String(db.get(key))}.`)

  say('Reading the same key as of each moment, with get(key, { at }):')
  const moments: Array<[string, Timestamp]> = [
    ['just before the first write', t1 - 1],
    ['at the first write', t1],
    ['at the overwrite', t2],
    ['at the delete', t3],
  ]
  for (const [label, at] of moments) {
    const value = db.get(key, { at })
    say(`  ${label} (${when(at)}) it held ${value === undefined ? 'nothing' : describeValue(value)}.`)
  }

  say(`The history of "${key}", oldest first:`)
  db.history(key).forEach((version, index) => {
    const what = version.deleted ? 'deleted' : index === 0 ? 'created' : 'updated'
    const detail = version.deleted ? '' : ` -> ${describeValue(version.value)}`
    say(`  ${when(version.ts)}  ${what}${detail}`)
  })

  if (earlierRuns > 0) {
    const previousKey = `docs/${String(earlierRuns).padStart(4, '0')}`
    const previous = db.history(previousKey).asArray
    say(
      `The previous run's document "${previousKey}" is deleted, yet its ${previous.length} versions are still in its history.`,
    )
  }

  const logged = await db.put(runKey(run), { kind: 'run', run, finishedAt: new Date().toISOString() })
  say(`Logged this run as "${runKey(run)}" at ${when(logged)}.`)

  say('The latest runs, with getRange({ gte: "runs/", lt: "runs0", reverse: true, limit: 5 }):')
  for (const { key: logKey, value, ts } of db.getRange({
    gte: RUNS_PREFIX,
    lt: 'runs0',
    reverse: true,
    limit: 5,
  })) {
    say(`  ${logKey}: ${describeValue(value)}, written at ${when(ts)}`)
  }

  const stats = db.stats()
  say(`The database now holds ${stats.keys} keys and ${stats.versions} versions.`)
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? './demo-data'
  const db = await open<string, Value>(dir)
  try {
    await tour(db)
  } finally {
    await db.close()
  }
  say('Closed the database cleanly.')
}

main().catch((err: unknown) => {
  const error = err as { code?: string; message?: string }
  console.error(`The demo failed: ${error.code ? `${error.code}: ` : ''}${error.message ?? String(err)}`)
  process.exitCode = 1
})
