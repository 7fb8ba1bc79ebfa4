/**
 * The rolling-restart arm (`bench/rolling.js`) in summary.md: a table per run and its goals
 * (issue 18): 0 failed calls with graceful shutdown, no more than round_robin with
 * forceShutdown, an even spread within `evenWithinMs` of the last backend's return.
 */
import { cores, int, ms, percent, table } from './format.js';
import { goal } from './goal.js';

const failed = (a) => `${int(a.failed)} of ${int(a.total)}`;
const share = (counts) => counts.join(' / ');

export function rollingTable(rolling) {
  if (!rolling) return [];
  const { plan } = rolling;
  return [
    '',
    `## ${plan.title}`,
    '',
    `Pool of ${plan.size} (default options) and one grpc-js channel with round_robin, side by side, ` +
      `${plan.concurrency} loops of ${plan.request.delayMs} ms calls each; each backend down ` +
      `${plan.downMs} ms, ${plan.upMs} ms between backends. Members per backend: serving members of ` +
      `the pool; calls per backend: the ${plan.afterMs} ms after the spread was even.`,
    '',
    ...table(
      [
        'shutdown',
        'pool failed',
        'round_robin failed',
        'pool members per backend',
        'even after last return',
        'equal shares after',
        'pool calls per backend',
        'round_robin calls per backend',
        'client CPU',
        'client ELU',
        'backends CPU',
      ],
      rolling.modes.map((m) => [
        m.mode,
        failed(m.pool),
        failed(m.roundRobin),
        share(m.pool.membersAfter),
        m.pool.evenMs === null ? 'never' : ms(m.pool.evenMs),
        m.pool.equalMs === null ? 'never' : ms(m.pool.equalMs),
        share(m.pool.callsPerBackendAfter),
        share(m.roundRobin.callsPerBackendAfter),
        cores(m.clientCores),
        percent(m.clientElu),
        cores(m.serverCores),
      ]),
    ),
    '',
    ...rolling.modes.map(
      (m) =>
        `- ${m.mode}: pool failures ${JSON.stringify(m.pool.failures)}; round_robin ${JSON.stringify(m.roundRobin.failures)}`,
    ),
  ];
}

export function rollingGoals(rolling) {
  if (!rolling) return [];
  const byMode = (mode) => rolling.modes.find((m) => m.mode === mode);
  const goals = [];
  const graceful = byMode('graceful');
  if (graceful) {
    goals.push(
      goal(
        'rolling-graceful',
        '(rolling) 0 failed calls through the pool with graceful shutdown',
        [failed(graceful.pool)],
        graceful.pool.failed === 0,
        `${graceful.pool.failed} failed`,
      ),
    );
  }
  const force = byMode('force');
  if (force) {
    goals.push(
      goal(
        'rolling-force',
        '(rolling) with forceShutdown no more failed calls than round_robin',
        [`pool ${failed(force.pool)}, round_robin ${failed(force.roundRobin)}`],
        force.pool.failed <= force.roundRobin.failed,
        `${force.pool.failed - force.roundRobin.failed} more`,
      ),
    );
  }
  const within = rolling.plan.evenWithinMs;
  goals.push(
    goal(
      'rolling-even',
      `(rolling) members spread evenly within ${within / 1_000} s of the last backend's return`,
      rolling.modes.map((m) => `${m.mode} ${m.pool.evenMs === null ? 'never' : ms(m.pool.evenMs)}`),
      rolling.modes.every((m) => m.pool.evenMs !== null && m.pool.evenMs <= within),
      'not within the bound',
    ),
  );
  return goals;
}
