import { PoolConfigError, type PoolConfigProblem } from '../errors/pool.errors.js';

/** Shows a bad value in an error message without dumping objects (or key material) whole. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 80 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (typeof value === 'bigint') {
    return `${value}n`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  return typeof value === 'object'
    ? `an object (${value.constructor?.name ?? 'Object'})`
    : `a ${typeof value}`;
}

/**
 * The one name in `names` that `given` is one edit away from (a letter added, dropped,
 * changed, or two neighbours swapped; case ignored), or `undefined` when none or several are.
 */
export function oneEditAway(given: string, names: Iterable<string>): string | undefined {
  const near = [...names].filter((name) =>
    editDistanceAtMostOne(given.toLowerCase(), name.toLowerCase()),
  );
  return near.length === 1 ? near[0] : undefined;
}

/** `"; did you mean "x"?"` when `given` is one edit away from one of `names`, else `''`. */
export function didYouMean(given: unknown, names: Iterable<string>): string {
  const near = typeof given === 'string' ? oneEditAway(given, names) : undefined;
  return near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`;
}

/** Damerau-Levenshtein (optimal string alignment) distance <= 1, in one pass. */
function editDistanceAtMostOne(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) {
    return a === b;
  }
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) {
    i++;
  }
  if (a.length === b.length) {
    const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    return swapped || a.slice(i + 1) === b.slice(i + 1);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * Type and range checks for one pool's options. By default the first problem throws a
 * {@link PoolConfigError}; with `collect` every problem is gathered and {@link finish}
 * throws them all in one error, so a user fixes a config in one round instead of one per
 * field.
 */
export class OptionChecker {
  private readonly problems: PoolConfigProblem[] = [];

  constructor(
    private readonly pool: string,
    private readonly collect = false,
  ) {}

  /** Records (or, not collecting, throws) `option` as `is <value>: expected <allowed>`. */
  report(option: string, value: unknown, allowed: string): void {
    this.problem(option, `is ${describeValue(value)}: expected ${allowed}`);
  }

  /** Records (or, not collecting, throws) a problem with its whole detail text. */
  problem(option: string, detail: string): void {
    this.problems.push({ option, detail });
    if (!this.collect) {
      this.finish();
    }
  }

  /** Reports a problem and stops: the checks after it cannot run without a valid value. */
  fail(option: string, value: unknown, allowed: string): never {
    this.report(option, value, allowed);
    this.finish();
    throw new Error('unreachable: finish() throws when a problem was reported');
  }

  /** Throws one {@link PoolConfigError} carrying every problem reported so far, if any. */
  finish(): void {
    if (this.problems.length > 0) {
      throw new PoolConfigError(this.pool, this.problems);
    }
  }

  /** `value` when it is a whole number in `[min, max]`; otherwise reports it and returns `min`. */
  integer(option: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.report(option, value, `a whole number from ${min} to ${max}`);
      return min;
    }
    return value;
  }

  /**
   * The own entries of an object option, without those set to `undefined` (left out, as
   * `keepaliveTimeMs: config.get('UNSET')` means), in a copy with no prototype. A value
   * that is not a plain object is reported and reads as empty.
   */
  record(option: string, value: unknown): Record<string, unknown> {
    const entries =
      value === undefined
        ? []
        : value === null || typeof value !== 'object' || Array.isArray(value)
          ? (this.report(option, value, 'a plain object'), [])
          : Object.entries(value).filter(([, entry]) => entry !== undefined);
    return Object.assign(
      Object.create(null) as Record<string, unknown>,
      Object.fromEntries(entries),
    );
  }

  /** Reports every key of the object option `option` that is not one of `known`, with a "did you mean". */
  knownKeys(option: string, given: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(given)) {
      if (!known.includes(key)) {
        this.report(
          `${option}.${key}`,
          given[key],
          `one of ${known.join(', ')}${didYouMean(key, known)}`,
        );
      }
    }
  }
}
