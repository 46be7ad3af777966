import test from 'ava'
import type { ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { open, type Database } from '../ts/index'
import { tempDbPath, tempDir, walFiles } from './helpers/tmp'

// The CLI runs as a subprocess from the compiled facade (dist/), as an installed `chronokv`
// does: `npm run test:js` compiles it first.
const ROOT = path.join(__dirname, '..')
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `chronokv ...args` with pipes for stdin, stdout and stderr (so not on a terminal). */
function cli(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input ?? '')
  })
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

/**
 * Runs `chronokv ...args` under a pseudo-terminal (util-linux `script`), as in an interactive
 * shell: stdin, stdout and stderr are the terminal. Returns everything the terminal showed.
 */
function cliOnTerminal(args: string[]): Promise<Result> {
  const command = [process.execPath, MAIN, ...args].map(shellQuote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end()
  })
}

function expectExit(t: ExecutionContext, result: Result, code: number, what: string): void {
  t.is(result.code, code, `${what}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
}

/** Seeds a database with history on disk and in memory; returns every commit timestamp by name. */
async function seed(dbPath: string): Promise<Record<string, number>> {
  const db = await open<string, unknown>(dbPath, { memtableBytes: 64 * 1024 })
  const ts: Record<string, number> = {}
  ts.aliceFree = await db.put('user:alice', { name: 'Alice', plan: 'free' })
  ts.bob = await db.put('user:bob', { name: 'Bob', plan: 'free' })
  ts.batch = await db.batch([
    { type: 'put', key: 'user:carol', value: { name: 'Carol', plan: 'pro' } },
    { type: 'put', key: 'order:1', value: { total: 12.5, items: ['tea', 'cake'] } },
  ])
  for (let i = 0; i < 300; i++) await db.put(`sensor:${String(i % 30).padStart(3, '0')}`, { reading: i, unit: 'C' })
  await db.flush()
  ts.alicePro = await db.put('user:alice', { name: 'Alice', plan: 'pro' })
  ts.bobDeleted = await db.delete('user:bob')
  ts.note = await db.put('note', 'a string with "quotes" and ünïcödé')
  await db.close()
  return ts
}

async function withDb<T>(dbPath: string, fn: (db: Database<string, unknown>) => T | Promise<T>): Promise<T> {
  const db = await open<string, unknown>(dbPath, { createIfMissing: false })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/

test('chronokv --help lists every command and the exit codes; each command has its own help', async (t) => {
  const help = await cli(['--help'])
  expectExit(t, help, 0, '--help')
  for (const command of ['get', 'put', 'del', 'history', 'range', 'changes', 'stats', 'check', 'compact', 'backup', 'import', 'export']) {
    t.regex(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), `--help does not list ${command}`)
  }
  for (const code of ['CHRONOKV_INVALID_ARGUMENT', 'CHRONOKV_LOCKED', 'CHRONOKV_CORRUPTION', 'CHRONOKV_IO']) {
    t.true(help.stdout.includes(code), `--help does not document the exit code of ${code}`)
  }
  t.regex(help.stdout, /Exit codes:\n\s+0\s+success/)
  const get = await cli(['get', '--help'])
  expectExit(t, get, 0, 'get --help')
  t.regex(get.stdout, /--at <time>/)
  t.regex(get.stdout, /Examples:/)
  const importHelp = await cli(['help', 'import'])
  expectExit(t, importHelp, 0, 'help import')
  t.regex(importHelp.stdout, /ascend/)
  const version = await cli(['--version'])
  expectExit(t, version, 0, '--version')
  t.is(version.stdout.trim(), (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version)
})

test('put, get (now and --at), del and history work on a real database', async (t) => {
  const db = tempDbPath(t)
  const first = await cli(['put', db, 'user:alice', '{"name":"Alice","plan":"free"}'])
  expectExit(t, first, 0, 'put')
  const firstTs = Number(/committed at (\d+) \(/.exec(first.stdout)?.[1])
  t.true(Number.isSafeInteger(firstTs) && firstTs > 0, first.stdout)
  t.regex(first.stdout, ISO)
  expectExit(t, await cli(['put', db, 'user:alice', '{"name":"Alice","plan":"pro"}']), 0, 'second put')

  const now = await cli(['get', db, 'user:alice'])
  expectExit(t, now, 0, 'get')
  t.deepEqual(JSON.parse(now.stdout), { name: 'Alice', plan: 'pro' })
  const then = await cli(['get', db, 'user:alice', '--at', String(firstTs)])
  t.deepEqual(JSON.parse(then.stdout), { name: 'Alice', plan: 'free' })
  const iso = new Date(Math.floor(firstTs / 1000)).toISOString().replace(/Z$/, `${String(firstTs % 1000).padStart(3, '0')}Z`)
  t.deepEqual(JSON.parse((await cli(['get', db, 'user:alice', '--at', iso])).stdout), { name: 'Alice', plan: 'free' }, 'an ISO date with microseconds reads the same')
  const entry = await cli(['get', db, 'user:alice', '--at', String(firstTs), '--entry'])
  t.deepEqual(JSON.parse(entry.stdout), { key: 'user:alice', ts: firstTs, value: { name: 'Alice', plan: 'free' } })

  const del = await cli(['del', db, 'user:alice'])
  expectExit(t, del, 0, 'del')
  t.regex(del.stdout, /^deleted at \d+ \(/)
  const missing = await cli(['get', db, 'user:alice'])
  expectExit(t, missing, 1, 'get after del')
  t.is(missing.stdout, '')
  t.regex(missing.stderr, /^chronokv: no value for key "user:alice"\n$/)
  expectExit(t, await cli(['get', db, 'user:nobody']), 1, 'get of a key that never existed')
  expectExit(t, await cli(['get', db, 'user:alice', '--at', String(firstTs)]), 0, 'the deleted key as of before the delete')

  const history = await cli(['history', db, 'user:alice'])
  expectExit(t, history, 0, 'history')
  const lines = history.stdout.split('\n')
  t.regex(lines[0]!, /^user:alice: 3 versions, /)
  t.is(lines.filter((l) => l.includes('●')).length, 2, history.stdout)
  t.is(lines.filter((l) => l.includes('✕')).length, 1, history.stdout)
  t.true(history.stdout.includes(`ts ${firstTs}`))
  t.regex(history.stdout, /\(\+[\d.]+(µs|ms|s)\)/, 'each version after the first shows the time since the one before')
  t.regex(history.stdout, /deleted/)
  const ndjson = (await cli(['history', db, 'user:alice', '--ndjson', '--reverse'])).stdout.trim().split('\n').map((l) => JSON.parse(l))
  t.is(ndjson.length, 3)
  t.deepEqual(ndjson[0], { key: 'user:alice', ts: ndjson[0].ts, deleted: true })
  t.is(ndjson[2].ts, firstTs)

  const utf8 = await cli(['put', db, 'greeting', 'hello there', '--value-encoding', 'utf8'])
  expectExit(t, utf8, 0, 'put utf8')
  t.is((await cli(['get', db, 'greeting', '-e', 'utf8'])).stdout, 'hello there\n')
  const hexKey = await cli(['put', db, '00ff10', 'q83v', '-k', 'hex', '-e', 'base64'])
  expectExit(t, hexKey, 0, 'put with a hex key and a base64 value')
  t.is((await cli(['get', db, '00ff10', '-k', 'binary', '-e', 'hex'])).stdout, 'abcdef\n')
})

test('range and changes answer as of --at and inside --since/--until', async (t) => {
  const db = tempDbPath(t)
  const ts = await seed(db)

  const nowRange = await cli(['range', db, '--prefix', 'user:'])
  expectExit(t, nowRange, 0, 'range')
  t.deepEqual(nowRange.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['user:alice', 'user:carol'])
  const before = await cli(['range', db, '--prefix', 'user:', '--at', String(ts.alicePro! - 1), '--ndjson'])
  const rows = before.stdout.trim().split('\n').map((l) => JSON.parse(l))
  t.deepEqual(rows.map((r) => [r.key, r.value.plan]), [['user:alice', 'free'], ['user:bob', 'free'], ['user:carol', 'pro']])
  t.deepEqual(rows.map((r) => r.ts), [ts.aliceFree, ts.bob, ts.batch])
  const limited = await cli(['range', db, '--gte', 'sensor:', '--lt', 'sensor;', '--reverse', '--limit', '2'])
  t.deepEqual(limited.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['sensor:029', 'sensor:028'])

  const window = await cli(['changes', db, '--prefix', 'user:', '--since', String(ts.batch), '--until', String(ts.note), '--ndjson'])
  expectExit(t, window, 0, 'changes')
  const versions = window.stdout.trim().split('\n').map((l) => JSON.parse(l))
  t.deepEqual(versions, [
    { key: 'user:alice', ts: ts.alicePro, value: { name: 'Alice', plan: 'pro' } },
    { key: 'user:bob', ts: ts.bobDeleted, deleted: true },
    { key: 'user:carol', ts: ts.batch, value: { name: 'Carol', plan: 'pro' } },
  ])
  const upTo = await cli(['changes', db, '--prefix', 'user:', '--at', String(ts.bob)])
  const human = upTo.stdout.trim().split('\n')
  t.is(human.length, 2, upTo.stdout)
  t.regex(human[0]!, new RegExp(`^${ISO.source}\\t${ts.aliceFree}\\tuser:alice\\t\\{"name":"Alice","plan":"free"\\}$`))
  const deletes = await cli(['changes', db, '--gte', 'user:bob', '--lt', 'user:c'])
  t.regex(deletes.stdout, /\tuser:bob\t\(deleted\)\n$/)
  const both = await cli(['changes', db, '--at', '1', '--until', '2'])
  expectExit(t, both, 2, '--at with --until')
})

test('errors print one line with their code and exit with the documented code', async (t) => {
  const db = tempDbPath(t)
  await seed(db)

  const unknownOption = await cli(['get', db, 'k', '--bogus'])
  expectExit(t, unknownOption, 2, 'an unknown option')
  t.regex(unknownOption.stderr, /^chronokv: usage error: unknown option '--bogus' \(see --help\)\n$/)
  expectExit(t, await cli(['frobnicate']), 2, 'an unknown command')
  expectExit(t, await cli(['get', db]), 2, 'a missing argument')
  const badTime = await cli(['get', db, 'k', '--at', 'yesterday'])
  expectExit(t, badTime, 2, 'a bad time')
  t.regex(badTime.stderr, /--at must be integer microseconds/)
  expectExit(t, await cli(['put', db, 'k', 'not json']), 2, 'a value that is not JSON under the json encoding')
  expectExit(t, await cli(['get', db, 'zz', '-k', 'hex']), 2, 'a key that is not hex')
  expectExit(t, await cli(['get', db, 'k', '-e', 'yaml']), 2, 'an unknown encoding')

  const tooLong = await cli(['put', db, 'k'.repeat(5000), '1'])
  expectExit(t, tooLong, 3, 'a key over the limit')
  t.regex(tooLong.stderr, /^chronokv: CHRONOKV_INVALID_ARGUMENT: .*4096/)
  t.is(tooLong.stderr.split('\n').length, 2, 'one line')

  const noFile = await cli(['import', path.join(tempDir(t), 'new-db'), path.join(tempDir(t), 'missing.ndjson')])
  expectExit(t, noFile, 6, 'an import file that is not there')
  t.regex(noFile.stderr, /^chronokv: CHRONOKV_IO: ENOENT.*missing\.ndjson/)
  const badOutput = await cli(['export', db, '-o', path.join(tempDir(t), 'no', 'such', 'dir', 'out.ndjson')])
  expectExit(t, badOutput, 6, 'an export file that cannot be created')
  t.regex(badOutput.stderr, /^chronokv: CHRONOKV_IO: ENOENT/)

  const nowhere = await cli(['get', path.join(tempDir(t), 'nothing-here'), 'k'])
  expectExit(t, nowhere, 6, 'no database at the path')
  t.regex(nowhere.stderr, /^chronokv: CHRONOKV_IO: /)
  t.false(fs.existsSync(path.join(path.dirname(nowhere.stderr), 'nothing-here')), 'reading created nothing')

  const holder = await open(db)
  try {
    for (const args of [['get', db, 'note'], ['put', db, 'k', '1'], ['check', db], ['export', db]]) {
      const locked = await cli(args)
      expectExit(t, locked, 4, `${args[0]} while another process holds the database`)
      t.regex(locked.stderr, /^chronokv: CHRONOKV_LOCKED: .*held by another process\n$/)
    }
  } finally {
    await holder.close()
  }

  const manifest = path.join(db, 'MANIFEST')
  const bytes = fs.readFileSync(manifest)
  bytes[bytes.length - 10]! ^= 0x55
  fs.writeFileSync(manifest, bytes)
  const corrupt = await cli(['get', db, 'note'])
  expectExit(t, corrupt, 5, 'a damaged manifest')
  t.regex(corrupt.stderr, /^chronokv: CHRONOKV_CORRUPTION: corruption in .*MANIFEST at byte offset \d+/)
})

test('export, import into an empty database and export again give identical NDJSON', async (t) => {
  const source = tempDbPath(t, 'source')
  const ts = await seed(source)
  const exported = await cli(['export', source])
  expectExit(t, exported, 0, 'export')
  t.is(exported.stderr, '')
  const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l))
  const expected = await withDb(source, (db) => db.changes().asArray)
  t.is(lines.length, expected.length)
  t.deepEqual(lines.map((l) => l.ts), [...lines.map((l) => l.ts)].sort((a, b) => a - b), 'commit order')
  const batch = lines.filter((l) => l.ts === ts.batch)
  t.deepEqual(batch.map((l) => l.key), ['order:1', 'user:carol'], 'one commit, in key order')
  t.true(lines.some((l) => l.key === 'user:bob' && l.deleted === true && !('value' in l)))

  const file = path.join(tempDir(t), 'export.ndjson')
  fs.writeFileSync(file, exported.stdout)
  const copy = tempDbPath(t, 'copy')
  const imported = await cli(['import', copy, file])
  expectExit(t, imported, 0, 'import')
  t.regex(imported.stdout, new RegExp(`^imported ${lines.length} versions in \\d+ commits, up to ${ts.note} \\(`))
  const again = await cli(['export', copy])
  t.is(again.stdout, exported.stdout, 'the round trip changed the export')
  await withDb(copy, (db) => {
    t.deepEqual(db.changes().asArray, expected)
    t.is(db.now(), ts.note!)
  })
  const later = await cli(['put', copy, 'after', '1'])
  t.true(Number(/committed at (\d+)/.exec(later.stdout)?.[1]) > ts.note!, 'the clock continues above the imported maximum')

  // Through a pipe, binary values, and a window.
  const raw = tempDbPath(t, 'raw')
  const rawDb = await open<Uint8Array, Uint8Array>(raw, { keyEncoding: 'binary', valueEncoding: 'binary' })
  await rawDb.put(Buffer.from([0, 1, 2]), Buffer.from([0xff, 0x00, 0x80]))
  await rawDb.put(Buffer.from([0xff]), Buffer.alloc(0))
  await rawDb.close()
  const rawExport = await cli(['export', raw, '-k', 'hex', '-e', 'base64'])
  t.deepEqual(rawExport.stdout.trim().split('\n').map((l) => JSON.parse(l).key), ['000102', 'ff'])
  const rawCopy = tempDbPath(t, 'raw-copy')
  expectExit(t, await cli(['import', rawCopy, '-k', 'hex', '-e', 'base64'], rawExport.stdout), 0, 'import from stdin')
  t.is((await cli(['export', rawCopy, '-k', 'hex', '-e', 'base64'])).stdout, rawExport.stdout)
  const windowed = await cli(['export', source, '--prefix', 'user:', '--since', String(ts.batch), '--until', String(ts.note)])
  t.deepEqual(windowed.stdout.trim().split('\n').map((l) => JSON.parse(l).ts), [ts.batch, ts.alicePro, ts.bobDeleted])
})

test('a failed import keeps the batches before the bad line, writes nothing after, and says where it stopped', async (t) => {
  const db = tempDbPath(t)
  const file = path.join(tempDir(t), 'bad.ndjson')
  fs.writeFileSync(
    file,
    [
      '{"key":"a","ts":1000,"value":1}',
      '{"key":"b","ts":1000,"value":2}',
      '{"key":"a","ts":2000,"value":3}',
      '{"key":"c","ts":3000,"value":4}',
      '{"key":"d","ts":2500,"value":5}',
      '{"key":"e","ts":4000,"value":6}',
    ].join('\n') + '\n',
  )
  const result = await cli(['import', db, file])
  expectExit(t, result, 3, 'an import out of order')
  t.regex(result.stderr, /^chronokv: CHRONOKV_INVALID_ARGUMENT: import stopped at line 5: ts 2500 comes after ts 3000/)
  t.regex(result.stderr, /4 versions in 3 commits before it \(through line 4, ts 3000\) were imported/)
  t.is(result.stderr.split('\n').length, 2, 'one line')
  await withDb(db, (d) => {
    t.deepEqual(d.changes().asArray.map((v) => [v.key, v.ts]), [['a', 1000], ['a', 2000], ['b', 1000], ['c', 3000]])
  })

  // Older than what the database holds: refused, nothing written.
  fs.writeFileSync(file, '{"key":"z","ts":3500,"value":1}\n{"key":"z","ts":2999,"value":1}\n')
  const tooOld = await cli(['import', db, file])
  expectExit(t, tooOld, 3, 'an import older than the database')
  t.regex(tooOld.stderr, /import stopped at line 2: ts 2999 comes after ts 3500.*1 versions in 1 commits/)
  fs.writeFileSync(file, '{"key":"z","ts":10,"value":1}\n')
  const stale = await cli(['import', db, file])
  expectExit(t, stale, 3, 'an import older than the newest commit')
  t.regex(stale.stderr, /import stopped at line 1 \(ts 10\): .*ts 10 is not after the newest commit 3500.*nothing was imported/)
  fs.writeFileSync(file, '{"key":"y","ts":5000,"value":1}\nnot json\n')
  const garbage = await cli(['import', db, file])
  expectExit(t, garbage, 3, 'a line that is not JSON')
  // Line 1's commit is not known to be complete until the line after it: it is not written.
  t.regex(garbage.stderr, /import stopped at line 2: not JSON.*nothing was imported/)
  await withDb(db, (d) => t.is(d.now(), 3500))
})

test('check finds planted corruption by file and offset, and passes a healthy database', async (t) => {
  const db = tempDbPath(t)
  await seed(db)
  const healthy = await cli(['check', db])
  expectExit(t, healthy, 0, 'check of a healthy database')
  t.regex(healthy.stdout, /no problems\n$/)
  const report = JSON.parse((await cli(['check', db, '--json'])).stdout)
  t.true(report.extents >= 1 && report.blocks >= 2 && report.walRecords >= 1, JSON.stringify(report))

  // A byte in the middle of the data file's first block, and one in a log record's payload.
  const data = path.join(db, 'DATA')
  const dataBytes = fs.readFileSync(data)
  const dataAt = 20
  dataBytes[dataAt]! ^= 0x10
  fs.writeFileSync(data, dataBytes)
  const segment = walFiles(db)[0]!
  const log = fs.readFileSync(segment)
  const recordAt = 32 // the first record, right after the segment header
  log[recordAt + 32 + 3]! ^= 0x01 // inside its payload
  fs.writeFileSync(segment, log)

  const damaged = await cli(['check', db])
  expectExit(t, damaged, 1, 'check with problems')
  const problems = damaged.stdout.trim().split('\n').slice(0, -1)
  t.is(problems.length, 2, damaged.stdout)
  const realDb = fs.realpathSync(db)
  t.regex(problems[0]!, new RegExp(`^${escape(path.join(realDb, 'DATA'))}:0: extent \\d+ block 0: block checksum mismatch$`))
  t.regex(problems[1]!, new RegExp(`^${escape(fs.realpathSync(segment))}:${recordAt}: payload checksum mismatch`))
  t.regex(damaged.stdout, /2 problems\n$/)
  t.regex(damaged.stderr, /^chronokv: check found 2 problem\(s\)/)
  const json = JSON.parse((await cli(['check', db, '--json'])).stdout)
  t.deepEqual(json.problems.map((p: { file: string; offset: number }) => [path.basename(p.file), p.offset]), [['DATA', 0], [path.basename(segment), recordAt]])
  t.deepEqual(fs.readFileSync(data), dataBytes, 'check changed the data file')
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

test('backup makes a copy as of --at that opens with the same history, and refuses a database as target', async (t) => {
  const db = tempDbPath(t)
  const ts = await seed(db)
  const target = path.join(tempDir(t), 'backup')
  const result = await cli(['backup', db, target, '--at', String(ts.alicePro)])
  expectExit(t, result, 0, 'backup')
  t.regex(result.stdout, new RegExp(`^backed up \\d+ versions as of ${ts.alicePro} \\(`))
  t.is(result.stderr, '')
  const expected = await withDb(db, (source) => source.changes({ until: ts.alicePro! + 1 }).asArray)
  await withDb(target, (copy) => {
    t.is(copy.now(), ts.alicePro!)
    t.deepEqual(copy.changes().asArray, expected)
    t.deepEqual(copy.get('user:alice'), { name: 'Alice', plan: 'pro' })
    t.deepEqual(copy.get('user:bob'), { name: 'Bob', plan: 'free' }, 'the delete came after --at')
  })
  const check = await cli(['check', target])
  expectExit(t, check, 0, 'check of the backup')
  const again = await cli(['backup', db, target])
  expectExit(t, again, 3, 'a backup into a database')
  t.regex(again.stderr, /^chronokv: CHRONOKV_INVALID_ARGUMENT: .*already holds a chronokv database/)
})

test('db.backup copies while the database stays open and writable', async (t) => {
  const dbPath = tempDbPath(t)
  const db = await open<string, number>(dbPath, { memtableBytes: 32 * 1024 })
  for (let i = 0; i < 500; i++) await db.put(`k${i % 50}`, i)
  const at = db.now()
  let writes = 0
  let stop = false
  const writer = (async () => {
    while (!stop) await db.put(`k${writes++ % 50}`, -writes)
  })()
  const seen: Array<[number, number]> = []
  const target = path.join(tempDir(t), 'copy')
  const result = await db.backup(target, { at, onProgress: (done, total) => seen.push([done, total]) })
  stop = true
  await writer
  t.is(result.at, at)
  t.is(result.versions, 500)
  t.true(seen.length >= 2 && seen[seen.length - 1]![0] === 500, JSON.stringify(seen))
  const expected = db.changes({ until: at + 1 }).asArray
  await db.close()
  const copy = await open<string, number>(target)
  t.deepEqual(copy.changes().asArray, expected)
  await copy.close()
  t.true(writes > 0, 'writes went on during the backup')
})

test('import and export draw a progress bar on a terminal and nothing in a pipe', async (t) => {
  const source = tempDbPath(t, 'source')
  await seed(source)
  const dir = tempDir(t)
  const file = path.join(dir, 'out.ndjson')

  const onTerminal = await cliOnTerminal(['export', source, '-o', file])
  expectExit(t, onTerminal, 0, 'export on a terminal')
  t.regex(onTerminal.stdout, /export \[#+\] 100% \| \d+\/\d+ versions/, JSON.stringify(onTerminal.stdout))
  t.true(onTerminal.stdout.includes('\u001b['), 'the bar redraws with terminal escapes')
  const piped = await cli(['export', source, '-o', file])
  expectExit(t, piped, 0, 'export in a pipe')
  t.is(piped.stderr, '', 'no progress in a pipe')
  t.is(piped.stdout, '')

  const importTerminal = await cliOnTerminal(['import', path.join(dir, 'tty-copy'), file])
  expectExit(t, importTerminal, 0, 'import on a terminal')
  t.regex(importTerminal.stdout, /import \[#+\] 100% \| (\d+)\/\1 bytes/, JSON.stringify(importTerminal.stdout))
  t.regex(importTerminal.stdout, /imported \d+ versions/)
  const importPiped = await cli(['import', path.join(dir, 'pipe-copy'), file])
  expectExit(t, importPiped, 0, 'import in a pipe')
  t.is(importPiped.stderr, '')
  t.regex(importPiped.stdout, /^imported \d+ versions in \d+ commits, up to \d+ \(.*\)\n$/)

  const quiet = await cliOnTerminal(['--no-progress', 'import', path.join(dir, 'quiet-copy'), file])
  expectExit(t, quiet, 0, 'import with --no-progress')
  t.false(quiet.stdout.includes('['), JSON.stringify(quiet.stdout))

  const checkTerminal = await cliOnTerminal(['check', source])
  t.regex(checkTerminal.stdout, /check \[#+\] 100%/)
  t.is((await cli(['check', source])).stderr, '')
})
