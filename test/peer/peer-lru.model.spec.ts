import fc from 'fast-check';
import { PeerLru } from '../../lib/peer/peer-lru.js';

/** A value whose busy flag the test flips; shared by the LRU and the model. */
interface Value {
  readonly id: number;
  busy: boolean;
}

/**
 * The obvious LRU: an array, oldest first, scanned in full for every operation. No
 * shortcuts: `sweep` filters every entry by age instead of stopping early, so the real
 * class's early stop is checked too.
 */
class ModelLru {
  items: { key: string; value: Value; usedAt: number }[] = [];
  clock = 0;

  private index(key: string): number {
    return this.items.findIndex((item) => item.key === key);
  }

  touch(key: string): Value | undefined {
    const i = this.index(key);
    if (i < 0) return undefined;
    const [item] = this.items.splice(i, 1);
    item.usedAt = this.clock;
    this.items.push(item);
    return item.value;
  }

  set(key: string, value: Value): Value | undefined {
    const replaced = this.delete(key);
    this.items.push({ key, value, usedAt: this.clock });
    return replaced;
  }

  delete(key: string): Value | undefined {
    const i = this.index(key);
    return i < 0 ? undefined : this.items.splice(i, 1)[0].value;
  }

  evictOver(max: number, keep?: string): string[] {
    const evicted: string[] = [];
    while (this.items.length > max) {
      const candidates = this.items.filter((item) => item.key !== keep);
      if (candidates.length === 0) break;
      const victim = candidates.find((item) => !item.value.busy) ?? candidates[0];
      this.delete(victim.key);
      evicted.push(victim.key);
    }
    return evicted;
  }

  clear(): string[] {
    return this.items.splice(0).map((item) => item.key);
  }

  sweep(maxAge: number): string[] {
    const expired = this.items.filter((item) => this.clock - item.usedAt > maxAge);
    const idle = expired.filter((item) => !item.value.busy);
    for (const item of idle) this.delete(item.key);
    for (const item of expired.filter((item) => item.value.busy)) this.touch(item.key);
    return idle.map((item) => item.key);
  }
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const operation = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('touch' as const), key }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('set' as const), key }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), key }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('busy' as const), key, busy: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), by: fc.nat(3) }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('evict' as const),
      max: fc.nat(5),
      keep: fc.option(key, { nil: undefined }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('sweep' as const), maxAge: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('clear' as const) }), weight: 1 },
);

describe('PeerLru against a model', () => {
  it('agrees with a plain array LRU on order, stamps, eviction and idle sweep (1,000 runs)', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60, size: 'max' }), (operations) => {
        const lru = new PeerLru<Value>((value) => value.busy);
        const model = new ModelLru();
        // Both sides write what they return and hold after each step; one comparison per run.
        const real: unknown[] = [];
        const expected: unknown[] = [];
        let nextId = 0;
        for (const step of operations) {
          switch (step.op) {
            case 'touch':
              real.push(lru.touch(step.key));
              expected.push(model.touch(step.key));
              break;
            case 'set': {
              const value = { id: nextId++, busy: false };
              real.push(lru.set(step.key, value));
              expected.push(model.set(step.key, value));
              break;
            }
            case 'delete':
              real.push(lru.delete(step.key));
              expected.push(model.delete(step.key));
              break;
            case 'busy': {
              const value = lru.get(step.key);
              if (value) value.busy = step.busy;
              break;
            }
            case 'advance':
              lru.advance(lru.clock + step.by);
              model.clock += step.by;
              break;
            case 'evict':
              real.push(lru.evictOver(step.max, step.keep).map((entry) => entry.key));
              expected.push(model.evictOver(step.max, step.keep));
              break;
            case 'clear':
              real.push(lru.clear().map((entry) => entry.key));
              expected.push(model.clear());
              break;
            case 'sweep':
              real.push(lru.sweep(step.maxAge).map((entry) => entry.key));
              expected.push(model.sweep(step.maxAge));
              break;
          }
          real.push(
            lru.size,
            lru.list().map(({ key, value, usedAt }) => [key, value.id, usedAt]),
          );
          expected.push(
            model.items.length,
            model.items.map(({ key, value, usedAt }) => [key, value.id, usedAt]),
          );
        }
        expect(real).toEqual(expected);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never evicts a busy key while a free one can go, and never the kept key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ key, busy: fc.boolean() }), { selector: (e) => e.key }),
        fc.nat(7),
        (entries, max) => {
          const lru = new PeerLru<Value>((value) => value.busy);
          entries.forEach((entry, id) => lru.set(entry.key, { id, busy: entry.busy }));
          const keep = entries.at(-1)?.key;
          const evicted = lru.evictOver(max, keep);
          const freeLeft = lru.list().filter((entry) => !entry.value.busy && entry.key !== keep);
          if (evicted.some((entry) => entry.value.busy)) {
            expect(freeLeft).toEqual([]);
          }
          expect(evicted.map((entry) => entry.key)).not.toContain(keep);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('a clock that goes back is ignored', () => {
    const lru = new PeerLru<Value>(() => false);
    lru.advance(5);
    lru.advance(3);
    expect(lru.clock).toBe(5);
  });
});
