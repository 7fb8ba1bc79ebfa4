import type { PoolMemberLoad } from '../../lib/interfaces/pool-strategy.interface.js';
import { createStrategy, STRATEGY_NAMES } from '../../lib/strategies/create-strategy.js';
import { createPicker } from '../../lib/strategies/member-pickers.js';

class NoMember extends Error {}

/** A picker and what a pool makes of it: its `take`/`tryTake` run with the pool as `this`. */
function pickerOf(strategy: Parameters<typeof createStrategy>[1], slots: PoolMemberLoad[]) {
  const picker = createPicker(createStrategy('p', strategy), slots, () => {
    throw new NoMember();
  });
  return { picker, take: picker.take, tryTake: picker.tryTake, close: () => picker.close() };
}

describe('createPicker', () => {
  it.each(STRATEGY_NAMES)('%s: hands out members of the slot table and counts them', (name) => {
    const slots = [{ inFlight: 0 }, { inFlight: 0 }, { inFlight: 0 }];
    const picker = pickerOf(name, slots);
    for (let i = 0; i < 30; i++) {
      expect(slots).toContain(picker.tryTake());
      expect(slots).toContain(picker.take());
    }
    expect(picker.picker.picks).toBe(60);
  });

  it.each(STRATEGY_NAMES)('%s: reads the slot table live, and nothing once closed', (name) => {
    const slots: PoolMemberLoad[] = [];
    const picker = pickerOf(name, slots);
    expect(picker.tryTake()).toBeUndefined();
    expect(() => picker.take()).toThrow(NoMember);
    const member = { inFlight: 0 };
    slots.push(member);
    expect(picker.tryTake()).toBe(member);
    picker.close();
    expect(picker.tryTake()).toBeUndefined();
    expect(() => picker.take()).toThrow(NoMember);
    expect(picker.picker.picks).toBe(1);
  });

  it('round-robin goes through the table in order', () => {
    const slots = [{ inFlight: 0 }, { inFlight: 0 }, { inFlight: 0 }];
    const picker = pickerOf('round-robin', slots);
    expect(Array.from({ length: 6 }, () => slots.indexOf(picker.take()))).toEqual([
      0, 1, 2, 0, 1, 2,
    ]);
  });

  it("a user's strategy is asked with the table and its count, and checked", () => {
    const slots = [{ inFlight: 0 }, { inFlight: 5 }];
    const calls: Array<[ArrayLike<PoolMemberLoad>, number]> = [];
    const picker = pickerOf(
      {
        name: 'second',
        pick: (members, count) => {
          calls.push([members, count]);
          return calls.length === 1 ? 1 : 2;
        },
      },
      slots,
    );
    expect(picker.tryTake()).toBe(slots[1]);
    expect(calls[0][0]).toBe(slots);
    expect(calls[0][1]).toBe(2);
    expect(() => picker.tryTake()).toThrow(/strategy "second" picked 2/);
  });
});
