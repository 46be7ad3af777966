/**
 * What machine and which versions a run measured: CPU, cores, RAM, the disk and file system of
 * the temporary directories the stores live in, load average, and package versions.
 * @packageDocumentation
 */

import { execFileSync } from 'node:child_process'
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'

import { packageVersion, REPO_ROOT } from './peers'

function run(cmd: string, args: string[], cwd = REPO_ROOT): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

export interface MachineInfo {
  cpu: string
  cores: number
  ramGiB: number
  kernel: string
  disk: string
  fs: string
  loadAverage: string
}

export function machineInfo(): MachineInfo {
  const dir = tmpdir()
  const mount = run('findmnt', ['-n', '-o', 'SOURCE,FSTYPE,OPTIONS', '--target', dir])
  const source = mount.split(/\s+/)[0] ?? ''
  const dev = source.replace(/^\/dev\//, '').replace(/[0-9]+$/, '').replace(/p$/, '')
  const sys = (file: string) => {
    try {
      return readFileSync(`/sys/block/${dev}/${file}`, 'utf8').trim()
    } catch {
      return undefined
    }
  }
  const rotational = sys('queue/rotational')
  const model = sys('device/model') ?? (dev.startsWith('vd') ? 'virtio block device' : undefined)
  const hypervisor = /Hypervisor vendor:\s*(.+)/.exec(run('lscpu', []))?.[1]?.trim()
  return {
    cpu: `${cpus()[0]?.model ?? 'unknown'}${hypervisor ? ` (virtual machine, ${hypervisor})` : ''}`,
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    disk: `${source}${model ? `, ${model}` : ''}${rotational === undefined ? '' : `, queue/rotational=${rotational}`}`,
    fs: `${mount.split(/\s+/).slice(1).join(' ')} — temporary directories under ${dir}`,
    loadAverage: loadavg().map((x) => x.toFixed(2)).join(' / '),
  }
}

/**
 * The disk's durability floor: latency of one 136-byte append plus fdatasync, the least any store
 * pays per write acknowledged one at a time (W4). Microseconds.
 */
export function fdatasyncLatency(count = 1000): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), 'chronokv-bench-fsync-'))
  const fd = openSync(join(dir, 'probe'), 'w')
  const record = Buffer.alloc(136, 1)
  const lat: number[] = []
  try {
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint()
      writeSync(fd, record)
      fdatasyncSync(fd)
      lat.push(Number(process.hrtime.bigint() - t) / 1000)
    }
  } finally {
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
  lat.sort((a, b) => a - b)
  return { p50: lat[Math.floor(count / 2)] as number, p99: lat[Math.floor(count * 0.99)] as number }
}

export function versions(): Record<string, string> {
  const lock = (() => {
    try {
      return readFileSync(join(REPO_ROOT, 'Cargo.lock'), 'utf8')
    } catch {
      return ''
    }
  })()
  const crate = (name: string) => new RegExp(`name = "${name}"\\nversion = "([^"]+)"`).exec(lock)?.[1] ?? 'see Cargo.lock'
  const head = run('git', ['rev-parse', '--short', 'HEAD'])
  const status = run('git', ['status', '--porcelain', '--untracked-files=no'])
  // Which top-level directories differ from HEAD (e.g. only benches/ while the harness is edited).
  const changed = [...new Set(status.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^\s*\S+\s+/, '').split('/')[0] as string))]
  const dirty = changed.length === 0 ? '' : ` (uncommitted changes in ${changed.map((d) => (d.includes('.') ? d : `${d}/`)).join(', ')})`
  const built = (path: string) => {
    try {
      return statSync(join(REPO_ROOT, path)).mtime.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
    } catch {
      return 'missing'
    }
  }
  return {
    chronokv: `${packageVersion('chronokv')} at ${head}${dirty}; native/chronokv.linux-x64-gnu.node built ${built('native/chronokv.linux-x64-gnu.node')}, dist/ ${built('dist/index.js')}`,
    node: process.version,
    lmdb: packageVersion('lmdb'),
    'classic-level': packageVersion('classic-level'),
    'better-sqlite3': packageVersion('better-sqlite3'),
    benny: packageVersion('benny'),
    rustc: run('rustc', ['--version']),
    'napi (crate)': crate('napi'),
  }
}

/** SQLite's own version as better-sqlite3 bundles it. */
export function sqliteVersion(): string {
  try {
    const Database = require(require.resolve('better-sqlite3', { paths: [join(REPO_ROOT, 'benches', 'js')] })) as new (
      f: string,
    ) => { prepare(s: string): { pluck(): { get(): unknown } }; close(): void }
    const db = new Database(':memory:')
    const v = String(db.prepare('SELECT sqlite_version()').pluck().get())
    db.close()
    return v
  } catch {
    return 'unknown'
  }
}
