// The programs in examples/ run as users would run them (`tsx examples/<name>.ts <dir>`, where
// 'chronokv' resolves through tsconfig.json's paths to ts/), each in its own process on a fresh
// directory, and print what they claim: values from the past, history lengths, window counts.

import test from 'ava'
import { execFile } from 'node:child_process'
import path from 'node:path'

import { tempDir } from './helpers/tmp'

const ROOT = path.join(__dirname, '..')

function runExample(name: string, dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join('examples', `${name}.ts`), dir], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: unknown }).code as number) ?? 1 : 0, stdout, stderr })
    })
  })
}

async function output(t: import('ava').ExecutionContext, name: string): Promise<string[]> {
  const result = await runExample(name, path.join(tempDir(t, `chronokv-example-${name}-`), 'db'))
  t.log(result.stdout.trim())
  t.is(result.code, 0, `examples/${name}.ts failed:\n${result.stderr}`)
  return result.stdout.split('\n').map((line) => line.trim())
}

test('audit-log: a resumed auditor prints exactly the changes the first one missed', async (t) => {
  const lines = await output(t, 'audit-log')
  const by = (who: string) => lines.filter((l) => l.startsWith(`[${who}]   `)).map((l) => l.slice(`[${who}]   `.length))
  t.deepEqual(by('auditor 1'), [
    'account/alice Alice: balance 100 (by signup)',
    'account/bob Bob: balance 20 (by signup)',
    'account/alice Alice: balance 70 (by alice)',
    'account/bob Bob: balance 50 (by alice)',
  ])
  t.deepEqual(by('auditor 2'), [
    'account/carol Carol: balance 5 (by signup)',
    'account/bob Bob: balance 35 (by bob)',
    'account/carol Carol: balance 20 (by bob)',
    'account/alice closed',
  ])
  // One commit line per commit: the transfer's two versions share one.
  t.is(lines.filter((l) => l.startsWith('[auditor 1] commit')).length, 3)
  t.is(lines.filter((l) => l.startsWith('[auditor 2] commit')).length, 3)
  t.true(lines.includes('account/bob has 3 versions in this run:'))
  t.true(lines.includes('account/alice is closed; just before it was closed its balance was 70.'))
})

test('versioned-config: reads as of each release, a diff, a rollback and a setting history', async (t) => {
  const lines = await output(t, 'versioned-config')
  for (const expected of [
    'release 1: 4 settings',
    'release 2: 5 settings',
    'release 3: 4 settings',
    '~ api/retries: 3 -> 0',
    '~ api/timeoutMs: 30000 -> 5000',
    '~ web/betaSearch: false -> true',
    'release 4 rolls back 2 api settings: api/retries, api/timeoutMs',
    'now: api/timeoutMs = 30000, api/retries = 3, web/betaSearch = true',
    'api/timeoutMs has 3 versions since release 1:',
    'release 2: 5000',
    'release 4: 30000',
  ]) {
    t.true(lines.includes(expected), `missing line: ${expected}`)
  }
  const release2 = lines.indexOf('release 2: 5 settings')
  t.true(lines.slice(release2, release2 + 6).includes('web/banner = "New search!"'))
  t.false(lines.slice(lines.indexOf('release 3: 4 settings')).some((l) => l.startsWith('web/banner')), 'release 3 removed the banner')
})

test('sensor-series: window counts, per-window statistics and readings as of a past round', async (t) => {
  const lines = await output(t, 'sensor-series')
  for (const expected of [
    '12 rounds written, 46 versions.',
    'rounds 0-2: 12 readings',
    'rounds 3-5: 12 readings',
    'rounds 6-8: 12 readings',
    'rounds 9-11: 9 readings, offline: sensor/roof',
    'sensor/hall: 6 readings, min 9.8 / mean 16.00 / max 21',
    'sensor/vault: 6 readings, min 21.8 / mean 28.00 / max 33',
    'At round 5, 4 sensors read: hall=18, lab=22, roof=26, vault=30',
    'Now, 3 sensors report: hall, lab, vault',
    'sensor/roof now: offline; at round 8: 17.8 C',
  ]) {
    t.true(lines.includes(expected), `missing line: ${expected}`)
  }
})
