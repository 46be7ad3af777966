/**
 * An audit log that follows the database.
 *
 * An app keeps bank-style accounts under `account/<id>`. It never writes audit records: every
 * committed write already is one. An auditor follows the live change feed and prints one line per
 * change, the versions of one transaction together under one commit. It stops, the app goes on,
 * and a second auditor resumes from the saved position: it prints exactly the changes the first
 * one missed. Finally, history() answers "who changed this account, and what was it before?".
 *
 * Run: npx tsx examples/audit-log.ts [dir]   (default ./example-data/audit-log)
 */

import { open, type ChangeFeed, type Database, type Timestamp } from 'chronokv'

interface Account {
  owner: string
  balance: number
  changedBy: string
}

/** A commit timestamp as an ISO time with microseconds. */
function when(ts: Timestamp): string {
  const iso = new Date(Math.floor(ts / 1000)).toISOString()
  return `${iso.slice(0, -1)}${String(ts % 1000).padStart(3, '0')}Z`
}

/** Prints what the feed hands out until it has caught up with `upTo`; returns how many lines. */
async function audit(name: string, feed: ChangeFeed<string, Account>, upTo: Timestamp): Promise<number> {
  let lines = 0
  let commit = -1
  for await (const v of feed) {
    if (v.ts !== commit) {
      commit = v.ts
      console.log(`  [${name}] commit ${when(v.ts)}`)
    }
    const what = v.deleted ? 'closed' : `${v.value.owner}: balance ${v.value.balance} (by ${v.value.changedBy})`
    console.log(`  [${name}]   ${v.key} ${what}`)
    lines++
    if (feed.position > upTo) break // everything up to upTo is handed out: stop following
  }
  return lines
}

async function transfer(db: Database<string, Account>, from: string, to: string, amount: number, by: string): Promise<void> {
  await db.transaction(async (tx) => {
    const a = tx.get(from)!
    const b = tx.get(to)!
    if (a.balance < amount) throw new Error(`${from} cannot pay ${amount}`)
    tx.put(from, { ...a, balance: a.balance - amount, changedBy: by })
    tx.put(to, { ...b, balance: b.balance + amount, changedBy: by })
  })
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? './example-data/audit-log'
  const db = await open<string, Account>(dir)
  const start = db.now() + 1 // this run's changes only (the directory may hold earlier runs)

  // The app at work.
  await db.put('account/alice', { owner: 'Alice', balance: 100, changedBy: 'signup' })
  await db.put('account/bob', { owner: 'Bob', balance: 20, changedBy: 'signup' })
  await transfer(db, 'account/alice', 'account/bob', 30, 'alice')
  const firstPart = db.now()

  console.log('Auditor 1 follows the change feed:')
  const first = db.changes({ live: true, since: start, gte: 'account/', lt: 'account0' })
  const firstLines = await audit('auditor 1', first, firstPart)
  const saved = first.position // what an auditor would persist before stopping
  console.log(`Auditor 1 stopped after ${firstLines} changes; saved position ${saved}.`)

  // The app goes on while nobody is auditing.
  await db.put('account/carol', { owner: 'Carol', balance: 5, changedBy: 'signup' })
  await transfer(db, 'account/bob', 'account/carol', 15, 'bob')
  await db.delete('account/alice')
  const secondPart = db.now()

  console.log('Auditor 2 resumes from the saved position:')
  const second = db.changes({ live: true, since: saved, gte: 'account/', lt: 'account0' })
  const secondLines = await audit('auditor 2', second, secondPart)
  console.log(`Auditor 2 caught up with ${secondLines} changes.`)

  // Who changed Bob's account, and what did it hold before?
  const trail = db.history('account/bob', { since: start }).asArray
  console.log(`account/bob has ${trail.length} versions in this run:`)
  for (const v of trail) {
    console.log(`  ${when(v.ts)} ${v.deleted ? 'closed' : `balance ${v.value.balance} by ${v.value.changedBy}`}`)
  }
  const alice = db.getEntry('account/alice', { at: secondPart - 1 })
  console.log(`account/alice is ${db.get('account/alice') === undefined ? 'closed' : 'open'}; just before it was closed its balance was ${alice?.value.balance}.`)
  await db.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
