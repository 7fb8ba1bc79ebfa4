import { Metadata, status as Status } from '@grpc/grpc-js';
import type { InterceptingListener } from '../../lib/member/grpc-types.js';
import fc from 'fast-check';
import type { PoolStrategy } from '../../lib/interfaces/pool-strategy.interface.js';
import type { MemberChannel } from '../../lib/member/member-channel.js';
import { PoolStateService } from '../../lib/state/pool-state.service.js';
import { LeastLoadedStrategy } from '../../lib/strategies/least-loaded.strategy.js';
import { PowerOfTwoStrategy } from '../../lib/strategies/power-of-two.strategy.js';
import { RandomStrategy } from '../../lib/strategies/random.strategy.js';
import { RoundRobinStrategy } from '../../lib/strategies/round-robin.strategy.js';
import {
  fakeMember,
  settle,
  type CancelReport,
  type FakeCall,
  type FakeChannel,
} from './fake-channel.js';
import { MAX_COMMANDS, MODEL_RUNS, reportRuns, timeoutFor } from './model-runs.js';
import { SlotModel, slotTableProblems } from './slot-model.js';

/**
 * Level (a): random command sequences over the slot table itself, with fake workers and real
 * `MemberChannel`s (so the pool's own in-flight counting runs) over fake grpc-js calls.
 * After every command: the slot invariants, the exact layout against a sequential model,
 * every member's in-flight and started counts, and `whenReady` waiters.
 */

interface FakeWorker {
  readonly id: number;
}

type StrategyName = 'round-robin' | 'random' | 'power-of-two' | 'least-loaded';

interface LiveCall {
  readonly fake: FakeCall;
  readonly call: ReturnType<MemberChannel['createCall']>;
  readonly member: MemberChannel;
}

/** The system under test and its model side by side; every command updates both. */
class World {
  readonly state = new PoolStateService<FakeWorker, MemberChannel>();
  readonly model = new SlotModel<FakeWorker, MemberChannel>();
  /** Workers the pool keeps, in the order they were made. */
  alive: FakeWorker[] = [];
  /** Workers scaled down: they must never hold a slot again. */
  readonly removed: FakeWorker[] = [];
  /** Objects never registered, for unregister-of-unknown. */
  readonly strangers: FakeWorker[] = [{ id: -1 }];
  /** Each worker's current member. */
  readonly memberOf = new Map<FakeWorker, MemberChannel>();
  /** Every member ever made, with its fake channel and the model's counts. */
  readonly members = new Map<
    MemberChannel,
    { channel: FakeChannel; live: number; started: number }
  >();
  /** Calls started and not yet ended, per the model. */
  calls: LiveCall[] = [];
  /** Calls made but not started yet (an interceptor that starts them late), per the model. */
  pending: PendingCall[] = [];
  readonly strategies: Record<StrategyName, PoolStrategy> = {
    'round-robin': new RoundRobinStrategy(),
    random: new RandomStrategy(),
    'power-of-two': new PowerOfTwoStrategy(),
    'least-loaded': new LeastLoadedStrategy(),
  };
  /** The model of round-robin's counter. */
  roundRobinNext = 0;
  registerCalls = 0;
  readonly waiters: Array<{ settled: boolean; expectSettled: () => boolean }> = [];
  private nextId = 0;
  stats = { commands: 0, picks: 0, callsStarted: 0, maxCount: 0 };

  newWorker(): FakeWorker {
    const worker = { id: this.nextId++ };
    this.alive.push(worker);
    this.memberOf.set(worker, this.newMember());
    return worker;
  }

  newMember(): MemberChannel {
    const { member, channel } = fakeMember();
    this.members.set(member, { channel, live: 0, started: 0 });
    return member;
  }

  allWorkers(): FakeWorker[] {
    return [...this.alive, ...this.removed, ...this.strangers];
  }

  /** Registers through the service and the model and checks they agree on the slot. */
  async register(worker: FakeWorker, member: MemberChannel): Promise<void> {
    this.registerCalls++;
    const expected = this.model.register(worker, member);
    const slot = await this.state.register(worker, member);
    if (slot !== expected) {
      throw new Error(`register(worker ${worker.id}) gave slot ${slot}, model ${expected}`);
    }
  }

  async unregister(worker: FakeWorker): Promise<void> {
    this.model.unregister(worker);
    await this.state.unregister(worker);
  }

  /** The model's view of a call ending: once, whatever path ended it. */
  ended(call: LiveCall): void {
    this.calls = this.calls.filter((live) => live !== call);
    this.members.get(call.member)!.live--;
  }

  /** Throws with every broken invariant; runs after every command. */
  async verify(): Promise<void> {
    await settle();
    this.stats.commands++;
    this.stats.maxCount = Math.max(this.stats.maxCount, this.state.count);
    const problems = slotTableProblems(
      this.state,
      this.allWorkers(),
      this.model,
      (worker) => `worker ${worker.id}`,
    );
    for (const worker of this.removed) {
      if (this.state.slotOf(worker) !== undefined) {
        problems.push(`removed worker ${worker.id} holds a slot`);
      }
    }
    let index = 0;
    for (const [member, expected] of this.members) {
      if (member.inFlight !== expected.live || member.inFlight < 0) {
        problems.push(`member ${index}: inFlight ${member.inFlight}, model ${expected.live}`);
      }
      if (member.started !== expected.started) {
        problems.push(`member ${index}: started ${member.started}, model ${expected.started}`);
      }
      index++;
    }
    this.waiters.forEach((waiter, i) => {
      if (waiter.settled !== waiter.expectSettled()) {
        problems.push(`whenReady waiter ${i}: settled ${waiter.settled}`);
      }
    });
    if (problems.length > 0) {
      throw new Error(problems.join('\n'));
    }
  }
}

type Command = fc.AsyncCommand<World, World>;

class ScaleUp implements Command {
  constructor(readonly n: number) {}
  check = () => true;
  async run(world: World): Promise<void> {
    for (let i = 0; i < this.n; i++) {
      world.newWorker();
    }
    await world.verify();
  }
  toString = () => `scaleUp(${this.n})`;
}

/** A worker becomes READY, or registers again (maybe with a fresh member, as after a channel swap). */
class Register implements Command {
  constructor(
    readonly pick: number,
    readonly fresh: boolean,
  ) {}
  check = (world: Readonly<World>) => world.alive.length > 0;
  async run(world: World): Promise<void> {
    const worker = world.alive[this.pick % world.alive.length];
    if (this.fresh) {
      world.memberOf.set(worker, world.newMember());
    }
    const before = world.state.slotOf(worker);
    await world.register(worker, world.memberOf.get(worker)!);
    if (before !== undefined && world.state.slotOf(worker) !== before) {
      throw new Error(`worker ${worker.id} moved from slot ${before} on re-register`);
    }
    await world.verify();
  }
  toString = () => `register(#${this.pick}${this.fresh ? ', fresh member' : ''})`;
}

class Unregister implements Command {
  constructor(readonly pick: number) {}
  check = (world: Readonly<World>) => world.alive.length > 0;
  async run(world: World): Promise<void> {
    await world.unregister(world.alive[this.pick % world.alive.length]);
    await world.verify();
  }
  toString = () => `unregister(#${this.pick})`;
}

class UnregisterUnknown implements Command {
  constructor(readonly removed: boolean) {}
  check = () => true;
  async run(world: World): Promise<void> {
    const worker =
      this.removed && world.removed.length > 0 ? world.removed.at(-1)! : world.strangers[0];
    const before = [...world.state.slots];
    await world.unregister(worker);
    if (
      world.state.slots.length !== before.length ||
      world.state.slots.some((member, slot) => member !== before[slot])
    ) {
      throw new Error(`unregister of unknown worker ${worker.id} changed the table`);
    }
    await world.verify();
  }
  toString = () => `unregister(unknown ${this.removed ? 'removed' : 'stranger'})`;
}

/**
 * Takes `n` workers away as the pool does: not-ready first, then the least loaded, newest
 * first among equals; unregisters them together; optionally drains (cancels) their calls.
 */
class ScaleDown implements Command {
  constructor(
    readonly n: number,
    readonly drain: boolean,
  ) {}
  check = (world: Readonly<World>) => world.alive.length > 0;
  async run(world: World): Promise<void> {
    const load = (worker: FakeWorker) => world.memberOf.get(worker)!.inFlight;
    const ready = (worker: FakeWorker) => Number(world.state.slotOf(worker) !== undefined);
    const victims = [...world.alive]
      .sort((a, b) => ready(a) - ready(b) || load(a) - load(b) || b.id - a.id)
      .slice(0, this.n);
    world.alive = world.alive.filter((worker) => !victims.includes(worker));
    world.removed.push(...victims);
    await Promise.all(victims.map((victim) => world.unregister(victim)));
    if (this.drain) {
      for (const victim of victims) {
        const member = world.memberOf.get(victim)!;
        for (const call of world.calls.filter((live) => live.member === member)) {
          world.ended(call);
        }
        member.cancelAll(Status.CANCELLED, 'scaled down');
      }
    }
    await world.verify();
  }
  toString = () => `scaleDown(${this.n}${this.drain ? ', drain' : ''})`;
}

/** The hot path: the strategy picks from the table; optionally a call starts on the pick. */
class Pick implements Command {
  constructor(
    readonly strategy: StrategyName,
    readonly start: boolean,
    readonly cancelReport: CancelReport,
    readonly failStart: boolean,
  ) {}
  check = () => true;
  async run(world: World): Promise<void> {
    const { state, model } = world;
    const count = state.count;
    if (count === 0) {
      await world.verify();
      return;
    }
    world.stats.picks++;
    const index = world.strategies[this.strategy].pick(state.slots, count);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new Error(`${this.strategy} picked ${index} of ${count}`);
    }
    if (this.strategy === 'round-robin') {
      const expected = world.roundRobinNext >= count ? 0 : world.roundRobinNext;
      world.roundRobinNext = expected + 1;
      if (index !== expected) {
        throw new Error(`round-robin picked ${index}, model ${expected}`);
      }
    }
    if (this.strategy === 'least-loaded') {
      const least = Math.min(...state.slots.map((member) => member.inFlight));
      if (state.slots[index].inFlight !== least) {
        throw new Error(`least-loaded picked load ${state.slots[index].inFlight}, least ${least}`);
      }
    }
    const member = state.slots[index];
    if (member !== model.slots[index].member) {
      throw new Error(`slot ${index} holds another member than the model's`);
    }
    if (this.start) {
      const counts = world.members.get(member)!;
      counts.channel.next = { cancelReport: this.cancelReport, failStart: this.failStart };
      const call = member.createCall('/echo.Echo/Unary', Infinity, undefined, null, undefined);
      const listener: InterceptingListener = {
        onReceiveMetadata: () => {},
        onReceiveMessage: () => {},
        onReceiveStatus: () => {},
      };
      counts.started++;
      try {
        call.start(new Metadata(), listener);
        counts.live++;
        world.calls.push({ fake: counts.channel.calls.at(-1)!, call, member });
        world.stats.callsStarted++;
      } catch (error) {
        if (!this.failStart) {
          throw error;
        }
      }
    }
    await world.verify();
  }
  toString = () =>
    `pick(${this.strategy}${this.start ? `, start call: cancel ${this.cancelReport}${this.failStart ? ', start fails' : ''}` : ''})`;
}

interface PendingCall {
  readonly call: ReturnType<MemberChannel['createCall']>;
  readonly member: MemberChannel;
  /** Made with a deadline that had already passed by the time it starts. */
  readonly expired: boolean;
}

/** A call made now and started later (or never), as an async interceptor does. */
class CreateLate implements Command {
  constructor(
    readonly pick: number,
    readonly expired: boolean,
  ) {}
  check = () => true;
  async run(world: World): Promise<void> {
    const count = world.state.count;
    if (count > 0) {
      const member = world.state.slots[this.pick % count];
      const deadline = this.expired ? Date.now() - 1 : Infinity;
      const call = member.createCall('/echo.Echo/Unary', deadline, undefined, null, undefined);
      world.pending.push({ call, member, expired: this.expired });
    }
    await world.verify();
  }
  toString = () => `createLate(#${this.pick}${this.expired ? ', deadline passed' : ''})`;
}

type LateEnding = 'start' | 'cancel, start later' | 'cancel, start same tick' | 'never start';

/**
 * What becomes of a late call. A grpc-js call cancelled before start reports no status (or
 * only to a listener set in the same tick); the member must count neither, and the caller
 * must hear CANCELLED exactly once. A call whose deadline passed before start is counted
 * and ends DEADLINE_EXCEEDED.
 */
class FinishLate implements Command {
  constructor(
    readonly pick: number,
    readonly how: LateEnding,
  ) {}
  check = (world: Readonly<World>) => world.pending.length > 0;
  async run(world: World): Promise<void> {
    const late = world.pending[this.pick % world.pending.length];
    world.pending = world.pending.filter((pending) => pending !== late);
    const counts = world.members.get(late.member)!;
    counts.channel.next = { cancelReport: 'grpc-js', failStart: false };
    const statuses: number[] = [];
    const listener: InterceptingListener = {
      onReceiveMetadata: () => {},
      onReceiveMessage: () => {},
      onReceiveStatus: (status) => statuses.push(status.code),
    };
    let expected: number[] = [];
    if (this.how === 'start') {
      late.call.start(new Metadata(), listener);
      counts.started++;
      if (late.expired) {
        expected = [Status.DEADLINE_EXCEEDED];
      } else {
        counts.live++;
        world.calls.push({
          fake: counts.channel.calls.at(-1)!,
          call: late.call,
          member: late.member,
        });
      }
    } else if (this.how !== 'never start') {
      late.call.cancelWithStatus(Status.CANCELLED, 'cancelled before start');
      if (this.how === 'cancel, start later') {
        await settle();
      }
      late.call.start(new Metadata(), listener);
      expected = [Status.CANCELLED];
    }
    await world.verify();
    await settle();
    if (statuses.join() !== expected.join()) {
      throw new Error(`${this}: the caller heard [${statuses}], expected [${expected}]`);
    }
  }
  toString = () => `finishLate(#${this.pick}, ${this.how})`;
}

type Ending = 'ok' | 'error' | 'cancel' | 'status twice';

class EndCall implements Command {
  constructor(
    readonly pick: number,
    readonly how: Ending,
  ) {}
  check = (world: Readonly<World>) => world.calls.length > 0;
  async run(world: World): Promise<void> {
    const live = world.calls[this.pick % world.calls.length];
    world.ended(live);
    switch (this.how) {
      case 'ok':
        live.fake.finish(Status.OK);
        break;
      case 'error':
        live.fake.finish(Status.UNAVAILABLE);
        break;
      case 'cancel':
        live.call.cancelWithStatus(Status.CANCELLED, 'cancelled by the test');
        break;
      case 'status twice':
        live.fake.finish(Status.OK);
        live.fake.finish(Status.INTERNAL);
        break;
    }
    await world.verify();
  }
  toString = () => `endCall(#${this.pick}, ${this.how})`;
}

/** A member's drain after its timeout: every call still on it is cancelled. */
class CancelAll implements Command {
  constructor(readonly pick: number) {}
  check = () => true;
  async run(world: World): Promise<void> {
    const members = [...world.members.keys()];
    const member = members[this.pick % members.length];
    if (member === undefined) {
      await world.verify();
      return;
    }
    for (const call of world.calls.filter((live) => live.member === member)) {
      world.ended(call);
    }
    member.cancelAll(Status.CANCELLED, 'drain timed out');
    await world.verify();
  }
  toString = () => `cancelAll(member #${this.pick})`;
}

class WhenReady implements Command {
  check = () => true;
  async run(world: World): Promise<void> {
    const readyNow = world.state.count > 0;
    const registersBefore = world.registerCalls;
    const waiter = {
      settled: false,
      expectSettled: () => readyNow || world.registerCalls > registersBefore,
    };
    world.waiters.push(waiter);
    void world.state.whenReady().then(() => (waiter.settled = true));
    await world.verify();
  }
  toString = () => 'whenReady()';
}

const commands = [
  fc.integer({ min: 1, max: 3 }).map((n) => new ScaleUp(n)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, fresh]) => new Register(pick, fresh)),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, fresh]) => new Register(pick, fresh)),
  fc.nat().map((pick) => new Unregister(pick)),
  fc.boolean().map((removed) => new UnregisterUnknown(removed)),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.boolean())
    .map(([n, drain]) => new ScaleDown(n, drain)),
  fc
    .tuple(
      fc.constantFrom<StrategyName>('round-robin', 'random', 'power-of-two', 'least-loaded'),
      fc.boolean(),
      fc.constantFrom<CancelReport>('sync', 'microtask', 'macrotask', 'grpc-js'),
      fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    )
    .map(([strategy, start, report, failStart]) => new Pick(strategy, start, report, failStart)),
  fc
    .tuple(fc.nat(), fc.constantFrom<Ending>('ok', 'error', 'cancel', 'status twice'))
    .map(([pick, how]) => new EndCall(pick, how)),
  fc.nat().map((pick) => new CancelAll(pick)),
  fc.constant(new WhenReady()),
  fc
    .tuple(
      fc.nat(),
      fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    )
    .map(([pick, expired]) => new CreateLate(pick, expired)),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom<LateEnding>(
        'start',
        'cancel, start later',
        'cancel, start same tick',
        'never start',
      ),
    )
    .map(([pick, how]) => new FinishLate(pick, how)),
];
// The hot path and call endings carry the in-flight checks: give them more weight.
commands.push(commands[6], commands[6], commands[7]);

describe('slot table model (fast-check commands, PoolStateService + counted members)', () => {
  it(
    `keeps every slot invariant and every in-flight count exact (${MODEL_RUNS.slotTable} runs)`,
    async () => {
      const totals = { runs: 0, commands: 0, picks: 0, callsStarted: 0, maxCount: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 4 }),
          fc.commands(commands, { maxCommands: MAX_COMMANDS.slotTable, size: 'max' }),
          async (initial, sequence) => {
            const world = new World();
            for (let i = 0; i < initial; i++) {
              await world.register(world.newWorker(), world.memberOf.get(world.alive[i])!);
            }
            await fc.asyncModelRun(() => ({ model: world, real: world }), sequence);
            // End every call still live: each member must come back to exactly 0.
            for (const call of [...world.calls]) {
              world.ended(call);
              call.fake.finish(Status.OK);
            }
            await world.verify();
            totals.runs++;
            totals.commands += world.stats.commands;
            totals.picks += world.stats.picks;
            totals.callsStarted += world.stats.callsStarted;
            totals.maxCount = Math.max(totals.maxCount, world.stats.maxCount);
          },
        ),
        { numRuns: MODEL_RUNS.slotTable },
      );
      reportRuns('slotTable', totals);
      expect(totals.runs).toBeGreaterThanOrEqual(MODEL_RUNS.slotTable);
    },
    timeoutFor(30_000),
  );
});
