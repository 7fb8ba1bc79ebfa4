import { PoolArgumentError } from '../errors/pool.errors.js';
import { describeValue } from './option-checker.js';

/**
 * Throws {@link PoolArgumentError} unless `value` is a whole number in `[min, max]`.
 * `context` is added to the message, e.g. the pool's size.
 */
export function checkWholeNumber(
  pool: string,
  method: string,
  value: unknown,
  min: number,
  max: number,
  context?: string,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const allowed =
      min > max
        ? 'no value: the pool is already at its limit'
        : `a whole number from ${min} to ${max}`;
    throw new PoolArgumentError(
      pool,
      method,
      `got ${describeValue(value)}: expected ${allowed}${context ? ` (${context})` : ''}`,
    );
  }
}
