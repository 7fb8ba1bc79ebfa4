import type { PoolMemberLoad } from '../../lib/interfaces/pool-strategy.interface.js';
import type { PoolStateService } from '../../lib/state/pool-state.service.js';

/**
 * The slot table as a plain sequential list: what `PoolStateService` must equal after the
 * same register/unregister calls applied one by one in the order they were made (its mutex
 * is FIFO). Written the obvious way (a search, not a map) so it cannot share a bug with the
 * service.
 */
export class SlotModel<W, M> {
  readonly slots: Array<{ readonly worker: W; member: M }> = [];

  get count(): number {
    return this.slots.length;
  }

  slotOf(worker: W): number | undefined {
    const slot = this.slots.findIndex((entry) => entry.worker === worker);
    return slot === -1 ? undefined : slot;
  }

  /** A known worker keeps its slot (with the new member); a new one takes slot `count`. */
  register(worker: W, member: M): number {
    const known = this.slotOf(worker);
    if (known !== undefined) {
      this.slots[known].member = member;
      return known;
    }
    this.slots.push({ worker, member });
    return this.slots.length - 1;
  }

  /** The last entry moves into the gap; an unknown worker changes nothing. */
  unregister(worker: W): void {
    const slot = this.slotOf(worker);
    if (slot === undefined) {
      return;
    }
    const last = this.slots.pop()!;
    if (slot < this.slots.length) {
      this.slots[slot] = last;
    }
  }
}

/**
 * Every way the table breaks its invariants, seen from outside: slots `0..count-1` filled,
 * `count` equal to the filled slots, each slot held by exactly one of `workers` (all workers
 * the test ever made) and `slotOfWorker` pointing back at it. With a model, also the exact
 * layout. Empty when sound.
 */
export function slotTableProblems<W extends object, M extends PoolMemberLoad>(
  state: PoolStateService<W, M>,
  workers: Iterable<W>,
  model?: SlotModel<W, M>,
  describe: (worker: W) => string = String,
): string[] {
  const problems: string[] = [];
  const count = state.count;
  if (state.slots.length !== count) {
    problems.push(`slots.length ${state.slots.length} !== count ${count}`);
  }
  for (let slot = 0; slot < count; slot++) {
    if (!(slot in state.slots) || state.slots[slot] === undefined) {
      problems.push(`slot ${slot} of 0..${count - 1} is empty`);
    }
  }
  const holders = new Array<number>(count).fill(0);
  for (const worker of workers) {
    const slot = state.slotOf(worker);
    if (slot === undefined) {
      continue;
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= count) {
      problems.push(`${describe(worker)} holds slot ${slot}, outside 0..${count - 1}`);
      continue;
    }
    holders[slot]++;
  }
  holders.forEach((n, slot) => {
    if (n !== 1) {
      problems.push(`slot ${slot} is held by ${n} workers`);
    }
  });
  if (model) {
    if (model.count !== count) {
      problems.push(`count ${count}, model ${model.count}`);
    }
    model.slots.forEach(({ worker, member }, slot) => {
      if (state.slotOf(worker) !== slot) {
        problems.push(`${describe(worker)} is in slot ${state.slotOf(worker)}, model says ${slot}`);
      }
      if (state.slots[slot] !== member) {
        problems.push(`slot ${slot} holds another member than the model's`);
      }
    });
    for (const worker of workers) {
      if (model.slotOf(worker) === undefined && state.slotOf(worker) !== undefined) {
        problems.push(`${describe(worker)} holds slot ${state.slotOf(worker)}, model: none`);
      }
    }
  }
  return problems;
}
