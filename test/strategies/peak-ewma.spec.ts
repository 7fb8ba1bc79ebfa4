import type { PoolMemberLoad } from '../../lib/interfaces/pool-strategy.interface.js';
import { LatencyDecay, PeakEwma } from '../../lib/member/peak-ewma.js';
import { PEAK_EWMA_SCAN_LIMIT, PeakEwmaStrategy } from '../../lib/strategies/peak-ewma.strategy.js';

const TAU = 10_000;

function member(latencyMs: number, inFlight = 0): PoolMemberLoad {
  return { latencyMs, inFlight };
}

/** How often each index came out of `picks` picks. */
function histogram(strategy: PeakEwmaStrategy, members: PoolMemberLoad[], picks: number): number[] {
  const hits = new Array<number>(members.length).fill(0);
  for (let i = 0; i < picks; i++) {
    hits[strategy.pick(members, members.length)]++;
  }
  return hits;
}

describe('PeakEwma (one member’s latency estimate)', () => {
  it('is unmeasured (0) until the first answer, then jumps to a latency above the cost', () => {
    const ewma = new PeakEwma(TAU);
    expect(ewma.cost).toBe(0);
    ewma.observe(20, 1_000, false);
    expect(ewma.cost).toBe(20);
    ewma.observe(200, 1_001, false);
    expect(ewma.cost).toBe(200);
  });

  it('moves toward a lower latency with weight 1 - exp(-dt/tau)', () => {
    const ewma = new PeakEwma(TAU);
    ewma.observe(200, 0, false);
    ewma.observe(20, TAU, false); // dt = tau: keeps exp(-1) of the old cost
    expect(ewma.cost).toBeCloseTo(200 * Math.exp(-1) + 20 * (1 - Math.exp(-1)), 9);
    const before = ewma.cost;
    ewma.observe(20, TAU + 1, false); // 1 ms later: hardly moves
    expect(before - ewma.cost).toBeGreaterThan(0);
    expect(before - ewma.cost).toBeLessThan(0.01);
  });

  it('counts a failure as at least the current cost, however fast it failed', () => {
    const ewma = new PeakEwma(TAU);
    ewma.observe(200, 0, false);
    ewma.observe(1, 50_000, true); // a success this fast and this late would pull it to ~2
    expect(ewma.cost).toBe(200);
    ewma.observe(300, 50_001, true); // a slow failure still raises it
    expect(ewma.cost).toBe(300);
    const fresh = new PeakEwma(TAU);
    fresh.observe(0, 1, true);
    expect(fresh.cost).toBeGreaterThan(0); // a failure is a measurement too
  });

  it('records a 0 ms answer as measured (above 0)', () => {
    const ewma = new PeakEwma(TAU);
    ewma.observe(0, 5, false);
    expect(ewma.cost).toBeGreaterThan(0);
  });
});

describe('LatencyDecay (the pool’s timer)', () => {
  it('pulls every cost toward 0 by exp(-elapsed/tau), by the time that really passed', () => {
    const a = new PeakEwma(TAU);
    const b = new PeakEwma(TAU);
    a.observe(200, 0, false);
    b.observe(20, 0, false);
    // Not started: the clock starts at 0 and the test gives every tick its time.
    const decay = new LatencyDecay(TAU, 250, () => [a, undefined, b]);
    decay.tick(1_000);
    expect(a.cost).toBeCloseTo(200 * Math.exp(-0.1), 9);
    expect(b.cost).toBeCloseTo(20 * Math.exp(-0.1), 9);
    decay.tick(1_000 + TAU); // a late tick decays by the whole time: exp(-1) more
    expect(a.cost).toBeCloseTo(200 * Math.exp(-1.1), 9);
    decay.tick(500); // a clock going backwards decays nothing
    expect(a.cost).toBeCloseTo(200 * Math.exp(-1.1), 9);
  });

  it('stops its timer on stop(), and start() twice keeps one timer', () => {
    const decay = new LatencyDecay(TAU, 250, () => []);
    decay.start();
    decay.start();
    decay.stop();
    expect((decay as unknown as { timer: unknown }).timer).toBeUndefined();
  });

  it('brings a member shunned for its slow backend back into the pick as its cost decays', () => {
    const strategy = new PeakEwmaStrategy(2);
    const slow = new PeakEwma(TAU);
    slow.observe(200, 0, false);
    const members = [
      member(20, 12), // 20² x 13 = 5,200
      {
        inFlight: 0,
        get latencyMs() {
          return slow.cost;
        },
      },
    ];
    const decay = new LatencyDecay(TAU, 250, () => [slow]);
    decay.tick(10_000); // 200 e^-1 = 73.6; squared 5,413: still above
    expect(strategy.pick(members, 2)).toBe(0);
    decay.tick(11_000); // 200 e^-1.1 = 66.6; squared 4,432: picked again, to be measured
    expect(strategy.pick(members, 2)).toBe(1);
  });
});

describe('PeakEwmaStrategy', () => {
  it('is named peak-ewma and picks the least latency x (in flight + 1)', () => {
    const strategy = new PeakEwmaStrategy();
    expect(strategy.name).toBe('peak-ewma');
    // 20 x 6 = 120, 200 x 1 = 200, 10 x 9 = 90, 50 x 2 = 100
    expect(strategy.pick([member(20, 5), member(200), member(10, 8), member(50, 1)], 4)).toBe(2);
  });

  it('with exponent 2, weighs latency squared', () => {
    // latency: 200 x 1 = 200 < 20 x 13 = 260; squared: 40,000 > 400 x 13 = 5,200
    const members = [member(20, 12), member(200, 0)];
    expect(new PeakEwmaStrategy(1).pick(members, 2)).toBe(1);
    expect(new PeakEwmaStrategy(2).pick(members, 2)).toBe(0);
  });

  it('breaks ties without favouring any slot, also when the tied members are apart', () => {
    const strategy = new PeakEwmaStrategy();
    // Members 1 and 6 tie for best; a rotating start would give 6 of 8 wins to member 1.
    const members = [30, 10, 30, 30, 30, 30, 10, 30].map((cost) => member(cost, 1));
    const hits = histogram(strategy, members, 8_000);
    expect(hits[1] + hits[6]).toBe(8_000);
    expect(hits[1]).toBeGreaterThan(3_600); // 4,000 expected; 3,600 is > 8 sigma away
    expect(hits[6]).toBeGreaterThan(3_600);
    // All equal: every member about 1/8.
    const even = histogram(
      strategy,
      [1, 2, 3, 4, 5, 6, 7, 8].map(() => member(0)),
      8_000,
    );
    for (const count of even) {
      expect(count).toBeGreaterThan(800); // 1,000 expected
    }
  });

  it('gives a member with no measurement one call at a time', () => {
    const strategy = new PeakEwmaStrategy(2);
    const busy = [member(20, 40), member(20, 40), member(20, 40)];
    // Idle and unmeasured: free, so it gets the call however loaded the others are.
    expect(strategy.pick([...busy, member(0, 0)], 4)).toBe(3);
    // One call in flight and still no answer: busier than any measured member.
    expect(strategy.pick([...busy, member(0, 1)], 4)).not.toBe(3);
    // Among members that are all unmeasured and busy, the one with fewest calls.
    expect(strategy.pick([member(0, 3), member(0, 1), member(0, 2)], 3)).toBe(1);
  });

  it(`scans every member up to ${PEAK_EWMA_SCAN_LIMIT}, and uses two random choices above`, () => {
    const strategy = new PeakEwmaStrategy();
    const withBest = (count: number) =>
      Array.from({ length: count }, (_, i) => member(i === count - 1 ? 1 : 100, 1));
    const scanned = histogram(strategy, withBest(PEAK_EWMA_SCAN_LIMIT), 1_000);
    expect(scanned[PEAK_EWMA_SCAN_LIMIT - 1]).toBe(1_000);
    const size = PEAK_EWMA_SCAN_LIMIT + 4;
    const sampled = histogram(strategy, withBest(size), 20_000);
    // Two distinct random members: the best is in the pair with probability 2/size (10 %).
    expect(sampled[size - 1]).toBeGreaterThan(1_600);
    expect(sampled[size - 1]).toBeLessThan(2_400);
    expect(sampled.every((hits) => hits > 0)).toBe(true);
  });

  it('always picks 0 from a single member', () => {
    expect(new PeakEwmaStrategy().pick([member(0, 5)], 1)).toBe(0);
  });
});
