import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { LeastLoadedStrategy } from './least-loaded.strategy.js';
import { PeakEwmaStrategy } from './peak-ewma.strategy.js';
import { PowerOfTwoStrategy } from './power-of-two.strategy.js';
import { RandomStrategy } from './random.strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

/** What a closed pool's picker reads: an array of its own, so the length read sees one kind. */
const NO_SLOTS: readonly never[] = [];

/**
 * A pool's hot path, made once per pool: {@link pick} reads the slot table's length, asks
 * the strategy for an index and returns that member. No await (nothing here can wait), no
 * allocation, no clock read (~45 ns each in V8, more than the rest put together).
 *
 * Why a subclass per strategy, each with its own copy of the same few lines (grpc-js's
 * picker pattern: small fixed objects per situation): V8 keeps type feedback per place in
 * the source. One shared `strategy.pick(…)`, in an app whose pools use several strategies,
 * sees every strategy class and turns megamorphic; one shared call of a per-pool function
 * cannot be inlined. Either costs 4-10 ns a pick, several times the pick itself. Here
 * `pick` and `take` are arrow fields written in each subclass: each sees one strategy class,
 * so V8 inlines the strategy into them, and the pool hands them out as its own
 * `getChannel`/`tryGetChannel`, so a caller that uses one pool inlines the whole pick.
 */
export abstract class MemberPicker<M extends PoolMemberLoad> {
  /** Members handed out so far (`status().picks`). */
  picks = 0;
  /** A ready member for one call, or `undefined` when the slot table is empty. */
  abstract readonly pick: () => M | undefined;
  /** A ready member for one call; when there is none, what `none` returns or throws. */
  abstract readonly take: () => M;

  /**
   * @param slots the slot table itself (read on every pick, so every change shows)
   * @param none called when the slot table is empty: throws the pool's error
   */
  constructor(
    protected slots: readonly M[],
    protected readonly none: () => M,
  ) {}

  /** From now on no member is handed out, whatever the slot table still holds. */
  close(): void {
    this.slots = NO_SLOTS;
  }
}

/**
 * The picker of one pool for `strategy` (from `createStrategy`: a built-in of its exact
 * class, or a user's strategy, already wrapped so that a bad index fails with its name).
 */
export function createPicker<M extends PoolMemberLoad>(
  strategy: PoolStrategy,
  slots: readonly M[],
  none: () => M,
): MemberPicker<M> {
  switch (strategy.constructor) {
    case RoundRobinStrategy:
      return new RoundRobinPicker(slots, none, strategy as RoundRobinStrategy);
    case RandomStrategy:
      return new RandomPicker(slots, none, strategy as RandomStrategy);
    case PowerOfTwoStrategy:
      return new PowerOfTwoPicker(slots, none, strategy as PowerOfTwoStrategy);
    case LeastLoadedStrategy:
      return new LeastLoadedPicker(slots, none, strategy as LeastLoadedStrategy);
    case PeakEwmaStrategy:
      return new PeakEwmaPicker(slots, none, strategy as PeakEwmaStrategy);
    default:
      return new StrategyPicker(slots, none, strategy);
  }
}

// The subclasses differ only in the class of `strategy`: see MemberPicker for why.

class RoundRobinPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: RoundRobinStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}

class RandomPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: RandomStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}

class PowerOfTwoPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: PowerOfTwoStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}

class LeastLoadedPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: LeastLoadedStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}

class PeakEwmaPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: PeakEwmaStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}

/** A user's strategy: its `pick` is the user's, and may see any class. */
class StrategyPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => M,
    private readonly strategy: PoolStrategy,
  ) {
    super(slots, none);
  }
  readonly pick = (): M | undefined => {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  };
  readonly take = (): M => this.pick() ?? this.none();
}
