import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';

/**
 * The member with the fewest calls in flight, found by a scan (O(size), fine for the
 * pool sizes that make sense). The scan starts one further each time so ties rotate.
 */
export class LeastLoadedStrategy implements PoolStrategy {
  readonly name = 'least-loaded';
  private start = 0;

  pick(members: ArrayLike<PoolMemberLoad>, count: number): number {
    let index = this.start;
    if (index >= count) {
      index = 0;
    }
    this.start = index + 1;
    let best = index;
    let bestLoad = members[index].inFlight;
    for (let step = 1; step < count && bestLoad > 0; step++) {
      if (++index === count) {
        index = 0;
      }
      const load = members[index].inFlight;
      if (load < bestLoad) {
        best = index;
        bestLoad = load;
      }
    }
    return best;
  }
}
