import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { randomSeed, scaled, xorshift32 } from './xorshift32.js';

/**
 * Power of two choices: two distinct random members, the one with fewer calls in flight
 * wins (ties go to the first). Nearly as even as least-loaded at the cost of two reads.
 */
export class PowerOfTwoStrategy implements PoolStrategy {
  readonly name = 'power-of-two';
  /** xorshift32 state, kept here (one load, one store a pick: see `XorShift32`). */
  private state = randomSeed();

  pick(members: ArrayLike<PoolMemberLoad>, count: number): number {
    if (count === 1) {
      return 0;
    }
    const x = xorshift32(this.state);
    this.state = x;
    // Both draws from one step: the top and the bottom 16 bits, each scaled to its range by
    // a multiply and a shift (int32 all along: no division, no float). Exact below 2^15
    // members (pools hold at most 1,024); each index's share is off by less than
    // count / 65,536 (0.01 % at 8 members).
    if (count > 0x8000) {
      return this.pickOfMany(members, count, x);
    }
    const first = ((x >>> 16) * count) >>> 16;
    // Draw from the other count-1 members and skip over `first`: always distinct. Both
    // choices are integer arithmetic on sign bits, not branches or booleans: the outcomes
    // are random, so a branch would be mispredicted half the time (~7 ns each here).
    const drawn = ((x & 0xffff) * (count - 1)) >>> 16;
    return this.fewer(members, first, drawn + ((first - drawn - 1) >>> 31)); // +1 if drawn >= first
  }

  /** `first` or `other`, whichever has fewer calls in flight (`first` on a tie); no branch. */
  private fewer(members: ArrayLike<PoolMemberLoad>, first: number, other: number): number {
    const takeOther = (members[other].inFlight - members[first].inFlight) >>> 31;
    return first ^ ((first ^ other) & -takeOther);
  }

  /** The same choice for a table too large for 16-bit draws: two full 32-bit steps. */
  private pickOfMany(members: ArrayLike<PoolMemberLoad>, count: number, x: number): number {
    const first = scaled(x, count);
    const y = xorshift32(x);
    this.state = y;
    const drawn = scaled(y, count - 1);
    return this.fewer(members, first, drawn + ((first - drawn - 1) >>> 31));
  }
}
