/**
 * The closed-loop load generator: `inFlight` calls always outstanding (each finished call
 * starts the next), arms alternating round by round, latencies in an HDR histogram.
 *
 * A round: start `inFlight` calls, let them run `rampMs` (not recorded), record `measureMs`
 * (calls that finish inside the window: throughput, latency, client and server CPU), then
 * stop issuing and wait for the calls in flight to finish. Every loop is bounded in time.
 * Each round also reports how busy the machine was, so a scenario can show its bottleneck:
 * the client's event-loop utilisation (ELU) and CPU, and the server processes' CPU, each as
 * a share of one core over the window. An arm may observe its own window with
 * `measureStart()` / `measureEnd()`; what `measureEnd()` returns is summed over the rounds.
 */
import * as hdr from 'hdr-histogram-js';
import { median, round } from './stats.js';

/** A round stops early after this many failed calls, so a broken arm cannot spin. */
const MAX_ERRORS_PER_ROUND = 1_000;
/** Calls left in flight this long after a round's end are reported as stuck. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Runs every arm: one warm-up round each, then `rounds` rounds in which every arm runs once,
 * the order rotating by one each round (A B C, B C A, C A B, …) so no arm always goes first.
 *
 * @param {object} plan { request, inFlight, rounds, warmupMs, rampMs, measureMs }
 * @param {Array<object>} arms see `arms.js`
 * @param {Array<{ cpu(): Promise<number> }>} servers to read the servers' CPU time from
 * @param {(line: string) => void} log
 */
export async function runArms(plan, arms, servers, log) {
  for (const arm of arms) await arm.ready();
  for (const arm of arms) {
    await runRound(arm, { ...plan, rampMs: plan.warmupMs, measureMs: 0 }, servers, null);
  }
  const results = new Map(arms.map((arm) => [arm, { histogram: newHistogram(), rounds: [] }]));
  for (let r = 0; r < plan.rounds; r++) {
    const line = [];
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(k + r) % arms.length];
      const result = results.get(arm);
      const roundResult = await runRound(arm, plan, servers, result.histogram);
      result.rounds.push(roundResult);
      line.push(`${arm.name} ${Math.round(roundResult.rps)}`);
    }
    log(`    round ${r + 1}/${plan.rounds} req/s: ${line.join(', ')}`);
  }
  return arms.map((arm) => summarize(arm, results.get(arm)));
}

function newHistogram() {
  // Microseconds, 1 µs to 10 min, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

function runRound(arm, plan, servers, histogram) {
  const { request, inFlight, rampMs, measureMs } = plan;
  return new Promise((resolve) => {
    let phase = 'ramp';
    let active = 0;
    let completed = 0;
    let errors = 0;
    let firstError;
    let windowStart = 0;
    let windowEnd = 0;
    let cpuStart;
    let cpuUsed;
    let eluStart;
    let elu;
    let extra;
    let serverCpuStart = [];
    let serverCpuEnd = [];
    let countersStart;
    let countersEnd;
    let drainTimer;

    const issue = () => {
      const start = performance.now();
      active++;
      arm.call(request, (error) => {
        active--;
        if (phase === 'measure') {
          if (error) {
            errors++;
            firstError ??= error;
            if (errors >= MAX_ERRORS_PER_ROUND) stop();
          } else {
            completed++;
            histogram.recordValue(Math.max(1, Math.round((performance.now() - start) * 1000)));
          }
        }
        if (phase !== 'stop') {
          issue();
        } else if (active === 0) {
          finish();
        }
      });
    };

    const startWindow = () => {
      if (phase !== 'ramp') return;
      phase = 'measure';
      countersStart = arm.counters?.();
      arm.measureStart?.();
      serverCpuStart = servers.map((server) => server.cpu());
      cpuStart = process.cpuUsage();
      eluStart = performance.eventLoopUtilization();
      windowStart = performance.now();
      setTimeout(stop, measureMs);
    };

    function stop() {
      if (phase === 'stop') return;
      if (phase === 'measure') {
        windowEnd = performance.now();
        cpuUsed = process.cpuUsage(cpuStart);
        elu = performance.eventLoopUtilization(eluStart).utilization;
        serverCpuEnd = servers.map((server) => server.cpu());
        countersEnd = arm.counters?.();
        extra = arm.measureEnd?.();
      }
      phase = 'stop';
      drainTimer = setTimeout(finish, DRAIN_TIMEOUT_MS);
      if (active === 0) finish();
    }

    async function finish() {
      clearTimeout(drainTimer);
      if (!histogram) {
        resolve(undefined);
        return;
      }
      const seconds = (windowEnd - windowStart) / 1000;
      const serverCpu =
        (await Promise.all(serverCpuEnd)).reduce((sum, value) => sum + value, 0) -
        (await Promise.all(serverCpuStart)).reduce((sum, value) => sum + value, 0);
      resolve({
        rps: completed / seconds,
        completed,
        errors,
        firstError: firstError && String(firstError.message ?? firstError),
        stuck: active,
        clientCpuUsPerCall: (cpuUsed.user + cpuUsed.system) / completed,
        serverCpuUsPerCall: serverCpu / completed,
        clientElu: elu,
        clientCpuCores: (cpuUsed.user + cpuUsed.system) / (seconds * 1e6),
        serverCpuCores: serverCpu / (seconds * 1e6),
        extra,
        callsByTarget: countersEnd && diffCounters(countersStart, countersEnd),
      });
    }

    for (let i = 0; i < inFlight; i++) issue();
    if (histogram) {
      setTimeout(startWindow, rampMs);
    } else {
      setTimeout(stop, rampMs);
    }
  });
}

function diffCounters(start, end) {
  const diff = {};
  for (const key of Object.keys(end)) diff[key] = end[key] - (start[key] ?? 0);
  return diff;
}

function summarize(arm, { histogram, rounds }) {
  const ms = (percentile) => round(histogram.getValueAtPercentile(percentile) / 1000);
  const callsByTarget = {};
  for (const { callsByTarget: calls } of rounds) {
    for (const [target, count] of Object.entries(calls ?? {})) {
      callsByTarget[target] = (callsByTarget[target] ?? 0) + count;
    }
  }
  const errors = rounds.reduce((sum, r) => sum + r.errors, 0);
  const extra = {};
  for (const r of rounds) {
    for (const [key, value] of Object.entries(r.extra ?? {})) {
      extra[key] = (extra[key] ?? 0) + value;
    }
  }
  return {
    name: arm.name,
    label: arm.label,
    pool: arm.pool === true,
    rps: round(median(rounds.map((r) => r.rps))),
    rpsByRound: rounds.map((r) => Math.round(r.rps)),
    calls: histogram.totalCount,
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    p999Ms: ms(99.9),
    maxMs: round(histogram.maxValue / 1000),
    meanMs: round(histogram.mean / 1000),
    clientCpuUsPerCall: round(median(rounds.map((r) => r.clientCpuUsPerCall))),
    serverCpuUsPerCall: round(median(rounds.map((r) => r.serverCpuUsPerCall))),
    clientElu: round(median(rounds.map((r) => r.clientElu))),
    clientCpuCores: round(median(rounds.map((r) => r.clientCpuCores))),
    serverCpuCores: round(median(rounds.map((r) => r.serverCpuCores))),
    ...(Object.keys(extra).length > 0 && { extra }),
    errors,
    ...(errors > 0 && { firstError: rounds.find((r) => r.firstError)?.firstError }),
    stuck: Math.max(...rounds.map((r) => r.stuck)),
    ...(Object.keys(callsByTarget).length > 0 && { callsByTarget }),
  };
}
