import test from 'ava'
import fs from 'node:fs'
import path from 'node:path'

import { check, InvalidArgumentError, IoError, LockedError, open } from '../ts/index'
import { closeAtEnd, tempDbPath, tempDir } from './helpers/tmp'

test('check() of a database this process has open rejects with LockedError (an async task keeps its code)', async (t) => {
  const dbPath = tempDbPath(t)
  const db = closeAtEnd(t, await open(dbPath))
  await db.put('k', 1)
  const err = await t.throwsAsync(check(dbPath), { instanceOf: LockedError })
  t.is(err?.code, 'CHRONOKV_LOCKED')
  t.notRegex(err?.message ?? '', /^CHRONOKV_/, 'the code is not repeated in the message')
  await db.close()
  const progress: Array<[number, number]> = []
  const report = await check(dbPath, { onProgress: (done, total) => progress.push([done, total]) })
  t.deepEqual(report.problems, [])
  t.true(report.walRecords >= 1)
  t.deepEqual(progress[progress.length - 1], [report.bytes, report.bytes])
  await t.throwsAsync(check(path.join(tempDir(t), 'missing')), { instanceOf: IoError })
  await t.throwsAsync(check(dbPath, { onProgress: 5 } as never), { instanceOf: InvalidArgumentError })
})

test('db.batchAt commits at the given timestamp and refuses one that is not newer, writing nothing', async (t) => {
  const db = closeAtEnd(t, await open<string, number>(tempDbPath(t)))
  const ts = await db.batchAt(1_000, [
    { type: 'put', key: 'a', value: 1 },
    { type: 'put', key: 'b', value: 2 },
  ])
  t.is(ts, 1_000)
  t.deepEqual(db.getEntry('a'), { key: 'a', value: 1, ts: 1_000 })
  for (const stale of [1_000, 999, new Date(0)]) {
    await t.throwsAsync(db.batchAt(stale, [{ type: 'put', key: 'c', value: 3 }]), { instanceOf: InvalidArgumentError, message: /not after the newest commit 1000/ })
  }
  await t.throwsAsync(db.batchAt(2_000, []), { instanceOf: InvalidArgumentError })
  await t.throwsAsync(db.batchAt(-1, [{ type: 'put', key: 'c', value: 3 }]), { instanceOf: InvalidArgumentError })
  t.false(db.has('c'))
  t.is(db.now(), 1_000)
  t.true((await db.put('c', 3)) > 1_000)
})

test('db.backup refuses a directory with a database or other files, and an open one is still writable after', async (t) => {
  const dbPath = tempDbPath(t)
  const db = closeAtEnd(t, await open<string, number>(dbPath))
  await db.put('k', 1)
  const busy = tempDir(t)
  fs.writeFileSync(path.join(busy, 'notes.txt'), 'mine')
  await t.throwsAsync(db.backup(busy), { instanceOf: InvalidArgumentError, message: /not empty/ })
  await t.throwsAsync(db.backup(dbPath), { instanceOf: InvalidArgumentError, message: /already holds a chronokv database/ })
  await t.throwsAsync(db.backup(path.join(tempDir(t), 'x'), { at: 5, since: 1 } as never), { instanceOf: InvalidArgumentError })
  const target = path.join(tempDir(t), 'copy')
  const result = await db.backup(target)
  t.is(result.path, fs.realpathSync(target))
  t.is(result.versions, 1)
  await db.put('k', 2)
  await db.close()
  const copy = closeAtEnd(t, await open<string, number>(target))
  t.is(copy.get('k'), 1)
})
