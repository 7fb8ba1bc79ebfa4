import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { randomSeed, scaled, xorshift32 } from './xorshift32.js';

/** A uniformly random ready member. */
export class RandomStrategy implements PoolStrategy {
  readonly name = 'random';
  /** xorshift32 state, kept here (one load, one store a pick: see `XorShift32`). */
  private state = randomSeed();

  pick(_members: ArrayLike<PoolMemberLoad>, count: number): number {
    const x = xorshift32(this.state);
    this.state = x;
    return scaled(x, count);
  }
}
