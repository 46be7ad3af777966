/**
 * Summaries of V8 .cpuprofile files: where the samples fell, by function (self time) and by
 * layer (the chronokv facade in dist/, native calls into the addon, GC, the harness, Node).
 * @packageDocumentation
 */

import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

import { REPO_ROOT } from './peers'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
}

export interface ProfileLine {
  name: string
  where: string
  layer: string
  selfPct: number
  totalPct: number
}

export interface ProfileSummary {
  samples: number
  /** Self time by layer, percent. */
  layers: Record<string, number>
  /** Functions by self time, highest first. */
  top: ProfileLine[]
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '(native)'
  const path = frame.url.replace(/^file:\/\//, '')
  const rel = path.startsWith('/') ? relative(REPO_ROOT, path) : path
  // tsx compiles .ts files without line mapping in profiles: their line numbers mean nothing.
  return rel.endsWith('.ts') ? rel : `${rel}:${frame.lineNumber + 1}`
}

const isNative = (f: CallFrame) => f.url === '' && !f.functionName.startsWith('(')

/** Which layer a function belongs to. */
function layerOf(frame: CallFrame): string {
  const { functionName: name, url } = frame
  if (name === '(garbage collector)') return 'garbage collector'
  if (name === '(program)' || name === '(idle)' || name === '(root)') return 'V8 / idle (program)'
  if (url === '') return 'native functions (addon methods, Buffer and V8 builtins)'
  if (url.includes('/dist/') || url.includes('/ts/')) return 'chronokv facade (dist/)'
  if (url.includes('/native/')) return 'chronokv loader (native/index.js)'
  if (url.includes('/benches/js/')) return 'bench harness and workload'
  if (url.includes('node_modules/benny') || url.includes('node_modules/benchmark') || url.includes('node_modules/lodash')) {
    return 'benny / benchmark.js'
  }
  if (url.startsWith('node:')) return 'Node.js internals'
  return 'other JS'
}

export function summarizeProfile(path: string, topN = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[] }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, ProfileNode>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
  // V8 names native callbacks unreliably (napi-rs methods can all show one class's name), so a
  // native frame is listed under the JS function that called it.
  const frameOf = (n: ProfileNode): CallFrame => {
    if (!isNative(n.callFrame)) return n.callFrame
    const caller = parent.get(n.id)?.callFrame
    if (caller === undefined) return n.callFrame
    return { functionName: `[native] called from ${caller.functionName || '(anonymous)'}`, url: caller.url, lineNumber: caller.lineNumber }
  }
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1
  const self = new Map<string, { frame: CallFrame; hits: number }>()
  const inclusive = new Map<string, number>()
  const keyOf = (f: CallFrame) => `${f.functionName}|${f.url}|${f.lineNumber}`
  const layers: Record<string, number> = {}
  for (const n of profile.nodes) {
    const k = keyOf(frameOf(n))
    const entry = self.get(k) ?? { frame: frameOf(n), hits: 0 }
    entry.hits += n.hitCount ?? 0
    self.set(k, entry)
    const layer = layerOf(n.callFrame)
    layers[layer] = (layers[layer] ?? 0) + (n.hitCount ?? 0)
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const root = profile.nodes[0]
  const walk = (node: ProfileNode, stack: Map<string, number>): number => {
    const k = keyOf(frameOf(node))
    stack.set(k, (stack.get(k) ?? 0) + 1)
    let hits = node.hitCount ?? 0
    for (const c of node.children ?? []) {
      const child = byId.get(c)
      if (child !== undefined) hits += walk(child, stack)
    }
    const depth = stack.get(k) as number
    if (depth === 1) {
      inclusive.set(k, (inclusive.get(k) ?? 0) + hits)
      stack.delete(k)
    } else {
      stack.set(k, depth - 1)
    }
    return hits
  }
  if (root !== undefined) walk(root, new Map())
  const pct = (x: number) => Math.round((1000 * x) / total) / 10
  const top = [...self.entries()]
    .sort((a, b) => b[1].hits - a[1].hits)
    .slice(0, topN)
    .map(([k, { frame, hits }]) => ({
      name: frame.functionName || '(anonymous)',
      where: where(frame),
      layer: frame.functionName.startsWith('[native]') ? 'native' : layerOf(frame),
      selfPct: pct(hits),
      totalPct: pct(inclusive.get(k) ?? hits),
    }))
  const layerPct: Record<string, number> = {}
  for (const [layer, hits] of Object.entries(layers).sort((a, b) => b[1] - a[1])) layerPct[layer] = pct(hits)
  return { samples: total, layers: layerPct, top }
}
