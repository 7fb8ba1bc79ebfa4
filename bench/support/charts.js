/** One chart per scenario, built from that scenario's results (see `svg.js`). */
import { STRATEGIES } from '../plan.js';
import { int, ms, ns, percent, signed } from './format.js';
import { pickRows } from './goal.js';
import { barChart } from './svg.js';

export function chartHot(hot, machine) {
  const pickPanel = (load) => ({
    title: `getChannel() per pick, p50, ${load} pool${load === 'busy' ? ' (every member holds 1-3 real calls)' : ''}`,
    rows: pickRows(hot, 'round-robin', load).flatMap((floorRow, i) => [
      { heading: `pool size ${floorRow.size}` },
      {
        label: 'floor: bare array round-robin',
        value: floorRow.floor.p50Ns,
        text: ns(floorRow.floor.p50Ns),
        kind: 'baseline',
      },
      ...STRATEGIES.map((strategy) => {
        const row = pickRows(hot, strategy, load)[i];
        return {
          label: strategy,
          value: row.pool.p50Ns,
          text: `${ns(row.pool.p50Ns)} · ${row.pool.heapBytes.toFixed(2)} B/pick`,
          kind: 'pool',
        };
      }),
    ]),
  });
  const { raw, pool, size } = hot.createCall;
  return barChart({
    title: 'Hot path: picking a member (mitata, lower is better)',
    subtitle: machine,
    panels: [
      pickPanel('idle'),
      pickPanel('busy'),
      {
        title: 'createCall() + cancel, per call',
        rows: [
          { label: 'raw grpc-js Channel', value: raw.p50Ns, text: ns(raw.p50Ns), kind: 'baseline' },
          {
            label: `pool.channel (${size} members)`,
            value: pool.p50Ns,
            text: `${ns(pool.p50Ns)} (${signed(pool.p50Ns - raw.p50Ns)} ns)`,
            kind: 'pool',
          },
        ],
      },
    ],
  });
}

/** Colour of an arm: the pool's, the baseline's (what the ratios divide by) or the others'. */
const kindOf = (a, baseline) => (a.pool ? 'pool' : a.name === baseline ? 'baseline' : 'other');

function throughputPanels(scenario, baseline) {
  return scenario.levels.map((level) => ({
    title: `${level.inFlight} in flight: requests/s (median of rounds), p50 / p99`,
    rows: level.arms.map((a) => ({
      label: a.label,
      value: a.rps,
      text: `${int(a.rps)}/s · p50 ${ms(a.p50Ms)} · p99 ${ms(a.p99Ms)}`,
      kind: kindOf(a, baseline),
    })),
  }));
}

export function chartA(a, machine) {
  return barChart({
    title: `${a.plan.title} (higher is better)`,
    subtitle: machine,
    panels: throughputPanels(a, 'hand-made'),
  });
}

export function chartB(b, machine) {
  const level = b.levels[0];
  return barChart({
    title: `${b.plan.title} (higher is better)`,
    subtitle: machine,
    panels: [
      ...throughputPanels(b, 'grpc-js'),
      {
        title: 'p99 latency (lower is better)',
        rows: level.arms.map((a) => ({
          label: a.label,
          value: a.p99Ms,
          text: ms(a.p99Ms),
          kind: kindOf(a, 'grpc-js'),
        })),
      },
    ],
  });
}

export function chartC(c, machine) {
  const arms = c.levels[0].arms;
  const slowShare = (a) =>
    (a.callsByTarget[c.targets.slow] ?? 0) /
    Object.values(a.callsByTarget).reduce((x, y) => x + y, 0);
  const panel = (title, key) => ({
    title,
    rows: arms.map((a) => ({
      label: a.label,
      value: a[key],
      text: `${ms(a[key])}${key === 'p99Ms' ? ` · ${percent(slowShare(a))} of calls to the slow server` : ''}`,
      kind: 'pool',
    })),
  });
  return barChart({
    title: `${c.plan.title}: ${c.levels[0].inFlight} in flight (lower is better)`,
    subtitle: machine,
    panels: [
      panel('p99 latency', 'p99Ms'),
      panel('p90 latency', 'p90Ms'),
      panel('p50 latency', 'p50Ms'),
    ],
  });
}

export function chartD(d, machine) {
  return barChart({
    title: `${d.plan.title} (lower is better)`,
    subtitle: machine,
    panels: [
      {
        title: `ms from app.init() until every member is READY (median of ${d.plan.repeats})`,
        rows: d.sizes.flatMap((s) => [
          { heading: `size ${s.size}` },
          {
            label: `${s.size} raw grpc-js channels`,
            value: s.raw.allMs,
            text: ms(s.raw.allMs),
            kind: 'baseline',
          },
          {
            label: `pool of ${s.size}`,
            value: s.pool.allMs,
            text: `${ms(s.pool.allMs)} (first member ${ms(s.pool.firstMs)})`,
            kind: 'pool',
          },
        ]),
      },
    ],
  });
}
