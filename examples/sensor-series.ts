/**
 * A sensor time series with windowed queries.
 *
 * Four sensors report every round; each round is one atomic batch, so its readings share one
 * commit timestamp. Each sensor's key holds its latest reading and its history holds all of
 * them, so:
 * - changes({ since, until }) lists every reading in a time window (the key x time rectangle);
 * - history(key, { since, until }) gives one sensor's readings in a window (min / mean / max);
 * - getRange({ at }) shows what every sensor read at one moment;
 * - a sensor taken offline is a delete: gone now, still there in the past.
 *
 * Run: npx tsx examples/sensor-series.ts [dir]   (default ./example-data/sensor-series)
 */

import { open, type BatchOp, type Timestamp } from 'chronokv'

interface Reading {
  celsius: number
  round: number
}

const SENSORS = ['sensor/hall', 'sensor/lab', 'sensor/roof', 'sensor/vault']
const ROUNDS = 12
const WINDOW = 3 // rounds per tumbling window

/** A made-up but repeatable temperature: each sensor has its own base and a daily-ish swing. */
function temperature(sensor: number, round: number): number {
  return Math.round((15 + sensor * 4 + 6 * Math.sin((round / ROUNDS) * 2 * Math.PI)) * 10) / 10
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? './example-data/sensor-series'
  const db = await open<string, Reading>(dir, { durability: 'none' }) // readings are cheap to lose

  const rounds: Timestamp[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const active = round >= 9 ? SENSORS.filter((s) => s !== 'sensor/roof') : SENSORS
    const ops: Array<BatchOp<string, Reading>> = active.map((key) => ({
      type: 'put',
      key,
      value: { celsius: temperature(SENSORS.indexOf(key), round), round },
    }))
    if (round === 9) ops.push({ type: 'del', key: 'sensor/roof' }) // taken offline
    rounds.push(await db.batch(ops))
  }
  const end = db.now() + 1
  console.log(`${ROUNDS} rounds written, ${db.changes({ gte: 'sensor/', lt: 'sensor0', since: rounds[0]!, until: end }).asArray.length} versions.`)

  console.log(`Tumbling windows of ${WINDOW} rounds (readings per window):`)
  for (let w = 0; w < ROUNDS; w += WINDOW) {
    const until = w + WINDOW < ROUNDS ? rounds[w + WINDOW]! : end
    const inWindow = db.changes({ gte: 'sensor/', lt: 'sensor0', since: rounds[w]!, until }).asArray
    const readings = inWindow.filter((v) => !v.deleted).length
    const offline = inWindow.filter((v) => v.deleted).map((v) => v.key)
    console.log(`  rounds ${w}-${w + WINDOW - 1}: ${readings} readings${offline.length > 0 ? `, offline: ${offline.join(', ')}` : ''}`)
  }

  console.log('Per sensor, rounds 3-8:')
  for (const key of SENSORS) {
    const values = db
      .history(key, { since: rounds[3]!, until: rounds[9]! })
      .asArray.flatMap((v) => (v.deleted ? [] : [v.value.celsius]))
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    console.log(`  ${key}: ${values.length} readings, min ${Math.min(...values)} / mean ${mean.toFixed(2)} / max ${Math.max(...values)}`)
  }

  const atRound5 = db.getRange({ gte: 'sensor/', lt: 'sensor0', at: rounds[5]! }).asArray
  console.log(`At round 5, ${atRound5.length} sensors read: ${atRound5.map((e) => `${e.key.slice(7)}=${e.value.celsius}`).join(', ')}`)
  const nowLive = db.getRange({ gte: 'sensor/', lt: 'sensor0' }).asArray
  console.log(`Now, ${nowLive.length} sensors report: ${nowLive.map((e) => e.key.slice(7)).join(', ')}`)
  const roofNow = db.get('sensor/roof')
  console.log(`sensor/roof now: ${roofNow === undefined ? 'offline' : `${roofNow.celsius} C`}; at round 8: ${db.get('sensor/roof', { at: rounds[8]! })?.celsius} C`)
  await db.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
