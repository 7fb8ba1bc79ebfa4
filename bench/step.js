/**
 * Step load (issue 12): in-flight demand steps 100 → 1,600 → 100 against a server capped at
 * 100 streams per connection, one arm after the other: fixed pools of 1 and 8, grpc-gcp
 * (max 8), and this pool with `autoscale`. Every second it records req/s, members and calls
 * in flight. Run as a child of `run.js` with argv[2] = JSON { plan }.
 */
import { grpcGcpArm, poolClientArm } from './support/arms.js';
import { startOptionalPool, startPools } from './support/pools.js';
import { startServer } from './support/servers.js';

const { plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[step] ${line}`);
/** Calls still in flight this long after the last phase are reported as stuck. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Runs the phases on one arm: a closed loop whose target in flight changes per phase (a
 * step up starts the difference at once; a step down lets calls end without replacing
 * them). Resolves with the per-second series and the failed calls.
 */
function runPhases(arm, autoscaled) {
  return new Promise((resolve) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const series = [];
    const phaseStarts = [];
    let target = 0;
    let active = 0;
    let done = 0;
    let failed = 0;
    let firstError;
    let stopping = false;
    let shrunkAt;
    let lastSample = started;
    let phaseTimer;
    let drainTimer;

    const issue = () => {
      active++;
      arm.call(plan.request, (error) => {
        active--;
        if (error) {
          failed++;
          firstError ??= `${seconds().toFixed(1)} s: ${error.message ?? error}`;
        } else {
          done++;
        }
        if (!stopping && active < target) issue();
        else if (stopping && active === 0) finish();
      });
    };

    const sampler = setInterval(() => {
      const now = performance.now();
      const members = arm.members();
      series.push({
        t: Math.round(seconds()),
        rps: Math.round((done * 1000) / (now - lastSample)),
        members,
        inFlight: active,
        failed,
      });
      done = 0;
      lastSample = now;
      const last = phaseStarts.length === plan.phases.length;
      if (autoscaled && last && shrunkAt === undefined && members <= plan.shrunkMembers) {
        shrunkAt = seconds();
        clearTimeout(phaseTimer);
        phaseTimer = setTimeout(stop, plan.afterShrunkMs);
      }
    }, 1_000);

    const startPhase = (index) => {
      const phase = plan.phases[index];
      phaseStarts.push(Math.round(seconds()));
      target = phase.inFlight;
      log(`  ${arm.label}: ${target} in flight from ${phaseStarts.at(-1)} s`);
      while (active < target) issue();
      const last = index === plan.phases.length - 1;
      const ms = last && autoscaled ? (phase.maxMs ?? phase.ms) : phase.ms;
      phaseTimer = setTimeout(() => (last ? stop() : startPhase(index + 1)), ms);
    };

    function stop() {
      if (stopping) return;
      stopping = true;
      clearTimeout(phaseTimer);
      clearInterval(sampler);
      drainTimer = setTimeout(finish, DRAIN_TIMEOUT_MS);
      if (active === 0) finish();
    }

    function finish() {
      clearTimeout(drainTimer);
      resolve({ series, phaseStarts, failed, firstError, stuck: active });
    }

    startPhase(0);
  });
}

async function main() {
  const server = await startServer({ maxConcurrentStreams: plan.maxConcurrentStreams });
  const results = [];
  const fixed = await startPools(
    plan.fixedSizes.map((size) => ({ name: `fixed-${size}`, size, url: server.url })),
  );
  try {
    const arms = [
      ...plan.fixedSizes.map((size) =>
        poolClientArm(fixed.pool(`fixed-${size}`), fixed.state(`fixed-${size}`), 'round-robin', {
          name: `fixed-${size}`,
          label: `pool, fixed size ${size}`,
        }),
      ),
      grpcGcpArm(server.url, plan.gcpMaxSize),
    ];
    for (const arm of arms) {
      await arm.ready();
      results.push({ name: arm.name, label: arm.label, ...(await runPhases(arm, false)) });
      arm.close();
    }
  } finally {
    await fixed.close();
  }
  const label = `pool, autoscale ${plan.autoscale.min}-${plan.autoscale.max}`;
  const auto = await startOptionalPool(
    { name: 'autoscaled', url: server.url, autoscale: plan.autoscale },
    ['autoscale'],
  );
  if (auto.pool) {
    try {
      const arm = poolClientArm(auto.pool, auto.state, 'round-robin', {
        name: 'autoscaled',
        label,
      });
      results.push({ name: arm.name, label, autoscaled: true, ...(await runPhases(arm, true)) });
    } finally {
      await auto.app.close();
    }
  } else {
    log(`  ${label}: ${auto.unavailable ?? `options rejected: ${auto.rejected}`}`);
    results.push({ name: 'autoscaled', label, autoscaled: true, ...auto });
  }
  server.stop();
  process.send({ type: 'result', result: { plan, arms: results } });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
