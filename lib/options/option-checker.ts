import { PoolConfigError } from '../errors/pool.errors.js';

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

/** Type and range checks for one pool's options, each failing with a {@link PoolConfigError}. */
export class OptionChecker {
  constructor(private readonly pool: string) {}

  fail(option: string, value: unknown, allowed: string): never {
    throw new PoolConfigError(this.pool, option, `is ${describeValue(value)}: expected ${allowed}`);
  }

  integer(option: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(option, value, `a whole number from ${min} to ${max}`);
    }
    return value;
  }

  /**
   * The own entries of an object option, without those set to `undefined` (left out, as
   * `keepaliveTimeMs: config.get('UNSET')` means), in a copy with no prototype.
   */
  record(option: string, value: unknown): Record<string, unknown> {
    if (value === undefined) {
      return {};
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(option, value, 'a plain object');
    }
    const entries = Object.entries(value).filter(([, entry]) => entry !== undefined);
    return Object.assign(
      Object.create(null) as Record<string, unknown>,
      Object.fromEntries(entries),
    );
  }
}
