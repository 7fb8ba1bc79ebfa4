/**
 * How many fast-check runs each model test makes. CI runs these numbers; raise them locally
 * with MODEL_RUNS_FACTOR (e.g. 10) for a longer hunt. A failing run prints its seed and
 * path: replay it with `fc.assert(..., { seed, path })`.
 */
const factor = Math.max(1, Number(process.env.MODEL_RUNS_FACTOR) || 1);

export const MODEL_RUNS = {
  /** (a) `fc.commands` over `PoolStateService` with fake workers and real counted members. */
  slotTable: 1_000 * factor,
  /** (b) `fc.scheduler` races over `PoolStateService` and the real `PoolScaler`. */
  slotTableRace: 1_000 * factor,
  /** (c) `fc.commands` over a real `PoolService` in a Nest testing module on loopback. */
  poolService: 50 * factor,
  /** (d) `fc.commands` over the real `PoolMembership`: the member lifecycle, every trigger. */
  lifecycle: 1_000 * factor,
  /** (d) each mutant of a guard: runs to find the counterexample (it stops at the first). */
  lifecycleMutant: 300 * factor,
} as const;

/** A test's jest timeout: `baseMs` for the CI run counts, scaled with them. */
export function timeoutFor(baseMs: number): number {
  return baseMs * factor;
}

/** Longest command sequence per run (for the race test: batches of 1-3 operations). */
export const MAX_COMMANDS = {
  slotTable: 60,
  slotTableRace: 12,
  poolService: 12,
  lifecycle: 40,
} as const;

/** Prints one line the closing note can quote: which model test, how many runs, what it covered. */
export function reportRuns(suite: keyof typeof MODEL_RUNS, extra: Record<string, unknown>): void {
  console.log(JSON.stringify({ fastCheck: suite, numRuns: MODEL_RUNS[suite], factor, ...extra }));
}
