import type { PoolMemberLoad, PoolStrategy } from '../../lib/interfaces/pool-strategy.interface.js';
import {
  createStrategy,
  isStrategyName,
  STRATEGY_NAMES,
} from '../../lib/strategies/create-strategy.js';
import { LeastLoadedStrategy } from '../../lib/strategies/least-loaded.strategy.js';
import { PeakEwmaStrategy } from '../../lib/strategies/peak-ewma.strategy.js';
import { PowerOfTwoStrategy } from '../../lib/strategies/power-of-two.strategy.js';
import { RandomStrategy } from '../../lib/strategies/random.strategy.js';
import { RoundRobinStrategy } from '../../lib/strategies/round-robin.strategy.js';
import { XorShift32 } from '../../lib/strategies/xorshift32.js';

function loads(...inFlight: number[]): PoolMemberLoad[] {
  return inFlight.map((n) => ({ inFlight: n }));
}

/** How often each index came out of `picks` calls of `strategy.pick(members, count)`. */
function histogram(
  strategy: PoolStrategy,
  members: ArrayLike<PoolMemberLoad>,
  count: number,
  picks: number,
): number[] {
  const hits = new Array<number>(count).fill(0);
  for (let i = 0; i < picks; i++) {
    const index = strategy.pick(members, count);
    if (!(index >= 0 && index < count && Number.isInteger(index))) {
      throw new Error(`${strategy.name} picked ${index} with count ${count}`);
    }
    hits[index]++;
  }
  return hits;
}

/** A seeded source of test data, independent of the generator under test. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RoundRobinStrategy', () => {
  it('is named round-robin', () => {
    expect(new RoundRobinStrategy().name).toBe('round-robin');
  });

  it('cycles through 0..count-1', () => {
    const strategy = new RoundRobinStrategy();
    const members = loads(0, 0, 0, 0);
    const picks = Array.from({ length: 12 }, () => strategy.pick(members, 4));
    expect(picks).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it('always picks 0 from a single member', () => {
    const strategy = new RoundRobinStrategy();
    const members = loads(0);
    expect(Array.from({ length: 5 }, () => strategy.pick(members, 1))).toEqual([0, 0, 0, 0, 0]);
  });

  it('wraps to 0 when count shrank below the next index', () => {
    const strategy = new RoundRobinStrategy();
    const members = loads(0, 0, 0, 0);
    expect([0, 1, 2].map(() => strategy.pick(members, 4))).toEqual([0, 1, 2]);

    expect([0, 1, 2].map(() => strategy.pick(members, 2))).toEqual([0, 1, 0]);
  });

  it('carries on from where it was when count grows', () => {
    const strategy = new RoundRobinStrategy();
    const members = loads(0, 0, 0, 0, 0, 0);
    expect([0, 1].map(() => strategy.pick(members, 2))).toEqual([0, 1]);
    expect([0, 1, 2, 3, 4].map(() => strategy.pick(members, 4))).toEqual([2, 3, 0, 1, 2]);
  });

  it('stays in range whatever count does between picks', () => {
    const strategy = new RoundRobinStrategy();
    const random = seededRandom(5);
    const members = loads(...new Array<number>(16).fill(0));
    for (let i = 0; i < 10_000; i++) {
      const count = 1 + Math.floor(random() * 16);
      const index = strategy.pick(members, count);
      if (!(index >= 0 && index < count)) {
        throw new Error(`picked ${index} with count ${count}`);
      }
    }
  });

  it('spreads exactly evenly over a whole number of rounds', () => {
    expect(histogram(new RoundRobinStrategy(), loads(0, 0, 0, 0, 0), 5, 5_000)).toEqual(
      new Array(5).fill(1_000),
    );
  });
});

describe('RandomStrategy', () => {
  it('is named random', () => {
    expect(new RandomStrategy().name).toBe('random');
  });

  it.each([1, 2, 3, 7, 16, 1024])('stays in 0..count-1 with count %i', (count) => {
    const strategy = new RandomStrategy();
    const members = loads(...new Array<number>(count).fill(0));
    const hits = histogram(strategy, members, count, 5_000);
    expect(hits.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it.each([3, 8])('is roughly uniform over %i members (each within 10%)', (count) => {
    const picks = 40_000;
    const hits = histogram(
      new RandomStrategy(),
      loads(...new Array<number>(count).fill(0)),
      count,
      picks,
    );
    const expected = picks / count;
    for (const n of hits) {
      expect(n).toBeGreaterThan(expected * 0.9);
      expect(n).toBeLessThan(expected * 1.1);
    }
  });

  it('ignores load', () => {
    const hits = histogram(new RandomStrategy(), loads(1_000, 0), 2, 10_000);
    expect(hits[0]).toBeGreaterThan(4_000);
  });

  it('does not repeat the sequence of another instance', () => {
    const a = new RandomStrategy();
    const b = new RandomStrategy();
    const members = loads(...new Array<number>(1024).fill(0));
    const seqA = Array.from({ length: 8 }, () => a.pick(members, 1024));
    const seqB = Array.from({ length: 8 }, () => b.pick(members, 1024));
    expect(seqA).not.toEqual(seqB);
  });
});

describe('PowerOfTwoStrategy', () => {
  it('is named power-of-two', () => {
    expect(new PowerOfTwoStrategy().name).toBe('power-of-two');
  });

  it('returns 0 for a single member', () => {
    const strategy = new PowerOfTwoStrategy();
    for (let i = 0; i < 100; i++) {
      expect(strategy.pick(loads(7), 1)).toBe(0);
    }
  });

  it('never returns an index out of range', () => {
    const strategy = new PowerOfTwoStrategy();
    const random = seededRandom(11);
    for (let i = 0; i < 20_000; i++) {
      const count = 1 + Math.floor(random() * 20);
      // Members past count are never to be read; make them irresistible if they were.
      const members = loads(
        ...Array.from({ length: 24 }, (_, k) => (k < count ? Math.floor(random() * 10) : -1)),
      );
      const index = strategy.pick(members, count);
      if (!(Number.isInteger(index) && index >= 0 && index < count)) {
        throw new Error(`picked ${index} with count ${count}`);
      }
    }
  });

  it('draws two distinct members: of two, the less loaded always wins', () => {
    const strategy = new PowerOfTwoStrategy();
    expect(histogram(strategy, loads(5, 0), 2, 2_000)).toEqual([0, 2_000]);
    expect(histogram(strategy, loads(0, 5), 2, 2_000)).toEqual([2_000, 0]);
  });

  it('picks an idle member far more often than 1/count (2/count with distinct draws)', () => {
    const count = 8;
    const picks = 40_000;
    const members = loads(100, 100, 100, 0, 100, 100, 100, 100);
    const hits = histogram(new PowerOfTwoStrategy(), members, count, picks);
    // The idle member wins whenever it is one of the two distinct draws: 2/count.
    expect(hits[3] / picks).toBeGreaterThan(0.23);
    expect(hits[3] / picks).toBeLessThan(0.27);
  });

  it('never picks the most loaded member and favours the less loaded by rank', () => {
    // Loads all differ, so the winner of each pair is the lower-ranked member; the member of
    // rank k (0 = least loaded) wins with probability (count-1-k) / C(count, 2).
    const count = 4;
    const picks = 60_000;
    const members = loads(30, 10, 40, 20); // ranks: 2, 0, 3, 1
    const hits = histogram(new PowerOfTwoStrategy(), members, count, picks);
    const share = hits.map((n) => n / picks);

    expect(hits[2]).toBe(0);
    expect(Math.abs(share[1] - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(share[3] - 1 / 3)).toBeLessThan(0.02);
    expect(Math.abs(share[0] - 1 / 6)).toBeLessThan(0.02);
  });

  it('draws every pair, in both orders, about equally often', () => {
    // Both draws come from one random step (its top and bottom 16 bits): they must not be
    // tied to each other. With loads 0..count-1 all different, the winner of each pick says
    // which pair was drawn only as its lower member; so check the draws directly: with every
    // load equal the first draw wins, and it must be uniform; with ascending loads the
    // lower index wins, at (count-1-k) / C(count, 2).
    const count = 5;
    const picks = 50_000;
    const first = histogram(new PowerOfTwoStrategy(), loads(0, 0, 0, 0, 0), count, picks);
    for (const n of first) {
      expect(Math.abs(n / picks - 1 / count)).toBeLessThan(0.01);
    }
    const lower = histogram(new PowerOfTwoStrategy(), loads(0, 1, 2, 3, 4), count, picks);
    lower.forEach((n, k) => {
      expect(Math.abs(n / picks - (count - 1 - k) / 10)).toBeLessThan(0.01);
    });
  });

  it('stays in range and distinct on a table too large for 16-bit draws', () => {
    const count = 40_000;
    const members = Array.from({ length: count }, () => ({ inFlight: 1 }));
    members[count - 1] = { inFlight: 0 };
    const strategy = new PowerOfTwoStrategy();
    let idle = 0;
    for (let i = 0; i < 20_000; i++) {
      const index = strategy.pick(members, count);
      if (!(Number.isInteger(index) && index >= 0 && index < count)) {
        throw new Error(`picked ${index} with count ${count}`);
      }
      if (index === count - 1) idle++;
    }
    // The last member is drawn (and wins) with probability 2/count: 1 expected in 20,000.
    expect(idle).toBeLessThan(10);
  });

  it('spreads evenly over equally loaded members', () => {
    const picks = 40_000;
    const hits = histogram(new PowerOfTwoStrategy(), loads(0, 0, 0, 0), 4, picks);
    for (const n of hits) {
      expect(n).toBeGreaterThan((picks / 4) * 0.9);
      expect(n).toBeLessThan((picks / 4) * 1.1);
    }
  });
});

describe('LeastLoadedStrategy', () => {
  it('is named least-loaded', () => {
    expect(new LeastLoadedStrategy().name).toBe('least-loaded');
  });

  it('always returns an index of minimum load', () => {
    const strategy = new LeastLoadedStrategy();
    const random = seededRandom(23);
    for (let i = 0; i < 20_000; i++) {
      const count = 1 + Math.floor(random() * 12);
      const members = loads(...Array.from({ length: count }, () => Math.floor(random() * 6)));
      const index = strategy.pick(members, count);
      const min = Math.min(...members.map((m) => m.inFlight));
      if (!(index >= 0 && index < count) || members[index].inFlight !== min) {
        throw new Error(
          `picked ${index} (load ${members[index]?.inFlight}) from ${JSON.stringify(members)}`,
        );
      }
    }
  });

  it('finds a lone idle member wherever it is', () => {
    for (let idle = 0; idle < 6; idle++) {
      const strategy = new LeastLoadedStrategy();
      const members = loads(...Array.from({ length: 6 }, (_, k) => (k === idle ? 0 : 3)));
      expect(histogram(strategy, members, 6, 60)).toEqual(
        Array.from({ length: 6 }, (_, k) => (k === idle ? 60 : 0)),
      );
    }
  });

  it('rotates among equally idle members', () => {
    const strategy = new LeastLoadedStrategy();
    const members = loads(0, 0, 0, 0);
    expect(Array.from({ length: 8 }, () => strategy.pick(members, 4))).toEqual([
      0, 1, 2, 3, 0, 1, 2, 3,
    ]);
  });

  it.each([
    ['idle', [1, 0, 1, 0], [1, 3]],
    ['busy', [2, 1, 3, 1], [1, 3]],
    ['three-way', [5, 2, 2, 9, 2], [1, 2, 4]],
  ])('shares the picks between %s ties', (_label, inFlight, ties) => {
    const count = inFlight.length;
    const picks = count * 1_000;
    const hits = histogram(new LeastLoadedStrategy(), loads(...inFlight), count, picks);
    for (let k = 0; k < count; k++) {
      if (ties.includes(k)) {
        expect(hits[k]).toBeGreaterThan((picks / ties.length) * 0.5);
      } else {
        expect(hits[k]).toBe(0);
      }
    }
  });

  it('copes with count shrinking between picks', () => {
    const strategy = new LeastLoadedStrategy();
    const members = loads(0, 0, 0, 0, 0, 0);
    expect([0, 1, 2, 3, 4].map(() => strategy.pick(members, 6))).toEqual([0, 1, 2, 3, 4]);
    expect([0, 1, 2].map(() => strategy.pick(members, 2))).toEqual([0, 1, 0]);
  });

  it('never reads past count', () => {
    const strategy = new LeastLoadedStrategy();
    // A member past count with the lowest load must not be chosen.
    const members = loads(3, 3, 3, -1);
    expect(histogram(strategy, members, 3, 30)).toEqual([10, 10, 10]);
  });
});

describe('XorShift32', () => {
  it('is deterministic for a seed', () => {
    const a = new XorShift32(12345);
    const b = new XorShift32(12345);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    expect(seqA).toEqual(seqB);
  });

  it('produces the reference xorshift32 sequence (13, 17, 5)', () => {
    const random = new XorShift32(1);
    expect([random.next(), random.next(), random.next()]).toEqual([270369, 67634689, 2647435461]);
  });

  it('differs between seeds', () => {
    const a = new XorShift32(1);
    const b = new XorShift32(2);
    expect(Array.from({ length: 4 }, () => a.next())).not.toEqual(
      Array.from({ length: 4 }, () => b.next()),
    );
  });

  it('does not get stuck at zero for a zero seed', () => {
    const random = new XorShift32(0);
    const values = Array.from({ length: 10 }, () => random.next());
    expect(values.some((v) => v !== 0)).toBe(true);
    expect(new Set(values).size).toBe(10);
  });

  it('returns unsigned 32-bit integers', () => {
    const random = new XorShift32(0xdeadbeef);
    for (let i = 0; i < 10_000; i++) {
      const value = random.next();
      if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) {
        throw new Error(`next() gave ${value}`);
      }
    }
  });

  it.each([1, 2, 3, 10, 1000, 2 ** 32])('below(%i) stays in [0, bound)', (bound) => {
    const random = new XorShift32(99);
    for (let i = 0; i < 5_000; i++) {
      const value = random.below(bound);
      if (!(Number.isInteger(value) && value >= 0 && value < bound)) {
        throw new Error(`below(${bound}) gave ${value}`);
      }
    }
  });
});

describe('createStrategy', () => {
  it('lists the five built-in names in order', () => {
    expect(STRATEGY_NAMES).toEqual([
      'round-robin',
      'random',
      'power-of-two',
      'least-loaded',
      'peak-ewma',
    ]);
  });

  it('recognises only the built-in names', () => {
    for (const name of STRATEGY_NAMES) {
      expect(isStrategyName(name)).toBe(true);
    }
    for (const name of ['fastest', '', 'Round-Robin', 'toString', 'constructor', '__proto__']) {
      expect(isStrategyName(name)).toBe(false);
    }
  });

  it.each([
    ['round-robin', RoundRobinStrategy],
    ['random', RandomStrategy],
    ['power-of-two', PowerOfTwoStrategy],
    ['least-loaded', LeastLoadedStrategy],
    ['peak-ewma', PeakEwmaStrategy],
  ] as const)('builds %s', (name, ctor) => {
    const strategy = createStrategy('p', name);
    expect(strategy).toBeInstanceOf(ctor);
    expect(strategy.name).toBe(name);
  });

  it('gives each pool its own strategy and counters', () => {
    const a = createStrategy('a', 'round-robin');
    const b = createStrategy('b', 'round-robin');
    expect(a).not.toBe(b);
    const members = loads(0, 0, 0);
    expect([a.pick(members, 3), a.pick(members, 3)]).toEqual([0, 1]);
    expect(b.pick(members, 3)).toBe(0);
  });

  describe("wraps a user's strategy", () => {
    function userStrategy(result: unknown): PoolStrategy & { calls: unknown[][] } {
      const calls: unknown[][] = [];
      return {
        name: 'mine',
        calls,
        pick(members, count) {
          calls.push([members, count]);
          return result as number;
        },
      };
    }

    it.each([0, 1, 4])('passes an in-range pick of %i through', (index) => {
      const inner = userStrategy(index);
      const strategy = createStrategy('billing', inner);
      const members = loads(0, 0, 0, 0, 0);

      expect(strategy.name).toBe('mine');
      expect(strategy.pick(members, 5)).toBe(index);
      expect(inner.calls).toEqual([[members, 5]]);
      expect(inner.calls[0][0]).toBe(members);
    });

    it.each([
      ['-1', -1],
      ['count', 5],
      ['count + 1', 6],
      ['NaN', NaN],
      ['0.5', 0.5],
      ['1.5', 1.5],
      ['-0.5', -0.5],
      ['Infinity', Infinity],
      ['2**32', 2 ** 32],
      ["'1'", '1'],
      ['undefined', undefined],
      ['null', null],
    ])('throws a RangeError naming pool and strategy for a pick of %s', (shown, result) => {
      const strategy = createStrategy('billing', userStrategy(result));

      let thrown: unknown;
      try {
        strategy.pick(loads(0, 0, 0, 0, 0), 5);
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeInstanceOf(RangeError);
      const message = (thrown as RangeError).message;
      expect(message).toContain('gRPC pool "billing"');
      expect(message).toContain('strategy "mine"');
      expect(message).toContain(`picked ${shown === "'1'" ? '"1"' : String(result)}`);
      expect(message).toContain('from 0 to count-1 (count was 5)');
    });

    it("lets the user's own exception through unchanged", () => {
      const boom = new Error('boom');
      const strategy = createStrategy('billing', {
        name: 'thrower',
        pick: () => {
          throw boom;
        },
      });
      expect(() => strategy.pick(loads(0), 1)).toThrow(boom);
    });
  });
});

describe('built-in strategy instances given as `strategy`', () => {
  it.each([
    ['round-robin', RoundRobinStrategy],
    ['random', RandomStrategy],
    ['power-of-two', PowerOfTwoStrategy],
    ['least-loaded', LeastLoadedStrategy],
  ] as const)(
    '%s: each pool gets its own, so one instance shared by two pools shares no state',
    (name, Type) => {
      const shared = new Type();
      const a = createStrategy('a', shared);
      const b = createStrategy('b', shared);
      expect(a).toBeInstanceOf(Type);
      expect(b).toBeInstanceOf(Type);
      expect(a).not.toBe(shared);
      expect(a).not.toBe(b);
      expect(a.name).toBe(name);
      if (name === 'round-robin') {
        // Each pool's own turn: a shared counter would give b slot 1 here.
        expect([a.pick([], 4), a.pick([], 4), b.pick([], 4)]).toEqual([0, 1, 0]);
      }
    },
  );

  it("a user subclass of a built-in stays the user's (checked, not replaced)", () => {
    class Mine extends RoundRobinStrategy {}
    const mine = new Mine();
    const made = createStrategy('a', mine);
    expect(made).not.toBeInstanceOf(RoundRobinStrategy);
    expect(() => createStrategy('a', { name: 'bad', pick: () => 7 }).pick([], 2)).toThrow(
      /strategy "bad" picked 7/,
    );
  });
});
