/**
 * Renewal under load (issue 12): the server closes every connection at a max age of 2 s
 * (1 s grace). A pool of 8 that renews its members before the server's cut
 * (`maxConnectionAgeMs`) against the same pool without renewal and grpc-gcp: failed calls,
 * p99, and how often the pool had no member ready. Run as a child of `run.js` with
 * argv[2] = JSON { plan }.
 */
import { grpcGcpArm, poolClientArm } from './support/arms.js';
import { runArms } from './support/load.js';
import { startOptionalPool, startPools } from './support/pools.js';
import { startServer } from './support/servers.js';

const { plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[renewal] ${line}`);
/** How often the sampler asks `tryGetChannel()` for a member while a window is measured. */
const SAMPLE_EVERY_MS = 1;

/**
 * Adds to a pool arm a count of the moments it had no member ready, in the measured windows:
 * `tryGetChannel()` on a 1 ms timer, and the slot count (a read, no pick, so round-robin's
 * order is untouched) at every call the load generator starts.
 */
function withReadySampling(arm, pool, state) {
  let samples = 0;
  let misses = 0;
  let calls = 0;
  let noneAtCall = 0;
  let timer;
  const sample = () => {
    samples++;
    if (pool.tryGetChannel() === undefined) misses++;
    timer = setTimeout(sample, SAMPLE_EVERY_MS);
  };
  return {
    ...arm,
    call(request, done) {
      calls++;
      if (state.count === 0) noneAtCall++;
      arm.call(request, done);
    },
    measureStart() {
      samples = misses = calls = noneAtCall = 0;
      timer = setTimeout(sample, SAMPLE_EVERY_MS);
    },
    measureEnd() {
      clearTimeout(timer);
      return {
        samples,
        noMemberReady: misses,
        callsStarted: calls,
        noMemberReadyAtCall: noneAtCall,
      };
    },
  };
}

async function main() {
  const server = await startServer({ channelArgs: plan.channelArgs });
  const base = { url: server.url, size: plan.size };
  const fixed = await startPools([{ name: 'no-renewal', ...base }]);
  const renewing = await startOptionalPool(
    { name: 'renewal', ...base, maxConnectionAgeMs: plan.maxConnectionAgeMs },
    ['maxConnectionAgeMs'],
  );
  const renewalLabel = `pool ×${plan.size}, renewal at ${plan.maxConnectionAgeMs} ms`;
  const arms = [
    withReadySampling(
      poolClientArm(fixed.pool('no-renewal'), fixed.state('no-renewal'), 'round-robin', {
        name: 'no-renewal',
        label: `pool ×${plan.size}, no renewal`,
      }),
      fixed.pool('no-renewal'),
      fixed.state('no-renewal'),
    ),
    grpcGcpArm(server.url, plan.gcpMaxSize),
  ];
  if (renewing.pool) {
    const arm = poolClientArm(renewing.pool, renewing.state, 'round-robin', {
      name: 'renewal',
      label: renewalLabel,
    });
    arms.unshift(withReadySampling(arm, renewing.pool, renewing.state));
  } else {
    log(`${renewalLabel}: ${renewing.unavailable ?? `options rejected: ${renewing.rejected}`}`);
  }
  const levels = [];
  try {
    for (const inFlight of plan.inFlight) {
      log(`${inFlight} in flight: ${arms.length} arms, ${plan.rounds} rounds`);
      levels.push({ inFlight, arms: await runArms({ ...plan, inFlight }, arms, [server], log) });
    }
  } finally {
    for (const arm of arms) arm.close();
    await fixed.close();
    await renewing.app?.close();
    server.stop();
  }
  const unavailable = renewing.pool ? [] : [{ name: 'renewal', label: renewalLabel, ...renewing }];
  process.send({ type: 'result', result: { plan, levels, unavailable } });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
