import test from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { tempDir } from './helpers/tmp'

const ROOT = path.join(__dirname, '..')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr })
    })
  })
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('the packed tarball installs into a fresh project and its demo runs', async (t) => {
  t.timeout(10 * 60_000)
  const packDir = tempDir(t, 'chronokv-pack-')
  const projectDir = tempDir(t, 'chronokv-consumer-')
  const dataDir = path.join(tempDir(t, 'chronokv-demo-data-'), 'data')

  const pack = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', packDir, '--json'], ROOT, 5 * 60_000)
  t.is(pack.code, 0, `npm pack failed:\n${pack.stderr}`)
  if (pack.code !== 0) return
  const tarballs = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'))
  t.is(tarballs.length, 1, `expected one tarball in ${packDir}: ${tarballs.join(', ')}`)
  if (tarballs.length !== 1) return
  const tarball = path.join(packDir, tarballs[0]!)
  try {
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    t.log(`${tarballs[0]}: ${files.length} files`)
    t.true(files.includes('dist/demo.js'), `dist/demo.js is not in the package: ${files.join(', ')}`)
    t.true(files.includes('dist/cli/main.js'), `dist/cli/main.js (the chronokv command) is not in the package`)
  } catch (err) {
    t.log(`could not read the file list from npm pack --json: ${String(err)}`)
  }

  fs.writeFileSync(path.join(projectDir, 'package.json'), JSON.stringify({ name: 'chronokv-consumer', version: '1.0.0', private: true }, null, 2))
  const install = await run(npm, ['install', tarball, '--no-audit', '--no-fund'], projectDir, 5 * 60_000)
  t.is(install.code, 0, `npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`)
  if (install.code !== 0) return

  const demo = path.join(projectDir, 'node_modules', 'chronokv', 'dist', 'demo.js')
  t.true(fs.existsSync(demo), 'node_modules/chronokv/dist/demo.js is missing after install')
  const result = await run(process.execPath, [demo, dataDir], projectDir, 2 * 60_000)
  t.log(result.stdout.trim().split('\n').slice(0, 20).join('\n'))
  t.is(result.code, 0, `the demo failed:\n${result.stdout}\n${result.stderr}`)
  t.regex(result.stdout, /history/i, 'the demo output does not mention history')

  // The chronokv command is installed as a bin and reads the demo's database.
  const bin = path.join(projectDir, 'node_modules', '.bin', 'chronokv')
  const stats = await run(bin, ['stats', dataDir, '--json'], projectDir, 60_000)
  t.is(stats.code, 0, `chronokv stats failed:\n${stats.stdout}\n${stats.stderr}`)
  t.true((JSON.parse(stats.stdout || '{}') as { versions?: number }).versions! > 0, stats.stdout)
})
