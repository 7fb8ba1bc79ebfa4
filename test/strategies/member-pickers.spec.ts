import type { PoolMemberLoad } from '../../lib/interfaces/pool-strategy.interface.js';
import { createStrategy, STRATEGY_NAMES } from '../../lib/strategies/create-strategy.js';
import { createPicker } from '../../lib/strategies/member-pickers.js';

class NoMember extends Error {}

function pickerOf(strategy: Parameters<typeof createStrategy>[1], slots: PoolMemberLoad[]) {
  return createPicker(createStrategy('p', strategy), slots, () => {
    throw new NoMember();
  });
}

describe('createPicker', () => {
  it.each(STRATEGY_NAMES)('%s: hands out members of the slot table and counts them', (name) => {
    const slots = [{ inFlight: 0 }, { inFlight: 0 }, { inFlight: 0 }];
    const picker = pickerOf(name, slots);
    for (let i = 0; i < 30; i++) {
      expect(slots).toContain(picker.pick());
      expect(slots).toContain(picker.take());
    }
    expect(picker.picks).toBe(60);
  });

  it.each(STRATEGY_NAMES)('%s: reads the slot table live, and nothing once closed', (name) => {
    const slots: PoolMemberLoad[] = [];
    const picker = pickerOf(name, slots);
    expect(picker.pick()).toBeUndefined();
    expect(() => picker.take()).toThrow(NoMember);
    const member = { inFlight: 0 };
    slots.push(member);
    expect(picker.pick()).toBe(member);
    picker.close();
    expect(picker.pick()).toBeUndefined();
    expect(() => picker.take()).toThrow(NoMember);
    expect(picker.picks).toBe(1);
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
    expect(picker.pick()).toBe(slots[1]);
    expect(calls[0][0]).toBe(slots);
    expect(calls[0][1]).toBe(2);
    expect(() => picker.pick()).toThrow(/strategy "second" picked 2/);
  });
});
