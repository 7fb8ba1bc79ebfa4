/**
 * The goals of the adaptive pool's scenarios (issues 12 and 14): step load, renewal under
 * load, reset storm. An arm this build cannot run (its option is unknown) gives a goal that
 * is neither met nor missed: `met: null`, with the reason.
 */
import { ms, ratio } from './format.js';
import { arm, goal } from './goal.js';
import { rollingGoals } from './rolling-report.js';
import { stepFigures } from './step-figures.js';

const notRun = (id, text, reason) => ({ id, goal: text, figure: reason, met: null });

export function adaptiveGoals({ step, renewal, reset, rolling }) {
  return [
    ...stepGoals(step),
    ...renewalGoals(renewal),
    ...resetGoals(reset),
    ...rollingGoals(rolling),
  ];
}

function stepGoals(step) {
  if (!step) return [];
  const { plan } = step;
  const byName = (name) => step.arms.find((a) => a.name === name);
  const fixed8 = stepFigures(byName('fixed-8'), plan);
  const gcp = stepFigures(byName('grpc-gcp'), plan);
  const auto = byName('autoscaled');
  const texts = {
    reach: `(step) autoscaled pool ≥ ${plan.reachShare * 100} % of fixed 8's req/s within ${plan.reachWithinS} s of the step to 1,600`,
    gcp: '(step) autoscaled pool ≥ grpc-gcp at 1,600 in flight (steady req/s)',
    shrink: `(step) back to ≤ ${plan.shrunkMembers} members within ${plan.shrinkWithinS} s of the step down`,
    failed: '(step) 0 failed calls, every arm',
  };
  const failed = step.arms.filter((a) => a.series).map((a) => `${a.label} ${a.failed}`);
  const failedGoal = goal(
    'step-failed',
    texts.failed,
    failed,
    step.arms.every((a) => !a.series || a.failed + a.stuck === 0),
    failed.join(', '),
  );
  if (!auto?.series) {
    const why = auto?.unavailable ?? `options rejected: ${auto?.rejected}`;
    return [
      ...['reach', 'gcp', 'shrink'].map((key) => notRun(`step-${key}`, texts[key], why)),
      failedGoal,
    ];
  }
  const target = plan.reachShare * fixed8.steadyRps;
  const figures = stepFigures(auto, plan, target);
  const gcpX = figures.steadyRps / gcp.steadyRps;
  return [
    goal(
      'step-reach',
      texts.reach,
      [`${figures.reachedAfterS ?? 'never'} s (target ${Math.round(target)} req/s)`],
      figures.reachedAfterS !== undefined && figures.reachedAfterS <= plan.reachWithinS,
      figures.reachedAfterS === undefined ? 'never reached' : `${figures.reachedAfterS} s`,
    ),
    goal(
      'step-gcp',
      texts.gcp,
      [`${Math.round(figures.steadyRps)} vs ${Math.round(gcp.steadyRps)} req/s = ${ratio(gcpX)}`],
      gcpX >= 1,
      ratio(gcpX),
    ),
    goal(
      'step-shrink',
      texts.shrink,
      [`${figures.shrunkAfterS ?? 'not'} s (${figures.membersAtEnd} members at the end)`],
      figures.shrunkAfterS !== undefined && figures.shrunkAfterS <= plan.shrinkWithinS,
      figures.shrunkAfterS === undefined
        ? `${figures.membersAtEnd} members at the end`
        : `${figures.shrunkAfterS} s`,
    ),
    failedGoal,
  ];
}

function renewalGoals(renewal) {
  if (!renewal) return [];
  const texts = {
    failed: '(renewal) 0 failed calls with renewal on',
    ready: '(renewal) getChannel() never finds no member ready',
    p99: `(renewal) p99 within ${renewal.plan.p99Margin * 100} % of the no-renewal baseline`,
  };
  const on = arm(renewal, 'renewal');
  if (!on) {
    const why =
      renewal.unavailable[0]?.unavailable ??
      `options rejected: ${renewal.unavailable[0]?.rejected}`;
    return Object.entries(texts).map(([key, text]) => notRun(`renewal-${key}`, text, why));
  }
  const off = arm(renewal, 'no-renewal');
  const misses = on.extra.noMemberReady + on.extra.noMemberReadyAtCall;
  const x = on.p99Ms / off.p99Ms;
  return [
    goal(
      'renewal-failed',
      texts.failed,
      [String(on.errors + on.stuck)],
      on.errors + on.stuck === 0,
      `${on.errors + on.stuck} failed`,
    ),
    goal(
      'renewal-ready',
      texts.ready,
      [`${misses} of ${on.extra.samples + on.extra.callsStarted} samples`],
      misses === 0,
      `${misses} samples found none`,
    ),
    goal(
      'renewal-p99',
      texts.p99,
      [`${ms(on.p99Ms)} vs ${ms(off.p99Ms)} = ${ratio(x)}`],
      x <= 1 + renewal.plan.p99Margin,
      ratio(x),
    ),
  ];
}

function resetGoals(reset) {
  if (!reset) return [];
  const byName = (name) => reset.arms.find((a) => a.name === name);
  const cellsText = (a) => a.cells.map((c) => `${c.failed} at ${c.rate}/s`).join(', ');
  const control = byName('grpc-js');
  const pool = byName('pool');
  const goals = [];
  if (control) {
    const lost = control.cells.filter((c) => c.rate >= 100).every((c) => c.failed > 0);
    goals.push(
      goal(
        'reset-control',
        "(reset) control: one grpc-js client loses calls at ≥ 100/s (the server's guard is there)",
        [cellsText(control)],
        lost,
        'the guard did not trip: the scenario shows nothing',
      ),
    );
  }
  if (pool) {
    goals.push(
      goal(
        'reset-pool',
        `(reset) ${pool.label}: 0 failed calls among those that should succeed, every rate`,
        [cellsText(pool)],
        pool.cells.every((c) => c.failed + c.stuck === 0),
        cellsText(pool),
      ),
    );
  }
  return goals;
}
