import { connectivityState } from '@grpc/grpc-js';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { CallTotals } from '../../lib/member/call-totals.js';
import type { Member } from '../../lib/member/member.js';
import { TRANSITIONS, type Lifecycle } from '../../lib/member/member-lifecycle.js';
import { MemberHolds } from '../../lib/membership/member-holds.js';
import { Membership } from '../../lib/membership/membership.js';
import { MemberEjection } from '../../lib/policies/member-ejection.js';
import { PoolScaler } from '../../lib/pool/pool-scaler.js';
import {
  ALL_PROPS,
  commandArb,
  configArb,
  install,
  uninstall,
  withTransition,
  World,
  type Prop,
  type WorldConfig,
} from './lifecycle-world.js';
import { settle } from './fake-channel.js';
import { MAX_COMMANDS, MODEL_RUNS, reportRuns, timeoutFor } from './model-runs.js';

/**
 * Level (d): the member state machine under every trigger at once (issue 18): scale,
 * autoscale, renewal, reset budget, move, health, ejection, connectivity, close, and calls,
 * interleaved (operations are left pending while the next commands run). The real
 * `PoolMembership` over a real `PoolStateService`; the test drives connectivity and time
 * (see `lifecycle-world.ts`). After every command, inside every transition, and after close:
 *
 * - P1 a member is in the slot table exactly while `serving`; slots packed 0..count-1;
 * - P2 size within bounds (autoscale's when on; >= 1 while open); a kept member listed once;
 *   a replacement never in the size, never serving before its swap;
 * - P3 every transition in TRANSITIONS, none after `closed`; every member not closed listed
 *   once, a closed one never; after close every member ever made closed exactly once;
 * - P4 calls started, in flight and ended by status: departed totals + listed members equal
 *   what the callers saw;
 * - P5 a guarded hold never leaves fewer than half the kept members serving;
 * - P6 each live member is held for exactly what the policies asked (a replacement starts
 *   with its predecessor's verdicts and takes over its ejection at the swap): never serving
 *   while a reason holds, never held for a reason that let go.
 *
 * Each property then gets a mutant of the guard that keeps it: the model must find a run
 * that breaks it.
 */

type Prototype = Record<string, unknown>;

const COUNTED = [
  'commands',
  'transitions',
  'replacements',
  'swaps',
  'holds',
  'refused',
  'calls',
  'cancelled',
  'autoscaler',
] as const;

type Stats = { runs: number; asked: Record<string, number> } & Record<
  (typeof COUNTED)[number],
  number
>;

function property(props: ReadonlySet<Prop>, stats?: Stats) {
  return fc.asyncProperty(
    configArb,
    fc.integer(),
    fc.commands([commandArb], { maxCommands: MAX_COMMANDS.lifecycle, size: 'max' }),
    async (config, seed, commands) => {
      const world = new World(config, seed, props);
      try {
        await world.start();
        world.checkAll('after start');
        await fc.asyncModelRun(() => ({ model: {}, real: world }), commands);
        await world.finish();
        if (stats !== undefined) {
          stats.runs++;
          for (const key of COUNTED) stats[key] += world.counters[key];
          for (const reason of world.counters.asked) {
            stats.asked[reason] = (stats.asked[reason] ?? 0) + 1;
          }
        }
      } finally {
        await world.cleanup();
        world.dispose();
      }
    },
  );
}

/** Runs the model with one property checked, under a mutant; returns how it failed. */
async function hunt(
  prop: Prop,
): Promise<{ failed: boolean; counterexample: string; commands: number; message: string }> {
  const result = await fc.check(property(new Set([prop])), {
    // Stops at the first counterexample: a generous bound costs only when a mutant hides.
    numRuns: MODEL_RUNS.lifecycleMutant * 5,
  });
  const shrunk = result.counterexample?.[2];
  const described = shrunk === undefined ? '' : String(shrunk);
  return {
    failed: result.failed,
    counterexample: `${JSON.stringify(result.counterexample?.[0])} ${described}`,
    commands: described === '' ? 0 : described.split(/,(?![^()]*\))/).length,
    message: String((result.errorInstance as Error | undefined)?.message ?? '').split('\n')[0],
  };
}

/**
 * `Membership.drain` without its skip of members already leaving: every member given is
 * listed as leaving again and drained again.
 */
function redrain(
  this: Membership,
  members: readonly Member[],
  why: Parameters<Membership['drain']>[1],
  reason: string,
): Promise<number> {
  const self = this as unknown as {
    leavingMembers: Set<Member>;
    drains: Set<Promise<number>>;
    drainNow(members: readonly Member[], why: string, reason: string): Promise<number>;
  };
  for (const member of members) self.leavingMembers.add(member);
  const drain = self.drainNow(members, why, reason).finally(() => self.drains.delete(drain));
  self.drains.add(drain);
  return drain;
}

const caught: Record<string, { counterexample: string; commands: number; message: string }> = {};

async function expectCaught(name: string, prop: Prop): Promise<void> {
  const { failed, counterexample, commands, message } = await hunt(prop);
  expect(failed).toBe(true);
  expect(message).toContain(`[${prop}]`);
  caught[name] = { counterexample, commands, message };
}

describe('member lifecycle model (fast-check, every trigger interleaved)', () => {
  beforeAll(install);
  afterAll(() => {
    uninstall();
    console.log(JSON.stringify({ mutants: caught }, null, 1));
  });

  it(
    'keeps P1-P6 under scale, autoscale, renewal, reset budget, move, health, ejection, connectivity, calls and close',
    async () => {
      const stats = { runs: 0, asked: {} } as Stats;
      for (const key of COUNTED) stats[key] = 0;
      await fc.assert(property(new Set(ALL_PROPS), stats), { numRuns: MODEL_RUNS.lifecycle });
      reportRuns('lifecycle', { maxCommands: MAX_COMMANDS.lifecycle, ...stats });
      expect(stats.runs).toBe(MODEL_RUNS.lifecycle);
    },
    timeoutFor(60_000),
  );

  describe('regressions the model found (each failed before its fix)', () => {
    const READY = connectivityState.READY;

    /** One scripted run with every property checked; closes and checks the end. */
    async function scripted(
      config: WorldConfig,
      script: (world: World) => Promise<void>,
    ): Promise<void> {
      const world = new World(config, 1, new Set(ALL_PROPS));
      try {
        await world.start();
        await script(world);
        await world.finish();
      } finally {
        await world.cleanup();
        world.dispose();
      }
    }

    it('an ejection that begins while its replacement is made holds the new member out', async () => {
      await scripted({ size: 2, autoscale: undefined, warmUp: false }, async (world) => {
        const [old, other] = world.membership.members;
        world.connect(other, READY);
        world.track(world.membership.replace(old, { reason: 'max-age' }));
        await settle();
        old.channel.onFailureStreak?.();
        expect(old.isOut('ejected')).toBe(true);
        const [fresh] = world.membership.renewals.making;
        world.connect(fresh, READY);
        await settle();
        expect(world.membership.members).toContain(fresh);
        expect(fresh.isOut('ejected')).toBe(true);
        expect(fresh.state).toBe('held');
        world.checkAll('after the swap');
      });
    });

    it('an ejection that ends while its replacement is made does not hold the new member out for good', async () => {
      await scripted({ size: 3, autoscale: undefined, warmUp: false }, async (world) => {
        const [old] = world.membership.members;
        for (const member of world.membership.members) world.connect(member, READY);
        old.channel.onFailureStreak?.();
        expect(old.isOut('ejected')).toBe(true);
        world.track(world.membership.replace(old, { reason: 'max-age' }));
        await settle();
        const [fresh] = world.membership.renewals.making;
        // baseEjectionMs (200): the ejection ends, on the old member, before the swap.
        await jest.advanceTimersByTimeAsync(200);
        expect(old.isOut('ejected')).toBe(false);
        world.connect(fresh, READY);
        await settle();
        expect(world.membership.members).toContain(fresh);
        expect(fresh.isOut('ejected')).toBe(false);
        expect(fresh.state).toBe('serving');
        world.checkAll('after the swap');
      });
    });

    it('a replacement whose warm-up ends after close() is not listed again once closed', async () => {
      await scripted({ size: 1, autoscale: undefined, warmUp: true }, async (world) => {
        const [old] = world.membership.members;
        world.connect(old, READY);
        world.track(world.membership.replace(old, { reason: 'max-age' }));
        await settle();
        const [fresh] = world.membership.renewals.making;
        world.connect(fresh, READY);
        await settle();
        expect(world.warmUps).toHaveLength(1);
        world.closeNow();
        await world.closing;
        expect(fresh.state).toBe('closed');
        world.warmUps[0].fail(new Error('warm-up failed'));
        await settle();
        expect(world.membership.everyMember()).toEqual([]);
      });
    });
  });

  it(
    'P1-slots fails when leaving serving does not unregister',
    async () => {
      await withTransition(
        () =>
          function (this: Member, from: readonly Lifecycle[], to: Lifecycle): boolean {
            const self = this as unknown as {
              current: Lifecycle;
              channel: Member['channel'];
              owner: Membership;
            };
            const was = self.current;
            if (!from.includes(was) || !TRANSITIONS[was].includes(to)) return false;
            self.current = to;
            if (to === 'serving') self.owner.table.register(this, self.channel);
            self.owner.transitioned(this, was, to);
            return true;
          },
        () => expectCaught('P1 without unregister', 'P1-slots'),
      );
    },
    timeoutFor(30_000),
  );

  it(
    'P2-size fails when the size counts the replacement in the making',
    async () => {
      const descriptor = Object.getOwnPropertyDescriptor(Membership.prototype, 'size')!;
      Object.defineProperty(Membership.prototype, 'size', {
        configurable: true,
        get(this: Membership) {
          return this.members.length + this.renewals.making.length;
        },
      });
      try {
        await expectCaught('P2 size counts replacements', 'P2-size');
      } finally {
        Object.defineProperty(Membership.prototype, 'size', descriptor);
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P2-size fails when the autoscaler removal ignores autoscale.min',
    async () => {
      const scaler = PoolScaler.prototype as unknown as Prototype;
      const original = scaler.autoscaleDown;
      scaler.autoscaleDown = async function (this: PoolScaler): Promise<boolean> {
        const self = this as unknown as {
          members: Membership;
          run(op: string, n: number, change: () => { size: number }): Promise<number>;
          cancelReason(what: string): string;
        };
        await self.run('autoscale', -1, () => {
          if (this.bounds !== undefined) {
            void self.members.retireNow(1, 'scale-down', self.cancelReason('scaled down'));
          }
          return { size: self.members.size };
        });
        return true;
      };
      try {
        await expectCaught('P2 autoscale below min', 'P2-size');
      } finally {
        scaler.autoscaleDown = original;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P3-closed-once fails when Membership.drain lists a member already leaving again',
    async () => {
      const membership = Membership.prototype as unknown as Prototype;
      const drain = membership.drain;
      membership.drain = redrain;
      try {
        await expectCaught('P3 re-drain of a leaving member', 'P3-closed-once');
      } finally {
        membership.drain = drain;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P3-closed-once fails when transition skips its from/TRANSITIONS check (and a member is drained twice)',
    async () => {
      const membership = Membership.prototype as unknown as Prototype;
      const drain = membership.drain;
      membership.drain = redrain;
      try {
        await withTransition(
          () =>
            function (this: Member, _from: readonly Lifecycle[], to: Lifecycle): boolean {
              const self = this as unknown as {
                current: Lifecycle;
                channel: Member['channel'];
                owner: Membership;
              };
              const was = self.current;
              self.current = to;
              if (was === 'serving') self.owner.table.unregister(this);
              if (to === 'serving') self.owner.table.register(this, self.channel);
              self.owner.transitioned(this, was, to);
              return true;
            },
          () => expectCaught('P3 without the TRANSITIONS check', 'P3-closed-once'),
        );
      } finally {
        membership.drain = drain;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P3-closed-once fails when close() forgets the replacement in the making',
    async () => {
      const membership = Membership.prototype as unknown as Prototype;
      const close = membership.close as Membership['close'];
      membership.close = function (this: Membership, reason: string) {
        // close() reads the replacement in the making synchronously: hide it for that read.
        Object.defineProperty(this.renewals, 'making', { configurable: true, get: () => [] });
        try {
          return close.call(this, reason);
        } finally {
          delete (this.renewals as unknown as Prototype).making;
        }
      };
      try {
        await expectCaught('P3 close forgets the replacement', 'P3-closed-once');
      } finally {
        membership.close = close;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P4-counts fails when a member is folded into the totals as it starts draining',
    async () => {
      const totals = CallTotals.prototype as unknown as Prototype;
      const membership = Membership.prototype as unknown as Prototype;
      const fold = totals.fold as CallTotals['fold'];
      const transitioned = membership.transitioned as Membership['transitioned'];
      totals.fold = () => {};
      membership.transitioned = function (
        this: Membership,
        member: Member,
        from: Lifecycle,
        to: Lifecycle,
      ) {
        if (to === 'draining') fold.call(this.departed, member.target, member.channel);
        transitioned.call(this, member, from, to);
      };
      try {
        await expectCaught('P4 fold at drain start', 'P4-counts');
      } finally {
        totals.fold = fold;
        membership.transitioned = transitioned;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P5-half-pool fails when the half-pool guard is removed',
    async () => {
      const holds = MemberHolds.prototype as unknown as Prototype;
      const original = holds.mayHoldOut;
      holds.mayHoldOut = () => true;
      try {
        await expectCaught('P5 without the guard', 'P5-half-pool');
      } finally {
        holds.mayHoldOut = original;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P6-holds fails when a replacement does not carry its predecessor holds',
    async () => {
      const membership = Membership.prototype as unknown as Prototype;
      const make = membership.make as Membership['make'];
      membership.make = function (
        this: Membership,
        target: string,
        extra: Parameters<Membership['make']>[1],
      ) {
        return make.call(this, target, { ...extra, outs: undefined });
      };
      try {
        await expectCaught('P6 replacement drops holds', 'P6-holds');
      } finally {
        membership.make = make;
      }
    },
    timeoutFor(30_000),
  );

  it(
    'P6-holds fails when the ejection is not taken over at the swap',
    async () => {
      const ejection = MemberEjection.prototype as unknown as Prototype;
      const replaced = ejection.replaced;
      ejection.replaced = function (this: MemberEjection, old: Member, fresh: Member) {
        const self = this as unknown as { records: Map<Member, { member: Member }> };
        const record = self.records.get(old);
        if (record !== undefined) {
          self.records.delete(old);
          record.member = fresh;
          self.records.set(fresh, record);
        }
      };
      try {
        await expectCaught('P6 ejection not carried at the swap', 'P6-holds');
      } finally {
        ejection.replaced = replaced;
      }
    },
    timeoutFor(30_000),
  );
});
