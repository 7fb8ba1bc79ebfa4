/**
 * Skew (issue 13): a pool of 8 over two backends, one 10x slower (20 ms and 200 ms timer
 * handlers, so neither server spends CPU on the wait), 50 calls in flight. Run as a child of
 * `run.js` with argv[2] = JSON { plan }; sends { type: 'result', result } when done.
 *
 * 1. Every strategy side by side (rounds as in `load.js`): req/s, p50/p99, the slow
 *    backend's share of calls, client CPU and event-loop utilisation (the client must not be
 *    what limits).
 * 2. Recovery, per peak-ewma variant: steady load with the slow backend slow, then it turns
 *    fast; 1 s windows until its share is back near 50 %.
 */
import { performance } from 'node:perf_hooks';
import { STRATEGIES } from './plan.js';
import { poolClientArm } from './support/arms.js';
import { runArms } from './support/load.js';
import { startPools } from './support/pools.js';
import { startServer } from './support/servers.js';
import { round } from './support/stats.js';

const { plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[skew] ${line}`);

/** The arms: each built-in strategy, and peak-ewma with latency and with latency². */
const VARIANTS = [
  ...STRATEGIES.map((strategy) => ({ name: strategy, strategy })),
  { name: 'peak-ewma', strategy: 'peak-ewma', peakEwma: { costExponent: 1 } },
  { name: 'peak-ewma-sq', strategy: 'peak-ewma', peakEwma: { costExponent: 2 } },
];

/** Slow-server calls / all calls, from a `callsByTarget` diff. */
function slowShare(calls, slowUrl) {
  const total = Object.values(calls).reduce((sum, n) => sum + n, 0);
  return total === 0 ? NaN : (calls[slowUrl] ?? 0) / total;
}

function callsByTarget(pool) {
  const byTarget = {};
  for (const member of pool.workers()) {
    byTarget[member.target] = (byTarget[member.target] ?? 0) + member.callsStarted;
  }
  return byTarget;
}

/**
 * Steady load on `arm` with the slow backend slow, then `slow.setSlowdown(1)`: the time until
 * a 1 s window sends at least `recoveryShare` of its calls there (bounded by `recoveryBoundMs`).
 */
async function recovery(arm, pool, slow) {
  const { inFlight, request } = { inFlight: plan.inFlight[0], request: plan.request };
  let running = true;
  let active = 0;
  let errors = 0;
  const issue = () => {
    active++;
    arm.call(request, (error) => {
      active--;
      if (error) errors++;
      if (running) issue();
    });
  };
  for (let i = 0; i < inFlight; i++) issue();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const windowShare = async () => {
    const before = callsByTarget(pool);
    await sleep(plan.recoveryWindowMs);
    const after = callsByTarget(pool);
    const diff = Object.fromEntries(
      Object.entries(after).map(([t, n]) => [t, n - (before[t] ?? 0)]),
    );
    return slowShare(diff, slow.url);
  };
  await sleep(plan.recoverySteadyMs - plan.recoveryWindowMs);
  const steadyShare = await windowShare();
  slow.setSlowdown(1);
  const turned = performance.now();
  const shares = [];
  let recoveredMs = null;
  while (performance.now() - turned < plan.recoveryBoundMs) {
    const share = await windowShare();
    shares.push(round(share * 100, 2));
    if (share >= plan.recoveryShare) {
      recoveredMs = Math.round(performance.now() - turned);
      break;
    }
  }
  running = false;
  const drainStart = performance.now();
  while (active > 0 && performance.now() - drainStart < 30_000) await sleep(10);
  slow.setSlowdown(plan.slowdown);
  return { steadyShare: round(steadyShare, 3), recoveredMs, sharesPercentByWindow: shares, errors };
}

async function main() {
  const fast = await startServer({});
  const slow = await startServer({ slowdown: plan.slowdown });
  const servers = [fast, slow];
  const app = await startPools(
    VARIANTS.map(({ name, strategy, peakEwma }) => ({
      name,
      strategy,
      size: plan.size,
      url: [fast.url, slow.url],
      ...(peakEwma && { peakEwma }),
    })),
  );
  const arms = VARIANTS.map(({ name }) => poolClientArm(app.pool(name), app.state(name), name));
  const result = { plan, targets: { fast: fast.url, slow: slow.url } };
  try {
    const inFlight = plan.inFlight[0];
    log(`${inFlight} in flight: ${arms.length} arms, ${plan.rounds} rounds`);
    const elu = performance.eventLoopUtilization();
    const armResults = await runArms({ ...plan, inFlight }, arms, servers, log);
    result.clientElu = round(performance.eventLoopUtilization(elu).utilization, 3);
    result.arms = armResults.map((a) => ({
      ...a,
      slowShare: round(slowShare(a.callsByTarget ?? {}, slow.url), 3),
      // Cores the client process used while the arm ran: CPU per call x calls per second.
      clientCores: round((a.clientCpuUsPerCall * a.rps) / 1e6, 3),
      serverCores: round((a.serverCpuUsPerCall * a.rps) / 1e6, 3),
    }));
    result.recovery = [];
    for (const name of ['peak-ewma', 'peak-ewma-sq', 'least-loaded']) {
      log(`recovery: ${name}`);
      const arm = arms[VARIANTS.findIndex((v) => v.name === name)];
      const figures = await recovery(arm, app.pool(name), slow);
      log(`  ${name}: back to >= ${plan.recoveryShare * 100} % after ${figures.recoveredMs} ms`);
      result.recovery.push({ name, ...figures });
    }
  } finally {
    for (const arm of arms) arm.close();
    await app.close();
    for (const server of servers) server.stop();
  }
  process.send({ type: 'result', result });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
