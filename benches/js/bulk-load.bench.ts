/**
 * W1: bulk load of N keys (16-byte keys, 100-byte values, in random order) into a fresh store,
 * with each store's fastest batch API, chunks of 10,000 operations, every chunk durable before
 * the next. Reported in keys/s; one fresh directory per store and round.
 *
 * Run: node --import tsx benches/js/bulk-load.bench.ts [--full]
 */

import { runWorkload, timedLoad } from './lib/measure'

runWorkload({
  id: 'W1',
  title: 'bulk load of N keys',
  unit: 'keys/s',
  dataset: 'empty',
  freshStoresPerRound: true,
  custom: (name, ctx) => timedLoad(name, ctx.args.n),
})
