import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';

/** Each ready member in turn. The default: even spread at the cost of one counter. */
export class RoundRobinStrategy implements PoolStrategy {
  readonly name = 'round-robin';
  private next = 0;

  pick(_members: ArrayLike<PoolMemberLoad>, count: number): number {
    // A compare instead of `%`: cheaper, and correct when count shrank since the last pick.
    let index = this.next;
    if (index >= count) {
      index = 0;
    }
    this.next = index + 1;
    return index;
  }
}
