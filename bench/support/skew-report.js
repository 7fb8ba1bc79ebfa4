/**
 * The skew scenario's words and files: results/skew.json, its table and goals appended to
 * summary.md, and the lines `run.js` prints. Kept apart from report.js (scenarios a-d).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { int, ms, percent, ratio, table } from './format.js';

/** Lines for the console and summary.md; writes skew.json. Nothing when skew did not run. */
export function skewReport(results, outDir) {
  const skew = results.skew;
  if (!skew) return [];
  writeFileSync(
    join(outDir, 'skew.json'),
    `${JSON.stringify({ machine: results.machine, ...skew }, null, 2)}\n`,
  );
  const byName = (name) => skew.arms.find((a) => a.name === `pool-${name}`);
  const rr = byName('round-robin');
  const ll = byName('least-loaded');
  const lines = [
    '',
    `## ${skew.plan.title}`,
    '',
    `Client event-loop utilisation over all rounds: ${percent(skew.clientElu)}.`,
    '',
    ...table(
      [
        'strategy',
        'req/s',
        'p50',
        'p99',
        'p99 vs round-robin',
        'p99 vs least-loaded',
        'req/s vs least-loaded',
        'calls to the slow backend',
        'client CPU',
        'server CPU',
      ],
      skew.arms.map((a) => [
        a.name.replace(/^pool-/, ''),
        int(a.rps),
        ms(a.p50Ms),
        ms(a.p99Ms),
        ratio(a.p99Ms / rr.p99Ms),
        ratio(a.p99Ms / ll.p99Ms),
        ratio(a.rps / ll.rps),
        percent(a.slowShare),
        `${a.clientCores} core`,
        `${a.serverCores} core`,
      ]),
    ),
    '',
    `Recovery: the slow backend turns fast under load; time until a 1 s window sends >= ${percent(skew.plan.recoveryShare)} of calls to it (bound ${skew.plan.recoveryBoundMs / 1000} s):`,
    '',
    ...table(
      ['strategy', 'share before', 'back after', 'share by window'],
      skew.recovery.map((r) => [
        r.name,
        percent(r.steadyShare),
        r.recoveredMs === null ? 'not within the bound' : ms(r.recoveredMs),
        `${r.sharesPercentByWindow.join(', ')} %`,
      ]),
    ),
    '',
    ...skewGoals(skew, byName, rr, ll).map(
      (g) => `- ${g.met ? 'met' : 'MISSED'}: ${g.goal} (${g.figure})`,
    ),
  ];
  appendFileSync(join(outDir, 'summary.md'), `${lines.join('\n')}\n`);
  return lines;
}

/** The goals for each peak-ewma variant, and the recovery bound. */
function skewGoals(skew, byName, rr, ll) {
  const goals = [];
  for (const name of ['peak-ewma', 'peak-ewma-sq']) {
    const a = byName(name);
    goals.push({
      goal: `${name}: p99 <= 0.5x round-robin's and <= 0.5x least-loaded's, req/s >= least-loaded's`,
      figure: `${ratio(a.p99Ms / rr.p99Ms)}, ${ratio(a.p99Ms / ll.p99Ms)}, ${ratio(a.rps / ll.rps)}`,
      met: a.p99Ms <= 0.5 * rr.p99Ms && a.p99Ms <= 0.5 * ll.p99Ms && a.rps >= ll.rps,
    });
  }
  for (const r of skew.recovery.filter((x) => x.name.startsWith('peak-ewma'))) {
    goals.push({
      goal: `${r.name}: share of the recovered backend near 50 % within 30 s`,
      figure: r.recoveredMs === null ? 'not within the bound' : ms(r.recoveredMs),
      met: r.recoveredMs !== null && r.recoveredMs <= 30_000,
    });
  }
  return goals;
}
