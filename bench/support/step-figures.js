/**
 * What the step-load series say: each arm's steady throughput at 1,600 in flight, how soon
 * after the step up it reached a share of a reference, and how soon after the step down it
 * was back to a few members.
 */
import { median } from './stats.js';

/** Seconds after a step before the throughput counts as steady. */
const SETTLE_S = 10;

/**
 * @param {{ series: Array<{ t: number, rps: number, members: number }>, phaseStarts: number[] }} arm
 * @param {{ shrunkMembers: number }} plan
 * @param {number} [reference] req/s to reach (e.g. 90 % of fixed 8's steady throughput)
 */
export function stepFigures(arm, plan, reference) {
  if (!arm?.series) return undefined;
  const [, up, down] = arm.phaseStarts;
  const high = arm.series.filter((p) => p.t > up && p.t <= down);
  const low = arm.series.filter((p) => p.t > down);
  const reached = reference === undefined ? undefined : high.find((p) => p.rps >= reference);
  const shrunk = low.find((p) => p.members <= plan.shrunkMembers);
  return {
    steadyRps: median(high.filter((p) => p.t > up + SETTLE_S).map((p) => p.rps)),
    reachedAfterS: reached ? reached.t - up : undefined,
    maxMembers: Math.max(...arm.series.map((p) => p.members)),
    membersAtEnd: arm.series.at(-1)?.members,
    shrunkAfterS: shrunk ? shrunk.t - down : undefined,
  };
}
