/**
 * The goals, checked against one run's figures. Each goal says what it compares,
 * the figure, whether it was met and by how much it was missed.
 */
import { STRATEGIES } from '../plan.js';
import { ms, ns, ratio } from './format.js';

/** The arm called `name` at the level with `inFlight` calls in flight. */
export function arm(scenario, name, inFlight) {
  const level = inFlight
    ? scenario.levels.find((l) => l.inFlight === inFlight)
    : scenario.levels[0];
  return level?.arms.find((a) => a.name === name);
}

/** Rows of the hot-path results of `strategy` at `load`. */
export function pickRows(hot, strategy, load) {
  return hot.pick.find((p) => p.strategy === strategy).rows.filter((r) => r.load === load);
}

function goal(id, text, figures, met, miss) {
  return { id, goal: text, figure: figures.join(', '), met, ...(met ? {} : { miss }) };
}

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
    const pool = arm(b, 'pool-round-robin');
    for (const [id, name, label] of [
      ['b-3x-plain', 'grpc-js', 'arm 1 (one grpc-js client)'],
      ['b-3x-nest', 'nest-proxy', 'arm 2 (Nest ClientGrpcProxy)'],
    ]) {
      const x = pool.rps / arm(b, name).rps;
      goals.push(
        goal(id, `(b) pool ≥ 3x ${label}`, [ratio(x)], x >= 3, `${ratio(x)} of the 3x asked`),
      );
    }
    const gcp = arm(b, 'grpc-gcp');
    const x = pool.rps / gcp.rps;
    goals.push(goal('b-gcp', '(b) pool ≥ arm 4 (grpc-gcp)', [ratio(x)], x >= 1, `${ratio(x)}`));
    goals.push(
      goal(
        'b-p99',
        "(b) pool p99 lower than grpc-gcp's",
        [`${ms(pool.p99Ms)} vs ${ms(gcp.p99Ms)}`],
        pool.p99Ms < gcp.p99Ms,
        `${ratio(pool.p99Ms / gcp.p99Ms)} of grpc-gcp's`,
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
  return goals;
}
