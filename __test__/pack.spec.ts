// The packages as users get them: the main package `chronokv` (TypeScript facade and the
// generated loader, no binary) and the per-platform package that carries the prebuilt binary
// (napi-rs layout: npm/<platform>/, named `${napi.packageName}-<platform>`).
//
// The main package.json in the repository lists no optionalDependencies: `napi pre-publish`
// adds one per target at publish time (an optional dependency that is not on the registry yet
// would make `npm ci` in a clean clone fail with "Missing: ... from lock file"). This test builds
// the same shape by hand: it packs the main package, adds the optionalDependencies exactly as
// pre-publish computes them (`${packageName}-${platformArchABI}`: version), packs the platform
// package with the binary built from this checkout, installs both into a fresh project with
// every Rust tool off PATH and a HOME without ~/.cargo, and proves the binary was loaded from
// the platform package.

import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { tempDir } from './helpers/tmp'

const ROOT = path.join(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const RUST_TOOLS = ['cargo', 'rustc', 'rustup']

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr })
    })
  })
}

/** Runs `npm pack` in `dir` into `destination`; returns the tarball's path and its file list. */
async function pack(t: ExecutionContext, dir: string, destination: string): Promise<{ tarball: string; files: string[] }> {
  const result = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', destination, '--json'], dir, 5 * 60_000)
  if (result.code !== 0) throw new Error(`npm pack in ${dir} failed:\n${result.stderr}`)
  const [info] = JSON.parse(result.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  const tarball = path.join(destination, info!.filename.replace(/^@/, '').replace(/\//g, '-'))
  if (!fs.existsSync(tarball)) throw new Error(`npm pack reported ${info!.filename} but ${tarball} does not exist`)
  t.log(`${path.basename(tarball)}: ${info!.files.length} files`)
  return { tarball, files: info!.files.map((f) => f.path) }
}

/** process.env without any Rust toolchain: PATH entries holding cargo/rustc/rustup dropped, HOME moved. */
function envWithoutRust(home: string, npmCache: string, npmUserConfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of ['CARGO_HOME', 'RUSTUP_HOME', 'CARGO', 'RUSTC', 'RUSTUP_TOOLCHAIN', 'NAPI_RS_NATIVE_LIBRARY_PATH']) delete env[name]
  const pathDirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => {
    if (dir === '' || dir.includes('.cargo') || dir.includes('.rustup')) return false
    return !RUST_TOOLS.some((tool) => fs.existsSync(path.join(dir, tool)))
  })
  env.PATH = pathDirs.join(path.delimiter)
  env.HOME = home
  // Keep npm's cache and user config (registry settings) although HOME moved.
  env.npm_config_cache = npmCache
  env.npm_config_userconfig = npmUserConfig
  // The loader then refuses a platform package whose version differs from the main package's.
  env.NAPI_RS_ENFORCE_VERSION_CHECK = '1'
  return env
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f))
}

// What the consumer runs: an ES module importing chronokv the way the README shows, reporting
// which .node file the process loaded (require.cache and the process's shared objects).
const PROBE = `
import { createRequire } from 'node:module'
import { open } from 'chronokv'

const db = await open(process.argv[2], { durability: 'none' })
const first = await db.put('greeting', { text: 'hello' })
await db.put('greeting', { text: 'hello again' })
const result = {
  asOfFirst: db.get('greeting', { at: first }),
  now: db.get('greeting'),
  versions: db.history('greeting').asArray.length,
  cached: Object.keys(createRequire(import.meta.url).cache).filter((f) => f.endsWith('.node')),
  sharedObjects: process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node')),
}
await db.close()
console.log(JSON.stringify(result))
`

test('the main and the platform package install from tarballs without Rust and load the prebuilt binary from the platform package', async (t) => {
  t.timeout(10 * 60_000)
  const { readNapiConfig, parseTriple } = require('@napi-rs/cli') as typeof import('@napi-rs/cli')
  const config = await readNapiConfig(path.join(ROOT, 'package.json'))
  const version = config.packageJson.version as string
  const target = config.targets.find((tg) => tg.platform === process.platform && tg.arch === process.arch && (tg.abi === 'gnu' || tg.abi === null))
  if (target === undefined) {
    t.log(`napi.targets (${config.targets.map((tg) => tg.triple).join(', ')}) has no package for ${process.platform}-${process.arch}: nothing to pack here`)
    t.pass()
    return
  }
  t.is(parseTriple(target.triple).platformArchABI, target.platformArchABI)
  const platformName = `${config.packageName}-${target.platformArchABI}`
  const binaryFile = `${config.binaryName}.${target.platformArchABI}.node`

  // The committed pieces agree on the platform package's name.
  const platformManifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', target.platformArchABI, 'package.json'), 'utf8'))
  t.is(platformManifest.name, platformName, 'npm/<platform>/package.json is not named after napi.packageName')
  t.is(platformManifest.version, version, 'the platform package version differs from the main package version')
  t.is(platformManifest.main, binaryFile)
  t.true(fs.readFileSync(path.join(ROOT, 'native', 'index.js'), 'utf8').includes(`require('${platformName}')`), `native/index.js does not load ${platformName}`)

  const binary = path.join(ROOT, 'native', binaryFile)
  t.true(fs.existsSync(binary), `${binary} is missing: build the binding first`)
  if (!fs.existsSync(binary)) return

  const stage = tempDir(t, 'chronokv-pack-')
  const tarballs = path.join(stage, 'tarballs')
  fs.mkdirSync(tarballs)

  // 1. The main package as `npm pack` makes it from this checkout: no binary in it.
  const raw = await pack(t, ROOT, stage)
  t.true(raw.files.includes('dist/index.js') && raw.files.includes('dist/demo.js') && raw.files.includes('native/index.js'), `files missing from the main package: ${raw.files.join(', ')}`)
  t.deepEqual(raw.files.filter((f) => f.endsWith('.node')), [], 'the main package must not carry a .node binary')
  t.true(raw.files.includes('dist/cli/main.js'), 'dist/cli/main.js (the chronokv command) is not in the main package')

  // 2. What `napi pre-publish` publishes: the same files, plus one optional dependency per target.
  const unpacked = path.join(stage, 'main')
  fs.mkdirSync(unpacked)
  const untar = await run('tar', ['-xzf', raw.tarball, '-C', unpacked, '--strip-components=1'], stage, 60_000)
  t.is(untar.code, 0, untar.stderr)
  const mainManifestPath = path.join(unpacked, 'package.json')
  const mainManifest = JSON.parse(fs.readFileSync(mainManifestPath, 'utf8'))
  t.is(mainManifest.optionalDependencies, undefined, 'package.json lists optionalDependencies: napi pre-publish adds them at publish time')
  mainManifest.optionalDependencies = Object.fromEntries(config.targets.map((tg) => [`${config.packageName}-${tg.platformArchABI}`, version]))
  fs.writeFileSync(mainManifestPath, JSON.stringify(mainManifest, null, 2))
  const main = await pack(t, unpacked, tarballs)

  // 3. The platform package: npm/<platform>/ plus the binary, as `napi artifacts` fills it.
  const platformDir = path.join(stage, 'platform')
  fs.cpSync(path.join(ROOT, 'npm', target.platformArchABI), platformDir, { recursive: true })
  fs.copyFileSync(binary, path.join(platformDir, binaryFile))
  const platform = await pack(t, platformDir, tarballs)
  t.true(platform.files.includes(binaryFile), `${binaryFile} is not in the platform package: ${platform.files.join(', ')}`)

  // 4. A fresh project, a HOME without ~/.cargo and no Rust tool on PATH.
  const home = tempDir(t, 'chronokv-home-')
  const npmCache = (await run(npm, ['config', 'get', 'cache'], ROOT, 60_000)).stdout.trim()
  const npmUserConfig = (await run(npm, ['config', 'get', 'userconfig'], ROOT, 60_000)).stdout.trim()
  const env = envWithoutRust(home, npmCache, npmUserConfig)
  const which = await run('sh', ['-c', `for tool in ${RUST_TOOLS.join(' ')}; do command -v "$tool"; done; exit 0`], stage, 60_000, env)
  t.is(which.stdout.trim(), '', `Rust tools still reachable: ${which.stdout}`)
  t.false(fs.existsSync(path.join(home, '.cargo')))

  const project = tempDir(t, 'chronokv-consumer-')
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'chronokv-consumer', version: '1.0.0', private: true }, null, 2))
  const install = await run(npm, ['install', main.tarball, platform.tarball, '--no-audit', '--no-fund'], project, 5 * 60_000, env)
  t.is(install.code, 0, `npm install of the tarballs failed:\n${install.stdout}\n${install.stderr}`)
  if (install.code !== 0) return

  const installedMain = path.join(project, 'node_modules', 'chronokv')
  const installedPlatform = path.join(project, 'node_modules', ...platformName.split('/'))
  t.deepEqual(listFiles(installedMain).filter((f) => f.endsWith('.node')), [], 'node_modules/chronokv holds a .node binary')
  t.true(fs.existsSync(path.join(installedPlatform, binaryFile)), `${platformName} was not installed with ${binaryFile}`)

  // 5. The binary the process loads is the platform package's.
  fs.writeFileSync(path.join(project, 'probe.mjs'), PROBE)
  const probe = await run(process.execPath, ['probe.mjs', path.join(project, 'db')], project, 2 * 60_000, env)
  t.is(probe.code, 0, `the probe failed:\n${probe.stdout}\n${probe.stderr}`)
  if (probe.code !== 0) return
  const seen = JSON.parse(probe.stdout.trim().split('\n').pop()!) as {
    asOfFirst: unknown
    now: unknown
    versions: number
    cached: string[]
    sharedObjects: string[]
  }
  t.log(`loaded: ${seen.cached.join(', ')}`)
  t.deepEqual(seen.asOfFirst, { text: 'hello' })
  t.deepEqual(seen.now, { text: 'hello again' })
  t.is(seen.versions, 2)
  const expected = fs.realpathSync(path.join(installedPlatform, binaryFile))
  t.deepEqual(seen.cached.map((f) => fs.realpathSync(f)), [expected], 'require.cache does not show the platform package binary as the one loaded')
  t.true(seen.sharedObjects.some((f) => fs.realpathSync(f) === expected), `the process did not map ${expected}: ${seen.sharedObjects.join(', ')}`)

  // 6. The demo the package ships as a bin runs too.
  const demo = await run(process.execPath, [path.join(installedMain, 'dist', 'demo.js'), path.join(project, 'demo-data')], project, 2 * 60_000, env)
  t.log(demo.stdout.trim().split('\n').slice(0, 12).join('\n'))
  t.is(demo.code, 0, `the demo failed:\n${demo.stdout}\n${demo.stderr}`)
  t.regex(demo.stdout, /history/i, 'the demo output does not mention history')

  // 7. The chronokv command is installed as a bin and reads the demo's database.
  const bin = path.join(project, 'node_modules', '.bin', 'chronokv')
  const stats = await run(bin, ['stats', path.join(project, 'demo-data'), '--json'], project, 60_000, env)
  t.is(stats.code, 0, `chronokv stats failed:\n${stats.stdout}\n${stats.stderr}`)
  t.true((JSON.parse(stats.stdout || '{}') as { versions?: number }).versions! > 0, stats.stdout)
})
