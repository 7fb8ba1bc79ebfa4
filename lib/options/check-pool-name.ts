import { PoolConfigError } from '../errors/pool.errors.js';

/** Throws {@link PoolConfigError} unless a module's `name` extra is a non-empty string. */
export function checkPoolName(name: unknown, example: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new PoolConfigError(
      String(name),
      'name',
      `must be a non-empty string, e.g. "${example}"`,
    );
  }
  return name;
}
