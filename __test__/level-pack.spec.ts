import test from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { tempDir } from './helpers/tmp'

// Packs the package, installs the tarball into a fresh project and checks both entry points
// there: `chronokv` and `chronokv/level` load with require() and import, work, and their types
// resolve under TypeScript's node16 and node10 module resolution.

const ROOT = path.join(__dirname, '..')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface Result {
  code: number
  output: string
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const env = { ...process.env, npm_config_update_notifier: 'false' }
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, output: `${stdout}${stderr}${err !== null && stderr === '' ? err.message : ''}` })
    })
  })
}

const CONSUMER_CJS = `
const assert = require('node:assert')
const { open } = require('chronokv')
const { ChronoLevel } = require('chronokv/level')
;(async () => {
  assert.strictEqual(typeof open, 'function')
  const db = new ChronoLevel(process.argv[2], { valueEncoding: 'json' })
  await db.put('k', { v: 1 })
  const before = db.chronokv.now()
  await db.put('k', { v: 2 })
  assert.deepStrictEqual(await db.get('k', { at: before }), { v: 1 })
  assert.deepStrictEqual(await db.get('k'), { v: 2 })
  await db.close()
  console.log('cjs ok')
})().catch((err) => { console.error(err); process.exit(1) })
`

const CONSUMER_ESM = `
import { open } from 'chronokv'
import { ChronoLevel } from 'chronokv/level'
if (typeof open !== 'function' || typeof ChronoLevel !== 'function') throw new Error('missing exports')
console.log('esm ok')
`

const CONSUMER_TS = `
import { open, type Database, type Timestamp } from 'chronokv'
import { ChronoLevel, type ChronoLevelOptions, type LevelVersion } from 'chronokv/level'

export async function use(): Promise<void> {
  const db: Database<string, { v: number }> = await open<string, { v: number }>('./data')
  const options: ChronoLevelOptions<string, { v: number }> = { valueEncoding: 'json', durability: 'none' }
  const level = new ChronoLevel<string, { v: number }>('./level', options)
  const ts: Timestamp = level.chronokv.now()
  const value: { v: number } | undefined = await level.get('k', { at: ts })
  const versions: Array<LevelVersion<string, { v: number }>> = await level.history('k')
  const sub = level.sublevel<string, number>('counts', { valueEncoding: 'json' })
  const count: number | undefined = await sub.get('k', { at: ts })
  const subVersions: Array<LevelVersion<string, number>> = await sub.history('k')
  void count
  void subVersions
  // @ts-expect-error 'at' takes a timestamp or a Date
  await level.get('k', { at: 'yesterday' })
  void value
  void versions
  await db.close()
}
`

test('the packed tarball exposes chronokv and chronokv/level to require, import and TypeScript', async (t) => {
  t.timeout(10 * 60_000)
  const packDir = tempDir(t, 'chronokv-level-pack-')
  const projectDir = tempDir(t, 'chronokv-level-consumer-')
  const dataDir = path.join(tempDir(t, 'chronokv-level-data-'), 'db')

  const pack = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', packDir], ROOT, 5 * 60_000)
  t.is(pack.code, 0, `npm pack failed:\n${pack.output}`)
  const tarballs = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'))
  t.is(tarballs.length, 1, `expected one tarball in ${packDir}`)
  if (pack.code !== 0 || tarballs.length !== 1) return

  // The main package carries no binary: pack the platform package with the built one, as
  // pack.spec.ts does, and install both.
  const platformDir = tempDir(t, 'chronokv-level-platform-')
  fs.cpSync(path.join(ROOT, 'npm', 'linux-x64-gnu'), platformDir, { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'native', 'chronokv.linux-x64-gnu.node'), path.join(platformDir, 'chronokv.linux-x64-gnu.node'))
  const platformPackDir = tempDir(t, 'chronokv-level-platform-pack-')
  const platformPack = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', platformPackDir], platformDir, 5 * 60_000)
  t.is(platformPack.code, 0, `npm pack of the platform package failed:\n${platformPack.output}`)
  const platformTarballs = fs.readdirSync(platformPackDir).filter((f) => f.endsWith('.tgz'))
  if (platformPack.code !== 0 || platformTarballs.length !== 1) return

  fs.writeFileSync(path.join(projectDir, 'package.json'), JSON.stringify({ name: 'level-consumer', version: '1.0.0', private: true }))
  const tarballPaths = [path.join(packDir, tarballs[0]!), path.join(platformPackDir, platformTarballs[0]!)]
  const install = await run(npm, ['install', ...tarballPaths, '--no-audit', '--no-fund'], projectDir, 5 * 60_000)
  t.is(install.code, 0, `npm install of the tarball failed:\n${install.output}`)
  if (install.code !== 0) return
  const installed = path.join(projectDir, 'node_modules', 'chronokv')
  t.true(fs.existsSync(path.join(installed, 'dist', 'level', 'index.js')), 'dist/level/index.js is not in the package')
  t.true(fs.existsSync(path.join(installed, 'dist', 'level', 'index.d.ts')), 'dist/level/index.d.ts is not in the package')

  fs.writeFileSync(path.join(projectDir, 'use.cjs'), CONSUMER_CJS)
  const cjs = await run(process.execPath, ['use.cjs', dataDir], projectDir, 60_000)
  t.is(cjs.code, 0, `require() from the installed package failed:\n${cjs.output}`)
  t.regex(cjs.output, /cjs ok/)

  fs.writeFileSync(path.join(projectDir, 'use.mjs'), CONSUMER_ESM)
  const esm = await run(process.execPath, ['use.mjs'], projectDir, 60_000)
  t.is(esm.code, 0, `import from the installed package failed:\n${esm.output}`)
  t.regex(esm.output, /esm ok/)

  fs.writeFileSync(path.join(projectDir, 'use.ts'), CONSUMER_TS)
  for (const resolution of ['node16', 'node10'] as const) {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: resolution === 'node16' ? 'node16' : 'commonjs',
        moduleResolution: resolution,
        strict: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        // As most consumers do. (Without it, native/index.d.ts, generated by napi-rs, fails on
        // its undeclared 'Handle' in ExternalObject<Handle>, with or without chronokv/level.)
        skipLibCheck: true,
      },
      files: ['use.ts'],
    }
    const config = path.join(projectDir, `tsconfig.${resolution}.json`)
    fs.writeFileSync(config, JSON.stringify(tsconfig, null, 2))
    const tsc = await run(process.execPath, [TSC, '-p', config], projectDir, 2 * 60_000)
    t.is(tsc.code, 0, `TypeScript (${resolution} resolution) could not type the installed package:\n${tsc.output}`)
  }
})
