/** The summary tables of the adaptive pool's scenarios: step load, renewal, reset storm. */
import { int, ms, percent, ratio, table } from './format.js';
import { stepFigures } from './step-figures.js';

const why = (a) => a.unavailable ?? `options rejected: ${a.rejected}`;

export function stepTable(step) {
  if (!step) return [];
  const { plan } = step;
  const fixed8 = stepFigures(
    step.arms.find((a) => a.name === 'fixed-8'),
    plan,
  );
  const target = fixed8 && plan.reachShare * fixed8.steadyRps;
  return [
    '',
    `## ${step.plan.title}`,
    '',
    `Phases: ${plan.phases.map((p) => `${int(p.inFlight)} in flight for ${p.ms / 1000} s`).join(', ')} (the autoscaled arm's last phase runs until it is back to ≤ ${plan.shrunkMembers} members, at most ${plan.phases.at(-1).maxMs / 1000} s). Autoscaler settings: ${JSON.stringify(plan.autoscale)}. The chart (step-load.svg) has every second.`,
    '',
    ...table(
      [
        'arm',
        'req/s at 1,600 (steady)',
        `s to ${plan.reachShare * 100} % of fixed 8`,
        'most members',
        `s back to ≤ ${plan.shrunkMembers} members`,
        'failed calls',
      ],
      step.arms.map((a) => {
        if (!a.series) return [a.label, why(a), '', '', '', ''];
        const f = stepFigures(a, plan, target);
        return [
          a.label,
          int(f.steadyRps),
          f.reachedAfterS === undefined ? 'never' : String(f.reachedAfterS),
          String(f.maxMembers),
          f.shrunkAfterS === undefined
            ? `– (${f.membersAtEnd} at the end)`
            : String(f.shrunkAfterS),
          String(a.failed + a.stuck),
        ];
      }),
    ),
  ];
}

export function renewalTable(renewal) {
  if (!renewal) return [];
  const level = renewal.levels[0];
  const base = level.arms.find((a) => a.name === 'no-renewal');
  return [
    '',
    `## ${renewal.plan.title}: ${level.inFlight} in flight, ${renewal.plan.request.delayMs} ms handler`,
    '',
    ...table(
      ['arm', 'req/s', 'p50', 'p99', 'p99 vs no renewal', 'failed calls', 'no member ready'],
      [
        ...level.arms.map((a) => [
          a.label,
          int(a.rps),
          ms(a.p50Ms),
          ms(a.p99Ms),
          ratio(a.p99Ms / base.p99Ms),
          String(a.errors + a.stuck),
          a.extra
            ? `${a.extra.noMemberReady} of ${int(a.extra.samples)} samples, ${a.extra.noMemberReadyAtCall} of ${int(a.extra.callsStarted)} call starts`
            : 'n/a',
        ]),
        ...renewal.unavailable.map((a) => [a.label, why(a), '', '', '', '', '']),
      ],
    ),
  ];
}

/** `100/s, 26.1 s in: INTERNAL`: where the first call that should succeed failed, and how. */
function firstFailure(cells) {
  const cell = cells.find((c) => c.firstFailure);
  if (!cell) return '–';
  const [, at, code] = /^([\d.]+ s): \d+ (\w+)/.exec(cell.firstFailure) ?? [];
  return at ? `${cell.rate}/s, ${at} in: ${code}` : `${cell.rate}/s: ${cell.firstFailure}`;
}

export function resetTable(reset) {
  if (!reset) return [];
  const { plan } = reset;
  return [
    '',
    `## ${plan.title}`,
    '',
    `Per rate, ${plan.cellMs / 1000} s on fresh connections: N calls/s with a ${plan.expiring.deadlineMs} ms deadline on a ${plan.expiring.request.delayMs} ms handler, plus ${plan.steady.perSecond} calls/s of ${plan.steady.request.delayMs} ms that should succeed. Failed calls per minute among those:`,
    '',
    ...table(
      ['arm', ...plan.rates.map((r) => `${r}/s`), 'first failure (all in reset-storm.json)'],
      reset.arms.map((a) =>
        a.unavailable
          ? [a.label, why(a), ...plan.rates.slice(1).map(() => ''), '']
          : [
              a.label,
              ...a.cells.map(
                (c) =>
                  `${c.failedPerMinute} (${c.failed} of ${int(c.steadySent)}, ${percent(c.failed / c.steadySent)})`,
              ),
              firstFailure(a.cells),
            ],
      ),
    ),
  ];
}
