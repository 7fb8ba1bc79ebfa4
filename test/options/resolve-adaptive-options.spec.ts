import { PoolConfigError } from '../../lib/errors/pool.errors.js';
import { resolvePoolOptions } from '../../lib/options/resolve-pool-options.js';

function problems(options: Record<string, unknown>): string[] {
  try {
    resolvePoolOptions('p', { url: '127.0.0.1:1', ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(PoolConfigError);
    return (error as PoolConfigError).problems.map(
      (problem) => `${problem.option} ${problem.detail}`,
    );
  }
  return [];
}

describe('adaptive options (autoscale, maxConnectionAgeMs, warmUp)', () => {
  it('are off by default and the pool keeps its fixed size', () => {
    const resolved = resolvePoolOptions('p', { url: '127.0.0.1:1' });
    expect(resolved).toMatchObject({
      size: 4,
      autoscale: undefined,
      maxConnectionAgeMs: 0,
      maxConnectionAgeJitter: 0.125,
      warmUp: undefined,
      warmUpTimeoutMs: 5_000,
    });
  });

  it('fill in every autoscale default and start at min without a size', () => {
    const resolved = resolvePoolOptions('p', { url: '127.0.0.1:1', autoscale: { min: 2, max: 8 } });
    expect(resolved.size).toBe(2);
    expect(resolved.autoscale).toEqual({
      min: 2,
      max: 8,
      streamsPerMember: 100,
      scaleUpAt: 0.7,
      scaleDownAt: 0.6,
      cooldownMs: 1_000,
      sampleIntervalMs: 30_000,
      windows: 3,
    });
    expect(Object.isFrozen(resolved.autoscale)).toBe(true);
  });

  it('report every problem at once, naming the option and what is allowed', () => {
    expect(
      problems({
        size: 9,
        autoscale: { min: 0, max: 8, scaleUpAt: 0.5, scaleDownAt: 0.6, windos: 2 },
        maxConnectionAgeMs: 500,
        maxConnectionAgeJitter: 0.9,
        warmUp: 'ping',
      }),
    ).toEqual([
      'warmUp is "ping": expected a function (channel) => Promise, e.g. a cheap RPC',
      'maxConnectionAgeMs is 500: expected a whole number from 1000 to 2147483647',
      'autoscale.windos is 2: expected one of min, max, streamsPerMember, scaleUpAt, scaleDownAt, cooldownMs, sampleIntervalMs, windows; did you mean "windows"?',
      'autoscale.min is 0: expected a whole number from 1 to 1024',
      'autoscale.scaleDownAt is 0.6: expected less than autoscale.scaleUpAt (0.5), or the pool would shrink into a size it grows out of again',
      'maxConnectionAgeJitter is 0.9: expected a number from 0 to 0.5',
      'size is 9: expected a whole number from 1 to 8',
    ]);
    expect(problems({ autoscale: { min: 4, max: 2 } })).toEqual([
      'autoscale.max is 2: expected a whole number from 4 to 1024',
    ]);
    expect(problems({ autoscale: 3 })).toEqual([
      'autoscale is 3: expected a plain object',
      'autoscale.min is undefined: expected a whole number from 1 to 1024',
      'autoscale.max is undefined: expected a whole number from 1 to 1024',
    ]);
  });
});
