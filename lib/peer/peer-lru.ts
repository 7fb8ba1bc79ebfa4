/** One key in a {@link PeerLru}: its value and the clock of its last use. */
export interface PeerLruEntry<V> {
  readonly key: string;
  readonly value: V;
  /** The LRU's clock when the key was last used. */
  readonly usedAt: number;
}

/** An entry with its neighbours in use order: the list is intrusive, nothing is allocated to move one. */
interface Node<V> {
  readonly key: string;
  readonly value: V;
  usedAt: number;
  older: Node<V> | undefined;
  newer: Node<V> | undefined;
}

/**
 * The LRU and idle bookkeeping of a peer pool: no network, no timers, no clock of its
 * own, so a model test can drive it alone.
 *
 * Order: a `Map` finds a key's node; the nodes form a doubly linked list from the least
 * to the most recently used. A use unlinks its node and links it at the newest end: a few
 * pointer writes, no allocation. (Re-inserting into the `Map` to keep its insertion order
 * would do the same in O(1) too, but V8 then rehashes the table every so often: measured
 * ~5x slower per hit and ~55 bytes allocated.) Use, add, delete and an eviction whose
 * oldest key is free are all O(1).
 *
 * Time: `clock` is a number the owner advances (the peer pool does it from its sweep
 * timer, so a use reads no clock). A use stamps the current clock, and stamps never
 * decrease from the oldest node to the newest, so the idle sweep stops at the first key
 * still in use: it costs O(keys it finds idle), not O(size).
 *
 * Busy: `isBusy(value)` says whether a value must not go now (calls in flight, still
 * connecting). Eviction takes a busy value only when no other can go; the sweep never
 * closes a busy value, it counts it as used at that tick instead.
 */
export class PeerLru<V> {
  private readonly nodes = new Map<string, Node<V>>();
  private oldest: Node<V> | undefined = undefined;
  private newest: Node<V> | undefined = undefined;
  private now = 0;

  constructor(private readonly isBusy: (value: V) => boolean) {}

  /** How many keys are held. */
  get size(): number {
    return this.nodes.size;
  }

  /** The clock new uses are stamped with. */
  get clock(): number {
    return this.now;
  }

  /** Moves the clock forward to `clock`; it never goes back. */
  advance(clock: number): void {
    if (clock > this.now) {
      this.now = clock;
    }
  }

  /** The value of `key` without counting it as used. */
  get(key: string): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /**
   * The value of `key`, marked as used now (most recently used, stamped with the clock).
   * The hot path of a hit: one `Map.get` and a few pointer writes; no allocation, no
   * clock read.
   */
  touch(key: string): V | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) {
      return undefined;
    }
    node.usedAt = this.now;
    if (node !== this.newest) {
      this.unlink(node);
      this.linkNewest(node);
    }
    return node.value;
  }

  /** Adds `key` as the most recently used; returns the value it replaced, if any. */
  set(key: string, value: V): V | undefined {
    const replaced = this.delete(key);
    const node: Node<V> = { key, value, usedAt: this.now, older: undefined, newer: undefined };
    this.nodes.set(key, node);
    this.linkNewest(node);
    return replaced;
  }

  /** Forgets `key`; returns its value, if it had one. */
  delete(key: string): V | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) {
      return undefined;
    }
    this.nodes.delete(key);
    this.unlink(node);
    return node.value;
  }

  /**
   * Removes keys until at most `max` are left and returns them in the order removed: each
   * time the least recently used key that is not busy, or the least recently used of all
   * when every one is busy. `keep` (the key just added) is never removed.
   */
  evictOver(max: number, keep?: string): PeerLruEntry<V>[] {
    const evicted: PeerLruEntry<V>[] = [];
    while (this.nodes.size > max) {
      const victim = this.victim(keep);
      if (victim === undefined) {
        break;
      }
      this.delete(victim.key);
      evicted.push(victim);
    }
    return evicted;
  }

  /**
   * Removes and returns, oldest first, every key not used for more than `maxAge` clock
   * units that is not busy. A busy key that old stays and counts as used now.
   */
  sweep(maxAge: number): PeerLruEntry<V>[] {
    const idle: Node<V>[] = [];
    const busy: Node<V>[] = [];
    for (let node = this.oldest; node && this.now - node.usedAt > maxAge; node = node.newer) {
      (this.isBusy(node.value) ? busy : idle).push(node);
    }
    for (const node of idle) {
      this.delete(node.key);
    }
    for (const node of busy) {
      this.touch(node.key);
    }
    return idle;
  }

  /** Every entry, least recently used first. */
  list(): PeerLruEntry<V>[] {
    const all: PeerLruEntry<V>[] = [];
    for (let node = this.oldest; node; node = node.newer) {
      all.push(node);
    }
    return all;
  }

  /** Forgets every key; returns what was held, least recently used first. */
  clear(): PeerLruEntry<V>[] {
    const all = this.list();
    this.nodes.clear();
    this.oldest = this.newest = undefined;
    return all;
  }

  private victim(keep: string | undefined): Node<V> | undefined {
    let oldestBusy: Node<V> | undefined;
    for (let node = this.oldest; node; node = node.newer) {
      if (node.key === keep) {
        continue;
      }
      if (!this.isBusy(node.value)) {
        return node;
      }
      oldestBusy ??= node;
    }
    return oldestBusy;
  }

  private linkNewest(node: Node<V>): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest) {
      this.newest.newer = node;
    } else {
      this.oldest = node;
    }
    this.newest = node;
  }

  private unlink(node: Node<V>): void {
    if (node.older) {
      node.older.newer = node.newer;
    } else {
      this.oldest = node.newer;
    }
    if (node.newer) {
      node.newer.older = node.older;
    } else {
      this.newest = node.older;
    }
    node.older = node.newer = undefined;
  }
}
