import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { PEAK_EWMA_DEFAULTS } from '../grpc-pool.constants.js';
import { XorShift32 } from './xorshift32.js';

/** Up to this many ready members the pick scans them all; above, two random choices. */
export const PEAK_EWMA_SCAN_LIMIT = 16;

/**
 * Load of a member with calls in flight and no measurement yet: above any measured load
 * (a latency of 10^70 ms squared is still below it), and ordered by calls in flight.
 */
const UNMEASURED_BUSY = 1e150;

/**
 * Latency-aware choice (Finagle's and Linkerd's peak-EWMA balancer): the member with the
 * least `cost × (inFlight + 1)`, `cost` its peak-EWMA latency (see `PeakEwma`), or its
 * square (the default, `exponent: 2`), which keeps even the small share of calls that
 * would otherwise set the p99 off a slow backend.
 *
 * - Up to {@link PEAK_EWMA_SCAN_LIMIT} members it compares every one; above, two distinct
 *   random members (a full scan gets dear, and two choices still avoid the worst).
 * - Equal loads are broken at random (reservoir sampling: the k-th equal wins with
 *   probability 1/k), so no member is favoured by its slot.
 * - A member not measured yet counts as free while idle and as busier than any measured
 *   member while it has a call in flight: it gets one call at a time until its first answer.
 *
 * The pick reads two fields per member and no clock, and allocates nothing. Made per pool
 * (the pool also turns on latency keeping for its members), so it is not exported.
 */
export class PeakEwmaStrategy implements PoolStrategy {
  readonly name = 'peak-ewma';
  private readonly random = new XorShift32();

  constructor(private readonly exponent: 1 | 2 = PEAK_EWMA_DEFAULTS.costExponent) {}

  pick(members: ArrayLike<PoolMemberLoad>, count: number): number {
    if (count === 1) {
      return 0;
    }
    if (count > PEAK_EWMA_SCAN_LIMIT) {
      return this.pickOfTwo(members, count);
    }
    let best = 0;
    let bestLoad = this.load(members[0]);
    let ties = 1;
    for (let index = 1; index < count; index++) {
      const load = this.load(members[index]);
      if (load < bestLoad) {
        best = index;
        bestLoad = load;
        ties = 1;
      } else if (load === bestLoad && this.random.below(++ties) === 0) {
        best = index;
      }
    }
    return best;
  }

  private pickOfTwo(members: ArrayLike<PoolMemberLoad>, count: number): number {
    const first = this.random.below(count);
    const drawn = this.random.below(count - 1);
    const other = drawn + Number(drawn >= first);
    return this.load(members[other]) < this.load(members[first]) ? other : first;
  }

  /** `cost^exponent × (inFlight + 1)`, or the rule for a member not measured yet. */
  private load(member: PoolMemberLoad): number {
    const cost = member.latencyMs ?? 0;
    const inFlight = member.inFlight;
    if (cost === 0) {
      return inFlight === 0 ? 0 : UNMEASURED_BUSY * inFlight;
    }
    return (this.exponent === 2 ? cost * cost : cost) * (inFlight + 1);
  }
}
