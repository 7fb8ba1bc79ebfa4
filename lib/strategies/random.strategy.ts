import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { XorShift32 } from './xorshift32.js';

/** A uniformly random ready member. */
export class RandomStrategy implements PoolStrategy {
  readonly name = 'random';
  private readonly random = new XorShift32();

  pick(_members: ArrayLike<PoolMemberLoad>, count: number): number {
    return this.random.below(count);
  }
}
