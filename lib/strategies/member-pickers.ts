import type { PoolMemberLoad, PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import { LeastLoadedStrategy } from './least-loaded.strategy.js';
import { PeakEwmaStrategy } from './peak-ewma.strategy.js';
import { PowerOfTwoStrategy } from './power-of-two.strategy.js';
import { RandomStrategy } from './random.strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

/** What a closed pool's picker reads: an array of its own, so the length read sees one kind. */
const NO_SLOTS: readonly never[] = [];

/** The pool, as its picker's entry functions see it: they run with the pool as `this`. */
export interface PickerOwner<M extends PoolMemberLoad> {
  readonly picker: MemberPicker<M>;
}

/**
 * A pool's hot path, made once per pool: `pick()` reads the slot table's length, asks the
 * strategy for an index and returns that member. No await (nothing here can wait), no
 * allocation, no clock read (~45 ns each in V8, more than the rest put together).
 *
 * Why a subclass per strategy, each with its own copy of the same few lines (grpc-js's
 * picker pattern: small fixed objects per situation): V8 keeps type feedback per place in
 * the source, and a call site that sees more than one function target is not inlined. One
 * shared `strategy.pick(…)`, in an app whose pools use several strategies, sees every
 * strategy class; one shared call of a per-pool function sees every pool's. Either costs
 * 4-10 ns a pick, several times the pick itself (`npm run bench -- --only=hot`, "every
 * strategy in one process"). Here each `this.strategy.pick` sees one strategy class, and
 * the pool's own `getChannel`/`tryGetChannel` are {@link take}/{@link tryTake}: one
 * function per strategy class, shared by every pool of that class, that finds the picker
 * on the pool. A caller's `pool.getChannel()` then sees one target (for every pool of one
 * strategy) and V8 inlines the whole pick into it.
 */
export abstract class MemberPicker<M extends PoolMemberLoad> {
  /** Members handed out so far (`status().picks`). */
  picks = 0;
  /** The pool's `getChannel`: a member, or what {@link none} throws. Run with the pool as `this`. */
  abstract readonly take: (this: PickerOwner<M>) => M;
  /** The pool's `tryGetChannel`: a member, or `undefined`. Run with the pool as `this`. */
  abstract readonly tryTake: (this: PickerOwner<M>) => M | undefined;

  /**
   * @param slots the slot table itself (read on every pick, so every change shows)
   * @param none called when the slot table is empty: throws the pool's error
   */
  constructor(
    protected slots: readonly M[],
    readonly none: () => never,
  ) {}

  /** A ready member for one call, or `undefined` when the slot table is empty. */
  abstract pick(): M | undefined;

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
  none: () => never,
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
    none: () => never,
    private readonly strategy: RoundRobinStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takeRoundRobin;
  readonly tryTake = tryTakeRoundRobin;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}

function takeRoundRobin<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as RoundRobinPicker<M>).pick() ?? this.picker.none();
}
function tryTakeRoundRobin<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as RoundRobinPicker<M>).pick();
}

class RandomPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => never,
    private readonly strategy: RandomStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takeRandom;
  readonly tryTake = tryTakeRandom;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}

function takeRandom<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as RandomPicker<M>).pick() ?? this.picker.none();
}
function tryTakeRandom<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as RandomPicker<M>).pick();
}

class PowerOfTwoPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => never,
    private readonly strategy: PowerOfTwoStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takePowerOfTwo;
  readonly tryTake = tryTakePowerOfTwo;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}

function takePowerOfTwo<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as PowerOfTwoPicker<M>).pick() ?? this.picker.none();
}
function tryTakePowerOfTwo<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as PowerOfTwoPicker<M>).pick();
}

class LeastLoadedPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => never,
    private readonly strategy: LeastLoadedStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takeLeastLoaded;
  readonly tryTake = tryTakeLeastLoaded;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}

function takeLeastLoaded<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as LeastLoadedPicker<M>).pick() ?? this.picker.none();
}
function tryTakeLeastLoaded<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as LeastLoadedPicker<M>).pick();
}

class PeakEwmaPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => never,
    private readonly strategy: PeakEwmaStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takePeakEwma;
  readonly tryTake = tryTakePeakEwma;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}

function takePeakEwma<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as PeakEwmaPicker<M>).pick() ?? this.picker.none();
}
function tryTakePeakEwma<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as PeakEwmaPicker<M>).pick();
}

/** A user's strategy: its `pick` is the user's, and may see any class. */
class StrategyPicker<M extends PoolMemberLoad> extends MemberPicker<M> {
  constructor(
    slots: readonly M[],
    none: () => never,
    private readonly strategy: PoolStrategy,
  ) {
    super(slots, none);
  }
  readonly take = takeStrategy;
  readonly tryTake = tryTakeStrategy;
  pick(): M | undefined {
    const slots = this.slots;
    const count = slots.length;
    if (count === 0) {
      return undefined;
    }
    this.picks++;
    return slots[this.strategy.pick(slots, count)];
  }
}
function takeStrategy<M extends PoolMemberLoad>(this: PickerOwner<M>): M {
  return (this.picker as StrategyPicker<M>).pick() ?? this.picker.none();
}
function tryTakeStrategy<M extends PoolMemberLoad>(this: PickerOwner<M>): M | undefined {
  return (this.picker as StrategyPicker<M>).pick();
}
