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
  // Two entry points (typedoc.json): each page is named after its module, `index.` (chronokv)
  // or `level.` (chronokv/level).
  const pages = ['index.html', 'functions/index.open.html', 'classes/index.Database.html', 'classes/index.ChangeFeed.html', 'interfaces/index.LiveChangesOptions.html', 'classes/index.ConflictError.html', 'classes/level.ChronoLevel.html']
  for (const page of pages) {
    t.true(fs.existsSync(path.join(out, page)), `${page} is missing from the generated reference`)
  }
  // The doc comments made it in, examples included.
  const database = fs.readFileSync(path.join(out, 'classes', 'index.Database.html'), 'utf8')
  t.regex(database, /commit-timestamp order/)
})
