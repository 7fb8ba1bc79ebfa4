// getChannel() of a round-robin pool in a process whose pick call site has seen every
// built-in strategy (an app with several pools, each its own strategy), beside a bare
// array pick. `npm run build && node bench/mixed-strategies.bench.js`
import 'reflect-metadata';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { PoolService, PoolStateService } from 'nestjs-grpc-pool';
import { resolvePoolOptions } from '../dist/options/resolve-pool-options.js';

const fakeMember = () => ({ inFlight: 0 });
function poolOf(strategy, size) {
  const state = new PoolStateService();
  const pool = new PoolService(
    resolvePoolOptions(strategy, { url: '127.0.0.1:1', size, strategy }),
    state,
  );
  // Fill the slot table directly: the pick never touches the network.
  for (let i = 0; i < size; i++) state.slots.push(fakeMember());
  return pool;
}
const pools = ['round-robin', 'random', 'power-of-two', 'least-loaded'].map((s) => poolOf(s, 8));
// Warm every strategy through the one call site.
for (let r = 0; r < 200_000; r++) for (const pool of pools) do_not_optimize(pool.tryGetChannel());
const roundRobin = pools[0];
const floorSlots = Array.from({ length: 8 }, fakeMember);
let next = 0;
summary(() => {
  bench('bare array round-robin (floor)', () => {
    let i = next;
    if (i >= floorSlots.length) i = 0;
    next = i + 1;
    do_not_optimize(floorSlots[i]);
  });
  bench('round-robin getChannel(), call site seen 4 strategies', () =>
    do_not_optimize(roundRobin.getChannel()),
  );
});
await run();
