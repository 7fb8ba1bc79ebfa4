import type { PoolMemberLoad } from '../interfaces/pool-strategy.interface.js';

/**
 * The slot table of one pool: the ready members in a packed array that the hot path reads
 * without a lock, and the worker→slot map that only mutations touch.
 *
 * Invariants, after every mutation:
 * - the ready members fill slots `0..count-1` with no gap, and `count === slots.length`;
 * - a worker that registers again keeps its slot; a new one takes the lowest free slot;
 * - unregister moves the last member into the gap (O(1)); unregistering an unknown worker
 *   is a no-op.
 *
 * Mutations are synchronous (one thread: each runs whole between two reads of the hot
 * path), and only a member's own state transition makes them: a member is in the table
 * exactly while it is `serving` (see `Member.transition`).
 *
 * Injectable (`getPoolStateToken(name)`) for reading: {@link count} and {@link snapshot}.
 * Its mutations are the pool's own (marked `@internal`).
 */
export class PoolStateService<
  W extends object = object,
  M extends PoolMemberLoad = PoolMemberLoad,
> {
  /**
   * @internal Ready members by slot, the live array the pool's hot path reads. Read-only for
   * everyone but this class; kept packed (push and pop only) so V8 keeps its fast elements
   * kind. Outside the pool, read {@link snapshot}.
   */
  readonly slots: M[] = [];
  private readonly workerAt: W[] = [];
  private readonly slotOf = new Map<W, number>();
  private readyWaiters: Array<() => void> = [];
  private changeListener: (() => void) | undefined = undefined;

  /** How many members are ready (the filled slots). */
  get count(): number {
    return this.slots.length;
  }

  /** The ready members by slot, as they are now (a copy). */
  snapshot(): readonly M[] {
    return [...this.slots];
  }

  /** @internal Puts `member` in `worker`'s slot (the same one if it has one) and returns the slot. */
  register(worker: W, member: M): number {
    return this.changed(this.registerNow(worker, member));
  }

  /** @internal Frees `worker`'s slot, moving the last member into it. No-op for an unknown worker. */
  unregister(worker: W): void {
    this.changed(this.unregisterNow(worker));
  }

  /**
   * @internal Called after every mutation, inside it: whoever it tells sees the table as it
   * now is (the pool reports its connectivity from here, so READY means a member can be
   * picked at the moment a watcher hears it). One listener; the pool that owns the table.
   */
  onChange(listener: () => void): void {
    this.changeListener = listener;
  }

  /** @internal The slot `worker` holds, or `undefined`. Off the hot path. */
  slotOfWorker(worker: W): number | undefined {
    return this.slotOf.get(worker);
  }

  /**
   * @internal Resolves as soon as at least one member is ready. Aborting `signal` drops the waiter
   * (the promise then never settles), so a caller that stops waiting leaves nothing behind.
   */
  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.slots.length > 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.readyWaiters.indexOf(resolve);
          if (index !== -1) {
            this.readyWaiters.splice(index, 1);
          }
        },
        { once: true },
      );
    });
  }

  private changed<T>(result: T): T {
    this.changeListener?.();
    return result;
  }

  private registerNow(worker: W, member: M): number {
    const known = this.slotOf.get(worker);
    if (known !== undefined) {
      this.slots[known] = member;
      return known;
    }
    const slot = this.slots.length;
    this.slots.push(member);
    this.workerAt.push(worker);
    this.slotOf.set(worker, slot);
    if (slot === 0 && this.readyWaiters.length > 0) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
    return slot;
  }

  private unregisterNow(worker: W): void {
    const slot = this.slotOf.get(worker);
    if (slot === undefined) {
      return;
    }
    this.slotOf.delete(worker);
    const last = this.slots.length - 1;
    if (slot !== last) {
      const moved = this.workerAt[last];
      this.slots[slot] = this.slots[last];
      this.workerAt[slot] = moved;
      this.slotOf.set(moved, slot);
    }
    this.slots.pop();
    this.workerAt.pop();
  }
}
