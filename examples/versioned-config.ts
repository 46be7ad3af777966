/**
 * Versioned configuration.
 *
 * Settings live under `config/<service>/<name>`. A release writes its settings in one atomic
 * batch, so every release is one commit timestamp: reading the config "as of release 2" is a
 * range read at that timestamp, a diff between releases compares two such reads, and a rollback
 * writes the old values back as a new release (history is never rewritten). history() shows how
 * one setting evolved.
 *
 * Run: npx tsx examples/versioned-config.ts [dir]   (default ./example-data/versioned-config)
 */

import { open, type BatchOp, type Database, type Timestamp } from 'chronokv'

type Setting = string | number | boolean

const PREFIX = 'config/'
const END = 'config0' // the first key after every 'config/...' key

/** The whole configuration as of `at`: setting name -> value. */
function configAt(db: Database<string, Setting>, at: Timestamp): Map<string, Setting> {
  const config = new Map<string, Setting>()
  for (const { key, value } of db.getRange({ gte: PREFIX, lt: END, at })) config.set(key.slice(PREFIX.length), value)
  return config
}

/** One release: the changed settings (undefined removes a setting), committed atomically. */
async function release(db: Database<string, Setting>, changes: Record<string, Setting | undefined>): Promise<Timestamp> {
  const ops: Array<BatchOp<string, Setting>> = Object.entries(changes).map(([name, value]) =>
    value === undefined ? { type: 'del', key: PREFIX + name } : { type: 'put', key: PREFIX + name, value },
  )
  return db.batch(ops)
}

function diff(before: Map<string, Setting>, after: Map<string, Setting>): string[] {
  const lines: string[] = []
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const [a, b] = [before.get(name), after.get(name)]
    if (a === undefined) lines.push(`+ ${name} = ${JSON.stringify(b)}`)
    else if (b === undefined) lines.push(`- ${name} (was ${JSON.stringify(a)})`)
    else if (a !== b) lines.push(`~ ${name}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`)
  }
  return lines.sort()
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? './example-data/versioned-config'
  const db = await open<string, Setting>(dir)

  const releases: Timestamp[] = []
  releases.push(
    await release(db, {
      'api/timeoutMs': 30_000,
      'api/retries': 3,
      'web/theme': 'light',
      'web/betaSearch': false,
    }),
  )
  releases.push(await release(db, { 'api/timeoutMs': 5_000, 'web/betaSearch': true, 'web/banner': 'New search!' }))
  releases.push(await release(db, { 'api/retries': 0, 'web/banner': undefined }))

  for (const [i, ts] of releases.entries()) {
    const config = configAt(db, ts)
    console.log(`release ${i + 1}: ${config.size} settings`)
    for (const [name, value] of config) console.log(`  ${name} = ${JSON.stringify(value)}`)
  }
  console.log('diff release 1 -> release 3:')
  for (const line of diff(configAt(db, releases[0]!), configAt(db, releases[2]!))) console.log(`  ${line}`)

  // Release 3 broke the API: roll the api/ settings back to release 1, as a new release.
  const good = configAt(db, releases[0]!)
  const current = configAt(db, db.now())
  const rollback: Record<string, Setting | undefined> = {}
  for (const name of new Set([...good.keys(), ...current.keys()])) {
    if (name.startsWith('api/') && good.get(name) !== current.get(name)) rollback[name] = good.get(name)
  }
  releases.push(await release(db, rollback))
  console.log(`release 4 rolls back ${Object.keys(rollback).length} api settings: ${Object.keys(rollback).sort().join(', ')}`)
  console.log(`now: api/timeoutMs = ${db.get('config/api/timeoutMs')}, api/retries = ${db.get('config/api/retries')}, web/betaSearch = ${db.get('config/web/betaSearch')}`)

  const timeline = db.history('config/api/timeoutMs', { since: releases[0]! }).asArray
  console.log(`api/timeoutMs has ${timeline.length} versions since release 1:`)
  for (const v of timeline) console.log(`  release ${releases.indexOf(v.ts) + 1}: ${v.deleted ? 'removed' : v.value}`)
  await db.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
