/**
 * Polls a native progress counter while a long native task runs, for `onProgress` listeners.
 *
 * @internal
 * @packageDocumentation
 */

import type { NativeProgress } from './native'
import type { ProgressListener } from './types'

/** How often a listener hears about progress while the work runs. */
const POLL_MS = 100

/**
 * Awaits `work`, calling `listener(done, total)` every {@link POLL_MS} ms while it runs and once
 * more when it has succeeded. Without a listener it only awaits.
 */
export async function withProgress<T>(
  progress: NativeProgress,
  listener: ProgressListener | undefined,
  work: Promise<T>,
): Promise<T> {
  if (listener === undefined) return work
  const tell = () => listener(progress.done, progress.total)
  tell()
  const timer = setInterval(tell, POLL_MS)
  try {
    const result = await work
    tell()
    return result
  } finally {
    clearInterval(timer)
  }
}
