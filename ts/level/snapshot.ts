/**
 * Explicit snapshots (`db.snapshot()`) of the abstract-level adapter.
 *
 * @packageDocumentation
 */

import { AbstractSnapshot } from 'abstract-level'
import type { Database } from '../database'
import type { Snapshot } from '../snapshot'
import type { Timestamp } from '../types'

/**
 * abstract-level's AbstractSnapshot constructor takes `{ owner }` (the database that closes the
 * snapshot on its own close), but its type declarations omit the parameter; this restores it.
 */
const SnapshotBase = AbstractSnapshot as unknown as new (options: { owner: object }) => AbstractSnapshot

/**
 * A read view pinned at one commit timestamp, {@link ChronoLevelSnapshot.ts}. Pass it as the
 * `snapshot` option of `get`, `getMany`, `has`, `hasMany`, `iterator`, `keys`, `values` and
 * `clear` to read the database as it was then. It holds a chronokv snapshot, so retention never
 * collects what it can see; close it when done (the database closes it on `db.close()`).
 */
export class ChronoLevelSnapshot extends SnapshotBase {
  readonly #snapshot: Snapshot<Buffer, Buffer>
  readonly #db: Database<Buffer, Buffer>

  /** @internal Use `db.snapshot()`. */
  constructor(options: { owner: object }, snapshot: Snapshot<Buffer, Buffer>, db: Database<Buffer, Buffer>) {
    super(options)
    this.#snapshot = snapshot
    this.#db = db
  }

  /** The commit timestamp this snapshot reads at (integer microseconds). */
  get ts(): Timestamp {
    return this.#snapshot.ts
  }

  /** @internal True when this snapshot was taken of `db`. */
  _belongsTo(db: Database<Buffer, Buffer>): boolean {
    return this.#db === db
  }

  /** Releases the chronokv snapshot. Called once, by `close()`, when no read is using it. */
  async _close(): Promise<void> {
    this.#snapshot.close()
  }
}
