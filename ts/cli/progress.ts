/**
 * Progress bars for long work (import, export, compact, check, backup): drawn on stderr when
 * it is a terminal, never in a pipe or a file, and never with `--no-progress`.
 *
 * @packageDocumentation
 */

import { SingleBar } from 'cli-progress'

export interface ProgressBar {
  /** Moves the bar: `done` out of `total` (0: not known, the bar shows a count). */
  update(done: number, total: number): void
  /** Draws the final state and leaves the bar on its line. */
  stop(): void
}

const QUIET: ProgressBar = { update() {}, stop() {} }

/** A bar labelled `label` counting `unit`, or a silent stand-in when stderr is not a terminal. */
export function progressBar(label: string, unit: string, enabled: boolean): ProgressBar {
  if (!enabled || process.stderr.isTTY !== true) return QUIET
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
    stream: process.stderr,
    barCompleteChar: '#',
    barIncompleteChar: '-',
    hideCursor: true,
    clearOnComplete: false,
    fps: 10,
  })
  let started = false
  return {
    update(done, total) {
      const shownTotal = Math.max(total, done, 1)
      if (!started) {
        bar.start(shownTotal, done)
        started = true
      } else {
        bar.setTotal(shownTotal)
        bar.update(done)
      }
    },
    stop() {
      if (!started) bar.start(1, 1)
      bar.stop()
    },
  }
}
