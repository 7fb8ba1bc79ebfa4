import type { PeakEwmaTuning } from '../interfaces/grpc-pool-options.interface.js';
import type {
  PoolMemberLoad,
  PoolStrategy,
  PoolStrategyName,
} from '../interfaces/pool-strategy.interface.js';
import { describeValue } from '../options/option-checker.js';
import { LeastLoadedStrategy } from './least-loaded.strategy.js';
import { PeakEwmaStrategy } from './peak-ewma.strategy.js';
import { PowerOfTwoStrategy } from './power-of-two.strategy.js';
import { RandomStrategy } from './random.strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

const FACTORIES: Readonly<
  Record<PoolStrategyName, (peakEwma: Readonly<PeakEwmaTuning> | undefined) => PoolStrategy>
> = {
  'round-robin': () => new RoundRobinStrategy(),
  random: () => new RandomStrategy(),
  'power-of-two': () => new PowerOfTwoStrategy(),
  'least-loaded': () => new LeastLoadedStrategy(),
  'peak-ewma': (peakEwma) => new PeakEwmaStrategy(peakEwma?.costExponent),
};

/** Names of the built-in strategies, in the order the docs list them. */
export const STRATEGY_NAMES = Object.keys(FACTORIES) as readonly PoolStrategyName[];

/** Whether `name` is a built-in strategy. */
export function isStrategyName(name: string): name is PoolStrategyName {
  return Object.hasOwn(FACTORIES, name);
}

/**
 * A fresh strategy for one pool (each pool keeps its own counters). A user's strategy is
 * wrapped so that an index out of range fails with a message naming it, not a TypeError
 * from deep inside the pool.
 */
export function createStrategy(
  pool: string,
  strategy: PoolStrategyName | PoolStrategy,
  peakEwma?: Readonly<PeakEwmaTuning>,
): PoolStrategy {
  if (typeof strategy === 'string') {
    return FACTORIES[strategy](peakEwma);
  }
  // A built-in instance (`strategy: new RoundRobinStrategy()`) given to several pools would
  // share its counter or random state between them: each pool gets its own.
  const builtIn = BUILT_INS.find(([type]) => strategy.constructor === type);
  return builtIn ? FACTORIES[builtIn[1]](peakEwma) : new CheckedStrategy(pool, strategy);
}

const BUILT_INS: ReadonlyArray<readonly [abstract new () => PoolStrategy, PoolStrategyName]> = [
  [RoundRobinStrategy, 'round-robin'],
  [RandomStrategy, 'random'],
  [PowerOfTwoStrategy, 'power-of-two'],
  [LeastLoadedStrategy, 'least-loaded'],
];

class CheckedStrategy implements PoolStrategy {
  readonly name: string;

  constructor(
    private readonly pool: string,
    private readonly inner: PoolStrategy,
  ) {
    this.name = inner.name;
  }

  pick(members: ArrayLike<PoolMemberLoad>, count: number): number {
    const index = this.inner.pick(members, count);
    // Unsigned compare: rejects negatives, NaN and fractions in one test (after the type
    // check: `>>>` throws a TypeError on a bigint).
    if (typeof index !== 'number' || index >>> 0 !== index || index >= count) {
      throw new RangeError(
        `gRPC pool "${this.pool}": strategy "${this.name}" picked ${describeValue(index)}; pick() must return a whole number from 0 to count-1 (count was ${count})`,
      );
    }
    return index;
  }
}
