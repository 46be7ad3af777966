// `npm run docs` (TypeDoc over the public entry points, typedoc.json) must pass with no warning:
// typedoc.json treats warnings as errors and validates that every exported item is documented,
// that nothing the public API mentions is left unexported, and that every {@link} resolves.

import test from 'ava'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { tempDir } from './helpers/tmp'

const ROOT = path.join(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('npm run docs builds the API reference without a warning', async (t) => {
  t.timeout(5 * 60_000)
  const out = path.join(tempDir(t, 'chronokv-docs-'), 'api')
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(npm, ['run', 'docs', '--', '--out', out], { cwd: ROOT, timeout: 4 * 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, output: `${stdout}\n${stderr}` })
    })
  })
  const problems = result.output.split('\n').filter((line) => /\[(warning|error)\]/.test(line))
  t.deepEqual(problems, [], 'TypeDoc reported problems')
  t.is(result.code, 0, result.output)
  for (const page of ['index.html', 'functions/open.html', 'classes/Database.html', 'classes/ChangeFeed.html', 'interfaces/LiveChangesOptions.html', 'classes/ConflictError.html']) {
    t.true(fs.existsSync(path.join(out, page)), `${page} is missing from the generated reference`)
  }
  // The doc comments made it in, examples included.
  const database = fs.readFileSync(path.join(out, 'classes', 'Database.html'), 'utf8')
  t.regex(database, /commit-timestamp order/)
})
