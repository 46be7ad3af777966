import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

interface Teardown {
  teardown: (fn: () => void | Promise<void>) => void
}

/** A fresh directory under os.tmpdir(), removed when the test ends. */
export function tempDir(t: Teardown, prefix = 'chronokv-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A path for a database inside a fresh temp directory (the database directory itself does not exist yet). */
export function tempDbPath(t: Teardown, name = 'db'): string {
  return path.join(tempDir(t), name)
}

/**
 * Registers a close of `db` at the end of the test (after any other teardown registered later).
 * Errors are ignored: the test may already have closed it.
 */
export function closeAtEnd<T extends { close(): Promise<void> }>(t: Teardown, db: T): T {
  t.teardown(async () => {
    try {
      await db.close()
    } catch {
      // already closed, or closed by the test on purpose
    }
  })
  return db
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The `.log` files of the write-ahead log under <dir>/wal, sorted by name. */
export function walFiles(dir: string): string[] {
  const walDir = path.join(dir, 'wal')
  return fs
    .readdirSync(walDir)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => path.join(walDir, name))
}
