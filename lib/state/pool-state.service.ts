import type { PoolMemberLoad } from '../interfaces/pool-strategy.interface.js';

/**
 * The slot table of one pool: the ready members in a packed array that the hot path reads
 * without a lock, and the member→slot map that only mutations touch. Its keys are the pool's members, its
 * values what the hot path hands out for them (their channels).
 *
 * Invariants, after every mutation:
 * - the ready members fill slots `0..count-1` with no gap, and `count === slots.length`;
 * - a member that registers again keeps its slot; a new one takes the lowest free slot;
 * - unregister moves the last member into the gap (O(1)); unregistering an unknown member
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
  K extends object = object,
  M extends PoolMemberLoad = PoolMemberLoad,
> {
  /**
   * @internal Ready members by slot, the live array the pool's hot path reads. Read-only for
   * everyone but this class; kept packed (push and pop only) so V8 keeps its fast elements
   * kind. Outside the pool, read {@link snapshot}.
   */
  readonly slots: M[] = [];
  private readonly keyAt: K[] = [];
  private readonly slotByKey = new Map<K, number>();
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

  /** @internal Puts `member` in `key`'s slot (the same one if it has one) and returns the slot. */
  register(key: K, member: M): number {
    return this.changed(this.registerNow(key, member));
  }

  /** @internal Frees `key`'s slot, moving the last member into it. No-op for an unknown key. */
  unregister(key: K): void {
    this.changed(this.unregisterNow(key));
  }

  /**
   * @internal Called after every mutation, inside it: whoever it tells sees the table as it
   * now is (the pool reports its connectivity from here, so READY means a member can be
   * picked at the moment a watcher hears it). One listener; the pool that owns the table.
   */
  onChange(listener: () => void): void {
    this.changeListener = listener;
  }

  /** @internal The slot `key` holds, or `undefined`. Off the hot path. */
  slotOf(key: K): number | undefined {
    return this.slotByKey.get(key);
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

  private registerNow(key: K, member: M): number {
    const known = this.slotByKey.get(key);
    if (known !== undefined) {
      this.slots[known] = member;
      return known;
    }
    const slot = this.slots.length;
    this.slots.push(member);
    this.keyAt.push(key);
    this.slotByKey.set(key, slot);
    if (slot === 0 && this.readyWaiters.length > 0) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
    return slot;
  }

  private unregisterNow(key: K): void {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) {
      return;
    }
    this.slotByKey.delete(key);
    const last = this.slots.length - 1;
    if (slot !== last) {
      const moved = this.keyAt[last];
      this.slots[slot] = this.slots[last];
      this.keyAt[slot] = moved;
      this.slotByKey.set(moved, slot);
    }
    this.slots.pop();
    this.keyAt.pop();
  }
}
