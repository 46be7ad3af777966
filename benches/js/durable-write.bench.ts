/**
 * W4: one awaited durable write at a time (new 16-byte keys, 100-byte values): chronokv
 * durability 'sync', lmdb-js defaults, classic-level `{ sync: true }`, SQLite WAL with
 * synchronous=FULL. Hand-timed for `--w4-ms` per store and round, so that p50/p99 latencies
 * can be reported. Whether each write really reaches the disk is checked by benches/strace-fsync.sh.
 *
 * Run: node --import tsx benches/js/durable-write.bench.ts [--full]
 */

import { runWorkload, timedSequentialPuts } from './lib/measure'
import type { Store } from './lib/stores'

runWorkload({
  id: 'W4',
  title: 'one awaited durable write at a time',
  unit: 'writes/s',
  dataset: 'empty',
  custom: (name, ctx, round, opened) =>
    timedSequentialPuts(opened.get(name) as Store, ctx.args.w4Millis, (round + 1) * 10_000_000),
})
