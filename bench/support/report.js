/**
 * Turns one run's results into files and words: a JSON file and an SVG chart per scenario,
 * summary.md (tables of medians and ratios, the goals) and the lines `run.js` prints.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STRATEGIES } from '../plan.js';
import { chartRenewal, chartReset, chartStep } from './charts-adaptive.js';
import { chartA, chartB, chartC, chartD, chartHot } from './charts.js';
import { bytes, cores, int, ms, ns, percent, ratio, signed, table } from './format.js';
import { checkGoals } from './goals.js';
import { arm, pickRows } from './goal.js';
import { machineLine } from './machine.js';
import { renewalTable, resetTable, stepTable } from './report-adaptive.js';
import { rollingTable } from './rolling-report.js';

const FILES = {
  hot: 'hot-path',
  a: 'scenario-a',
  b: 'scenario-b',
  c: 'scenario-c',
  d: 'scenario-d',
  step: 'step-load',
  renewal: 'renewal',
  reset: 'reset-storm',
};
const CHARTS = {
  hot: chartHot,
  a: chartA,
  b: chartB,
  c: chartC,
  d: chartD,
  step: chartStep,
  renewal: chartRenewal,
  reset: chartReset,
};
const metText = (g) => (g.met === null ? 'not run' : g.met ? 'yes' : `**no**: ${g.miss}`);

export function writeReport(results, outDir) {
  const machine = machineLine(results.machine);
  const write = (name, content) => writeFileSync(join(outDir, name), content);
  for (const [key, file] of Object.entries(FILES)) {
    if (!results[key]) continue;
    write(
      `${file}.json`,
      `${JSON.stringify({ machine: results.machine, ...results[key] }, null, 2)}\n`,
    );
    write(`${file}.svg`, CHARTS[key](results[key], machine));
  }
  // No chart for the rolling restart: its figures are counts, all in the table.
  if (results.rolling) {
    write(
      'rolling-restart.json',
      `${JSON.stringify({ machine: results.machine, ...results.rolling }, null, 2)}\n`,
    );
  }
  const goals = checkGoals(results);
  write('goals.json', `${JSON.stringify({ machine: results.machine, goals }, null, 2)}\n`);
  const lines = [
    `# Benchmark summary${results.quick ? ' (--quick)' : ''}`,
    '',
    `Machine: ${machine}; load average at end ${results.machine.loadAverageAtEnd.join(' / ')}; run took ${results.machine.durationS} s.`,
    'Compare absolute figures only within one run.',
    ...hotTables(results.hot),
    ...callTables(results.a, 'hand-made', 'vs arm 3'),
    ...callTables(results.b, 'grpc-js', 'vs arm 1'),
    ...scenarioCTable(results.c),
    ...scenarioDTable(results.d),
    ...stepTable(results.step),
    ...renewalTable(results.renewal),
    ...rollingTable(results.rolling),
    ...resetTable(results.reset),
    '',
    '## Goals',
    '',
    ...table(
      ['goal', 'figure', 'met'],
      goals.map((g) => [g.goal, g.figure, metText(g)]),
    ),
  ];
  write('summary.md', `${lines.join('\n')}\n`);
  return lines;
}

function hotTables(hot) {
  if (!hot) return [];
  const lines = [];
  for (const load of ['idle', 'busy']) {
    const sizes = pickRows(hot, 'round-robin', load).map((r) => r.size);
    lines.push(
      '',
      `## Hot path: getChannel() p50 per pick, ${load} pool${load === 'busy' ? ' (every member holds 1-3 real calls)' : ''}`,
      '',
      ...table(
        ['pool size', 'floor (bare array pick)', ...STRATEGIES, 'bytes per pick (worst strategy)'],
        sizes.map((size, i) => {
          const rows = STRATEGIES.map((s) => pickRows(hot, s, load)[i]);
          return [
            String(size),
            ns(rows[0].floor.p50Ns),
            ...rows.map((r) => `${ns(r.pool.p50Ns)} (${ratio(r.pool.p50Ns / r.floor.p50Ns)})`),
            bytes(Math.max(...rows.map((r) => r.pool.heapBytes))),
          ];
        }),
      ),
    );
  }
  if (hot.mixed) {
    const rows = (load) => hot.mixed.rows.filter((r) => r.load === load);
    lines.push(
      '',
      `## Hot path, every strategy in one process: getChannel() p50 per pick, pool size ${hot.mixed.size}`,
      '',
      'A pool per built-in strategy (and one with a user strategy), all picked through the same call sites before they are timed; each timed from a call site of its own.',
      '',
      ...table(
        ['load', 'floor (bare array pick)', ...STRATEGIES, 'bytes per pick (worst strategy)'],
        ['idle', 'busy'].map((load) => {
          const byLoad = rows(load);
          return [
            load,
            ns(byLoad[0].floor.p50Ns),
            ...STRATEGIES.map((s) => {
              const r = byLoad.find((row) => row.strategy === s);
              return `${ns(r.pool.p50Ns)} (${ratio(r.pool.p50Ns / r.floor.p50Ns)})`;
            }),
            bytes(Math.max(...byLoad.map((r) => r.pool.heapBytes))),
          ];
        }),
      ),
    );
  }
  const { raw, pool, size } = hot.createCall;
  lines.push(
    '',
    `createCall + cancel, per call: raw grpc-js Channel ${ns(raw.p50Ns)} (${bytes(raw.heapBytes)}), pool.channel (${size} members) ${ns(pool.p50Ns)} (${bytes(pool.heapBytes)}): ${signed(pool.p50Ns - raw.p50Ns)} ns and ${signed(pool.heapBytes - raw.heapBytes)} B per call.`,
  );
  return lines;
}

function callTables(scenario, baseline, baselineLabel) {
  if (!scenario) return [];
  const lines = [];
  for (const level of scenario.levels) {
    const base = arm(scenario, baseline, level.inFlight);
    lines.push(
      '',
      `## ${scenario.plan.title}: ${level.inFlight} in flight`,
      '',
      ...table(
        [
          'arm',
          'req/s (median of rounds)',
          baselineLabel,
          'p50',
          'p99',
          'client CPU/call',
          'server CPU/call',
          'client ELU',
          'client CPU',
          'server CPU',
          'errors',
        ],
        level.arms.map((a) => [
          a.label,
          int(a.rps),
          ratio(a.rps / base.rps),
          ms(a.p50Ms),
          ms(a.p99Ms),
          `${int(a.clientCpuUsPerCall)} µs`,
          `${int(a.serverCpuUsPerCall)} µs`,
          percent(a.clientElu),
          cores(a.clientCpuCores),
          cores(a.serverCpuCores),
          String(a.errors + a.stuck),
        ]),
      ),
    );
  }
  if (scenario.scenario === 'b') {
    const proxy = arm(scenario, 'nest-proxy');
    const service = scenario.levels[0].arms.find((a) => a.name.startsWith('pool-getService-x'));
    lines.push(
      '',
      `Issue 3 pair: Nest ClientGrpcProxy ${int(proxy.rps)} req/s vs getService() over a pool of ${scenario.plan.issue3Size} ${int(service.rps)} req/s = ${ratio(service.rps / proxy.rps)}.`,
    );
  }
  return lines;
}

function scenarioCTable(c) {
  if (!c) return [];
  const level = c.levels[0];
  return [
    '',
    `## ${c.plan.title}: ${level.inFlight} in flight, pool of ${c.plan.size} over 2 servers (${c.plan.request.delayMs} ms and ${c.plan.request.delayMs * c.plan.slowdown} ms handlers)`,
    '',
    ...table(
      ['strategy', 'req/s', 'p50', 'p90', 'p99', 'p99 vs round-robin', 'calls to the slow server'],
      STRATEGIES.map((s) => {
        const a = arm(c, `pool-${s}`);
        const total = Object.values(a.callsByTarget).reduce((x, y) => x + y, 0);
        return [
          s,
          int(a.rps),
          ms(a.p50Ms),
          ms(a.p90Ms),
          ms(a.p99Ms),
          ratio(a.p99Ms / arm(c, 'pool-round-robin').p99Ms),
          percent((a.callsByTarget[c.targets.slow] ?? 0) / total),
        ];
      }),
    ),
  ];
}

function scenarioDTable(d) {
  if (!d) return [];
  return [
    '',
    `## ${d.plan.title} (median of ${d.plan.repeats})`,
    '',
    ...table(
      [
        'pool size',
        'pool: first member ready',
        'pool: all ready',
        'raw channels: all ready',
        'pool vs raw',
      ],
      d.sizes.map((s) => [
        String(s.size),
        ms(s.pool.firstMs),
        ms(s.pool.allMs),
        ms(s.raw.allMs),
        ratio(s.pool.allMs / s.raw.allMs),
      ]),
    ),
  ];
}
