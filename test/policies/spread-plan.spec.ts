import { connectivityState as State } from '@grpc/grpc-js';
import type { Member } from '../../lib/member/member.js';
import {
  chooseAddress,
  earliestRetry,
  isDown,
  planMoves,
  refusedAgain,
  type Refusal,
} from '../../lib/policies/spread-plan.js';

/** What `planMoves` reads of a member: its address, state and calls in flight. */
const member = (address: string, state = State.READY) =>
  ({
    connection: { address, state },
    state: state === State.READY ? 'serving' : 'connecting',
    channel: { inFlight: 0 },
  }) as unknown as Member;

describe('where spread members go (spread-plan)', () => {
  const backoff = { initialMs: 1_000, maxMs: 5_000 };

  it('a refused address backs off like grpc-js: initial, x1.6, capped, ±20 %', () => {
    let refusal: Refusal | undefined;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      refusal = refusedAgain(refusal, 0, backoff, () => 0.5);
      delays.push(Math.round(refusal.retryAt));
    }
    expect(delays).toEqual([1_000, 1_600, 2_560, 4_096, 5_000, 5_000]);
    expect(refusedAgain(undefined, 0, backoff, () => 0).retryAt).toBe(800);
    expect(refusedAgain(undefined, 0, backoff, () => 0.999999).retryAt).toBeCloseTo(1_200);
  });

  it('a member goes to the least-used live address, or when none is live to the first to expire', () => {
    const dials = ['a', 'b', 'c'];
    const used = (dial: string) => ({ a: 3, b: 1, c: 2 })[dial] ?? 0;
    const refused = new Map<string, Refusal>([['b', { failures: 1, retryAt: 100 }]]);
    expect(isDown(refused, 'b', 50)).toBe(true);
    expect(chooseAddress(dials, refused, used, 50)).toBe('c');
    // Its backoff expired: b may be dialled again.
    expect(chooseAddress(dials, refused, used, 100)).toBe('b');
    refused.set('a', { failures: 2, retryAt: 300 });
    refused.set('c', { failures: 1, retryAt: 200 });
    expect(chooseAddress(dials, refused, used, 50, { except: 'a' })).toBeUndefined();
    expect(chooseAddress(dials, refused, used, 50, { orEarliest: true })).toBe('b');
    expect(earliestRetry(['a', 'c'], refused)).toBe('c');
  });

  it('after a roll (3/3/0) the returned address gets one READY probe, then its share', () => {
    const workers = [...['a', 'a', 'a', 'b', 'b', 'b'].map((dial) => member(dial))];
    const probe = planMoves(workers, ['a', 'b', 'c'], new Set(['c']));
    expect(probe.map((move) => move.to)).toEqual(['c']);
    expect(planMoves(workers, ['a', 'b', 'c']).map((move) => move.to)).toEqual(['c', 'c']);
    // Members holding no slot are no capacity to lose: they all go, probe or not.
    const failing = [member('a'), member('a'), member('b'), member('b')].concat([
      member('x', State.TRANSIENT_FAILURE),
      member('x', State.TRANSIENT_FAILURE),
    ]);
    expect(planMoves(failing, ['a', 'b', 'c'], new Set(['c'])).map((move) => move.to)).toEqual([
      'c',
      'c',
    ]);
  });
});
