/**
 * Writing to stdout line by line, waiting when the pipe is full (so an export of millions of
 * versions never piles up in memory).
 *
 * @packageDocumentation
 */

import { once } from 'node:events'
import type { Writable } from 'node:stream'

export class LineWriter {
  #pending: string[] = []
  #size = 0

  #failed: Error | undefined

  constructor(readonly stream: Writable = process.stdout) {
    // A file that cannot be opened or written fails the command at the next write, not the process.
    stream.on('error', (err: Error) => {
      this.#failed ??= err
    })
  }

  /** Queues a line; writes a chunk once enough is queued, waiting for the stream to drain. */
  async line(text: string): Promise<void> {
    this.#pending.push(text)
    this.#size += text.length + 1
    if (this.#size >= 64 * 1024) await this.flush()
  }

  /** Writes what is queued. */
  async flush(): Promise<void> {
    if (this.#failed !== undefined) throw this.#failed
    if (this.#pending.length === 0) return
    const chunk = this.#pending.join('\n') + '\n'
    this.#pending = []
    this.#size = 0
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }

  /** Writes what is queued and ends the stream unless it is stdout. */
  async close(): Promise<void> {
    await this.flush()
    if (this.stream !== process.stdout) {
      this.stream.end()
      if (!this.stream.writableFinished) await once(this.stream, 'finish')
    }
    if (this.#failed !== undefined) throw this.#failed
  }
}
