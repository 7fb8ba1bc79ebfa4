/** Charts of the adaptive pool's scenarios: step load (lines), renewal and reset storm (bars). */
import { int, ms } from './format.js';
import { lineChart } from './svg-lines.js';
import { barChart } from './svg.js';

export function chartStep(step, machine) {
  const arms = step.arms.filter((a) => a.series);
  // Each arm ran on its own clock; the marks are the step times of the first arm (the
  // phases have the same lengths in every arm, up to the autoscaled arm's longer tail).
  const [, up, down] = arms[0]?.phaseStarts ?? [];
  const missing = step.arms
    .filter((a) => !a.series)
    .map((a) => `${a.label}: ${a.unavailable ?? a.rejected}`);
  return lineChart({
    title: `${step.plan.title}`,
    subtitle: [machine, ...missing].join(' · '),
    marks:
      up === undefined
        ? []
        : [
            { t: up, label: '→ 1,600' },
            { t: down, label: '→ 100' },
          ],
    panels: [
      {
        title: 'requests/s, per second',
        lines: arms.map((a) => ({ name: a.label, points: a.series.map((p) => [p.t, p.rps]) })),
      },
      {
        title: 'members (connections the arm holds)',
        lines: arms.map((a) => ({ name: a.label, points: a.series.map((p) => [p.t, p.members]) })),
      },
    ],
  });
}

const kind = (a) => (a.pool ? 'pool' : 'other');

export function chartRenewal(renewal, machine) {
  const level = renewal.levels[0];
  return barChart({
    title: `${renewal.plan.title} (lower is better)`,
    subtitle: [
      machine,
      ...renewal.unavailable.map((a) => `${a.label}: ${a.unavailable ?? a.rejected}`),
    ].join(' · '),
    panels: [
      {
        title: 'p99 latency',
        rows: level.arms.map((a) => ({
          label: a.label,
          value: a.p99Ms,
          text: ms(a.p99Ms),
          kind: kind(a),
        })),
      },
      {
        title: 'failed calls in the measured windows',
        rows: level.arms.map((a) => ({
          label: a.label,
          value: a.errors + a.stuck,
          text: int(a.errors + a.stuck),
          kind: kind(a),
        })),
      },
    ],
  });
}

export function chartReset(reset, machine) {
  const ran = reset.arms.filter((a) => !a.unavailable);
  return barChart({
    title: `${reset.plan.title}: failed calls per minute among calls that should succeed (lower is better)`,
    subtitle: [
      machine,
      ...reset.arms.filter((a) => a.unavailable).map((a) => `${a.label}: ${a.unavailable}`),
    ].join(' · '),
    panels: reset.plan.rates.map((rate, i) => ({
      title: `${rate} expiring calls/s`,
      rows: ran.map((a) => ({
        label: a.label,
        value: a.cells[i]?.failedPerMinute ?? 0,
        text: `${a.cells[i]?.failedPerMinute ?? '–'}/min`,
        kind: a.name.startsWith('pool') ? 'pool' : a.name === 'grpc-js' ? 'baseline' : 'other',
      })),
    })),
  });
}
