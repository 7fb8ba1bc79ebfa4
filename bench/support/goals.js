/**
 * The issue's goals, checked against one run's figures. Each goal says what it compares,
 * the figure, whether it was met and by how much it was missed.
 */
import { STRATEGIES } from '../plan.js';
import { ms, ns, ratio } from './format.js';
import { adaptiveGoals } from './goals-adaptive.js';
import { arm, goal, pickRows } from './goal.js';

export function checkGoals(results) {
  const goals = [];
  const { hot, a, b, c } = results;
  if (hot) {
    const rr = pickRows(hot, 'round-robin', 'idle');
    const rrRatios = rr.map((r) => r.pool.p50Ns / r.floor.p50Ns);
    goals.push(
      goal(
        'hot-rr-2x',
        'round-robin getChannel() within 2x of the bare array pick (idle pool, p50)',
        rr.map((r, i) => `${ratio(rrRatios[i])} at size ${r.size}`),
        rrRatios.every((x) => x <= 2),
        `worst ${ratio(Math.max(...rrRatios))}`,
      ),
    );
    const p2c = ['idle', 'busy'].flatMap((load) => pickRows(hot, 'power-of-two', load));
    goals.push(
      goal(
        'hot-p2c-12ns',
        'power-of-two getChannel() within 12 ns (p50, idle and busy pools)',
        p2c.map((r) => `${ns(r.pool.p50Ns)} at size ${r.size} ${r.load}`),
        p2c.every((r) => r.pool.p50Ns <= 12),
        `worst ${ns(Math.max(...p2c.map((r) => r.pool.p50Ns)))}, ${ns(Math.round(Math.max(...p2c.map((r) => r.pool.p50Ns)) - 12))} over`,
      ),
    );
    if (hot.mixed) {
      // The issue-18 goals: every built-in strategy's pool in one process.
      const rows = (strategy) => hot.mixed.rows.filter((r) => r.strategy === strategy);
      const mixedRr = rows('round-robin');
      const mixedRatios = mixedRr.map((r) => r.pool.p50Ns / r.floor.p50Ns);
      goals.push(
        goal(
          'hot-mixed-rr-2x',
          'one process, a pool per strategy: round-robin getChannel() within 2x of the bare array pick (p50, idle and busy)',
          mixedRr.map((r, i) => `${ratio(mixedRatios[i])} ${r.load}`),
          mixedRatios.every((x) => x <= 2),
          `worst ${ratio(Math.max(...mixedRatios))}`,
        ),
      );
      const mixedP2c = rows('power-of-two');
      const worstP2c = Math.max(...mixedP2c.map((r) => r.pool.p50Ns));
      goals.push(
        goal(
          'hot-mixed-p2c-12ns',
          'one process, a pool per strategy: power-of-two getChannel() within 12 ns (p50, idle and busy)',
          mixedP2c.map((r) => `${ns(r.pool.p50Ns)} ${r.load}`),
          worstP2c <= 12,
          `worst ${ns(worstP2c)}`,
        ),
      );
    }
    const all = hot.pick.flatMap((p) => p.rows.map((r) => ({ ...r, strategy: p.strategy })));
    const worst = all.reduce((w, r) => (r.pool.heapBytes > w.pool.heapBytes ? r : w));
    goals.push(
      goal(
        'hot-zero-alloc',
        'zero bytes allocated per pick (mitata heap figure below 1 B per pick: no pick allocates)',
        [
          `at most ${worst.pool.heapBytes} B per pick (${worst.strategy}, size ${worst.size} ${worst.load})`,
        ],
        worst.pool.heapBytes < 1,
        `${worst.strategy} allocates ${worst.pool.heapBytes} B per pick on average`,
      ),
    );
  }
  if (a) {
    for (const level of a.levels) {
      const hand = arm(a, 'hand-made', level.inFlight);
      const pool = arm(a, 'pool-round-robin', level.inFlight);
      const x = pool.rps / hand.rps;
      goals.push(
        goal(
          `a-${level.inFlight}`,
          `(a) ${level.inFlight} in flight: pool (round-robin) throughput within 3 % of arm 3 (hand-made clients)`,
          [`${ratio(x)} (${Math.round(pool.rps)} vs ${Math.round(hand.rps)} req/s)`],
          x >= 0.97,
          `${((1 - x) * 100).toFixed(1)} % below`,
        ),
      );
    }
  }
  if (b) {
    const one = arm(b, 'grpc-js');
    const pool = arm(b, 'pool-round-robin');
    const size = b.plan.size;
    const x = pool.rps / one.rps;
    goals.push(
      goal(
        'b-ideal',
        `(b) pool ×${size} ≥ 90 % of the ${size}.0x ideal over one grpc-js client`,
        [`${ratio(x)} (${Math.round(pool.rps)} vs ${Math.round(one.rps)} req/s)`],
        x >= 0.9 * size,
        `${ratio(x)} where ${ratio(0.9 * size)} was asked`,
      ),
    );
    const proxy = arm(b, 'nest-proxy');
    const service = b.levels[0].arms.find((a) => a.name.startsWith('pool-getService-x'));
    const nestX = service.rps / proxy.rps;
    goals.push(
      goal(
        'b-ideal-nest',
        `(b) getService() over a pool of ${b.plan.issue3Size} ≥ 90 % of the ${b.plan.issue3Size}.0x ideal over Nest ClientGrpcProxy`,
        [ratio(nestX)],
        nestX >= 0.9 * b.plan.issue3Size,
        `${ratio(nestX)} where ${ratio(0.9 * b.plan.issue3Size)} was asked`,
      ),
    );
    const gcp = arm(b, 'grpc-gcp');
    const gcpX = pool.rps / gcp.rps;
    goals.push(
      goal(
        'b-gcp',
        '(b) pool ≥ grpc-gcp (within 3 %: both hold 800 streams)',
        [ratio(gcpX)],
        gcpX >= 0.97,
        ratio(gcpX),
      ),
    );
    const arms = b.levels[0].arms;
    const busiest = Math.max(...arms.flatMap((a) => [a.clientElu, a.serverCpuCores]));
    goals.push(
      goal(
        'b-not-cpu',
        '(b) the stream cap binds, not the CPU: every arm below half a core (client ELU, server CPU)',
        [`at most ${busiest.toFixed(2)}`],
        busiest < 0.5,
        `${busiest.toFixed(2)} of a core`,
      ),
    );
  }
  if (c) {
    const rr = arm(c, 'pool-round-robin');
    for (const strategy of STRATEGIES.filter((s) => s === 'least-loaded' || s === 'power-of-two')) {
      const other = arm(c, `pool-${strategy}`);
      const x = other.p99Ms / rr.p99Ms;
      goals.push(
        goal(
          `c-${strategy}`,
          `(c) ${strategy} p99 at most half of round-robin's`,
          [`${ms(other.p99Ms)} vs ${ms(rr.p99Ms)} = ${ratio(x)}`],
          x <= 0.5,
          `${ratio(x)} where 0.50x was asked`,
        ),
      );
    }
  }
  goals.push(...adaptiveGoals(results));
  return goals;
}
