import { connectivityState as State, Metadata, status as Status } from '@grpc/grpc-js';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { PoolHealthChecker } from '../../lib/health-check/pool-health-checker.js';
import type { HealthResponse } from '../../lib/health-check/health-client.js';
import type { MemberOutReason } from '../../lib/interfaces/pool-status.interface.js';
import type { InterceptingListener } from '../../lib/member/grpc-types.js';
import { Member } from '../../lib/member/member.js';
import { MemberChannel } from '../../lib/member/member-channel.js';
import { MemberConnection } from '../../lib/member/member-connection.js';
import { TRANSITIONS, type Lifecycle } from '../../lib/member/member-lifecycle.js';
import { Membership } from '../../lib/membership/membership.js';
import type { MemberPolicy } from '../../lib/membership/member-policy.js';
import type { RenewalReason } from '../../lib/telemetry/pool-events.js';
import { resolvePoolOptions } from '../../lib/options/resolve-pool-options.js';
import { PoolMembership } from '../../lib/pool/pool-membership.js';
import { PoolScaler } from '../../lib/pool/pool-scaler.js';
import { PoolStateService } from '../../lib/state/pool-state.service.js';
import { RoundRobinStrategy } from '../../lib/strategies/round-robin.strategy.js';
import { FakeCall, FakeChannel, settle } from './fake-channel.js';

/**
 * The world of the member-lifecycle model test: the real `PoolMembership` (membership, scaler,
 * autoscaler, renewal by age, reset guard, ejection, health checking) over a real
 * `PoolStateService` and real grpc-js channels that never dial. The test drives connectivity:
 * `MemberConnection.start` and `redial` are stubbed, and a command moves a member's connection
 * through the connection's own `enter` (as grpc-js's watch would). Calls are real
 * `CountedCall`s on the members' `MemberChannel`s; only the grpc-js call behind one is a
 * `FakeCall` (`MemberChannel.openCall` stubbed), so the pool's own counting runs unchanged.
 * Timers are jest's fake ones (setTimeout, setInterval, Date): ejection ends, connect and
 * drain timeouts, the autoscaler's windows and renewal by age run when a command advances the
 * clock, so a run is deterministic and shrinks.
 */

/** The properties the model checks; a mutation test checks one of them alone. */
export type Prop =
  'P1-slots' | 'P2-size' | 'P3-closed-once' | 'P4-counts' | 'P5-half-pool' | 'P6-holds';

/** Every property: what the model test checks when no mutant is under test. */
export const ALL_PROPS: readonly Prop[] = [
  'P1-slots',
  'P2-size',
  'P3-closed-once',
  'P4-counts',
  'P5-half-pool',
  'P6-holds',
];

/** Silent: a run logs thousands of lines otherwise. */
const logger = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

/** A pool's shape for one run. */
export interface WorldConfig {
  readonly size: number;
  readonly autoscale: { min: number; max: number } | undefined;
  /** Replacements run the user's `warmUp`, which the test answers (or lets time out). */
  readonly warmUp: boolean;
}

/** A pool of 1-4 members, fixed or autoscaled within [min, max], with or without `warmUp`. */
export const configArb: fc.Arbitrary<WorldConfig> = fc.oneof(
  fc.record({
    size: fc.integer({ min: 1, max: 4 }),
    autoscale: fc.constant(undefined),
    warmUp: fc.boolean(),
  }),
  fc
    .record({ min: fc.integer({ min: 1, max: 2 }), span: fc.integer({ min: 0, max: 3 }) })
    .chain(({ min, span }) =>
      fc.record({
        size: fc.integer({ min, max: min + span }),
        autoscale: fc.constant({ min, max: min + span }),
        warmUp: fc.boolean(),
      }),
    ),
);

interface Private {
  connection: { closed: boolean; enter(state: State): void; address: string | undefined };
  health: { probers: Map<Member, unknown> };
}

/** The world the spies report to: one run at a time. */
let current: World | undefined;

function watch(world: World | undefined): void {
  current = world;
}
const restores: Array<() => void> = [];

/** A prober that never sends a probe: the test gives the health checker its answers. */
const silentProber = {
  start() {},
  stop() {},
  connectionLost() {},
  connected() {},
  resetWindow() {},
};

function patch<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): void {
  const original = target[key];
  target[key] = value;
  restores.push(() => (target[key] = original));
}

/**
 * Stubs what would touch the network, and spies on the lifecycle for the current world.
 * Call in `beforeAll`; {@link uninstall} in `afterAll`.
 */
export function install(): void {
  const connection = MemberConnection.prototype as unknown as Record<string, unknown>;
  patch(MemberConnection.prototype, 'start', function start(this: MemberConnection) {});
  patch(
    MemberConnection.prototype,
    'redial',
    function redial(this: MemberConnection, _reason, address?: string) {
      // A fresh grpc-js channel starts IDLE: that is what the real redial's watch reports.
      const self = this as unknown as Private['connection'];
      if (self.closed) return;
      if (address !== undefined) self.address = address;
      this.generation++;
      self.enter(State.IDLE);
    },
  );
  // The real one makes a call on the grpc-js channel to read its error: that would dial.
  const record = connection.recordLastError;
  connection.recordLastError = function (this: MemberConnection) {
    this.lastError = 'model: connection refused';
  };
  restores.push(() => (connection.recordLastError = record));
  patch(MemberChannel.prototype, 'openCall', function openCall() {
    const call = new FakeCall('sync', false, Infinity);
    if (current !== undefined) current.lastOpened = call;
    return call;
  });
  patch(PoolHealthChecker.prototype, 'joined', function joined(this: PoolHealthChecker, member) {
    (this as unknown as Private['health']).probers.set(member, silentProber);
  });
  const transition = Member.prototype.transition;
  transitionImpl = transition;
  restores.push(() => (transitionImpl = transition));
  patch(Member.prototype, 'transition', function spied(this: Member, from, to) {
    const was = this.state;
    const ok = transitionImpl.call(this, from, to);
    if (ok) current?.onTransition(this, was, to);
    return ok;
  });
  const holdOut = Membership.prototype.holdOut;
  patch(Membership.prototype, 'holdOut', function spied(this: Membership, member, reason, options) {
    const wasOut = member.out !== undefined;
    const granted = holdOut.call(this, member, reason, options);
    current?.onHoldOut(member, reason, options?.guarded === true, wasOut, granted);
    return granted;
  });
  const replace = Membership.prototype.replace;
  patch(Membership.prototype, 'replace', function spied(this: Membership, old, request) {
    // Counted when a policy asks (renewal by age, the reset guard), not the test's commands.
    if (current !== undefined && !current.asking) current.counters.asked.push(request.reason);
    return replace.call(this, old, request);
  });
  for (const key of ['autoscaleUp', 'autoscaleDown'] as const) {
    const real = PoolScaler.prototype[key] as () => Promise<unknown>;
    (PoolScaler.prototype as unknown as Record<string, unknown>)[key] = function (
      this: PoolScaler,
    ) {
      if (current !== undefined && !current.asking) current.counters.autoscaler++;
      return real.call(this);
    };
    restores.push(() => ((PoolScaler.prototype as unknown as Record<string, unknown>)[key] = real));
  }
  const letIn = Membership.prototype.letIn;
  patch(Membership.prototype, 'letIn', function spied(this: Membership, member, reason) {
    letIn.call(this, member, reason);
    current?.onLetIn(member, reason);
  });
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
}

/** What the transition spy calls: the real `Member.prototype.transition`, or a mutant. */
let transitionImpl: Member['transition'];

/**
 * Runs `body` with `mutant` as `Member.prototype.transition` underneath the spy (which keeps
 * watching), restoring the real one after.
 */
export async function withTransition<T>(
  mutant: (real: Member['transition']) => Member['transition'],
  body: () => Promise<T>,
): Promise<T> {
  const real = transitionImpl;
  transitionImpl = mutant(real);
  try {
    return await body();
  } finally {
    transitionImpl = real;
  }
}

/** Undoes {@link install}. */
export function uninstall(): void {
  jest.useRealTimers();
  while (restores.length > 0) restores.pop()!();
}

/** A seeded `Math.random` for one run (renewal by age jitters its deadlines with it). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface LiveCall {
  readonly member: Member;
  readonly fake: FakeCall;
}

/** One run: the system, what the test saw of it, and the checks. */
export class World {
  readonly state = new PoolStateService<Member, MemberChannel>();
  readonly pm: PoolMembership;
  readonly membership: Membership;
  readonly health: PoolHealthChecker;
  /** Where calls made on a member that left go (the pool's channel, here a fake). */
  readonly successor = new FakeChannel();
  /** Every member ever made, in order. */
  readonly made: Member[] = [];
  readonly closedTimes = new Map<Member, number>();
  /** The hold reasons the policies asked for each member and did not let go of. */
  readonly asked = new Map<Member, Set<MemberOutReason>>();
  readonly calls: LiveCall[] = [];
  started = 0;
  rerouted = 0;
  readonly ended = new Array<number>(17).fill(0);
  lastOpened: FakeCall | undefined;
  /** `warmUp` tries not answered yet. */
  readonly warmUps: Array<{ ok: (value: unknown) => void; fail: (error: Error) => void }> = [];
  readonly pending: Array<{ settled: boolean }> = [];
  closed = false;
  /** Set while a command asks for a replacement itself. */
  asking = false;
  closing: Promise<number> | undefined;
  readonly violations: string[] = [];
  readonly counters = {
    commands: 0,
    transitions: 0,
    replacements: 0,
    swaps: 0,
    holds: 0,
    refused: 0,
    calls: 0,
    cancelled: 0,
    autoscaler: 0,
    asked: [] as RenewalReason[],
  };
  private readonly random = Math.random;

  constructor(
    readonly config: WorldConfig,
    seed: number,
    readonly props: ReadonlySet<Prop>,
  ) {
    Math.random = seeded(seed);
    const options = resolvePoolOptions('model', {
      url: '127.0.0.1:1',
      size: config.size,
      addressMode: 'channel',
      connectTimeoutMs: 1_000,
      drainTimeoutMs: 500,
      maxConnectionAgeMs: 1_000,
      healthCheck: { intervalMs: 100 },
      outlierEjection: { consecutiveFailures: 2, baseEjectionMs: 200, maxEjectionMs: 800 },
      resetBudget: { burst: 2, perSecond: 0, renewBelow: 0.5 },
      ...(config.warmUp && {
        warmUp: () => new Promise((ok, fail) => this.warmUps.push({ ok, fail })),
        warmUpTimeoutMs: 300,
      }),
      ...(config.autoscale && {
        autoscale: {
          ...config.autoscale,
          streamsPerMember: 2,
          scaleUpAt: 1,
          scaleDownAt: 0.5,
          cooldownMs: 0,
          sampleIntervalMs: 100,
          windows: 1,
        },
      }),
    });
    this.pm = new PoolMembership(
      options,
      this.state,
      logger,
      () => this.closed,
      () => this.successor,
      new RoundRobinStrategy(),
    );
    this.membership = this.pm.members;
    this.health = (this.pm as unknown as { health: PoolHealthChecker }).health;
    const observer: MemberPolicy = {
      joined: (member) => this.joined(member),
      replaced: (old, fresh) => this.replaced(old, fresh),
    };
    this.membership.use([observer]);
    watch(this);
  }

  async start(): Promise<void> {
    await this.pm.start(() => this.closed);
  }

  /** Restores `Math.random` and lets the next world take the spies. */
  dispose(): void {
    Math.random = this.random;
    if (current === this) watch(undefined);
    jest.clearAllTimers();
  }

  violate(prop: Prop, what: string): void {
    if (this.props.has(prop)) this.violations.push(`[${prop}] ${what}`);
  }

  // ---- what the spies report ----

  onTransition(member: Member, from: Lifecycle, to: Lifecycle): void {
    this.counters.transitions++;
    if (!TRANSITIONS[from].includes(to)) {
      this.violate(
        'P3-closed-once',
        `member ${member.id} went ${from} -> ${to}, not in TRANSITIONS`,
      );
    }
    if (from === 'closed') {
      this.violate('P3-closed-once', `member ${member.id} transitioned after closed (to ${to})`);
    }
    if (to === 'closed') {
      this.closedTimes.set(member, (this.closedTimes.get(member) ?? 0) + 1);
      if (this.closedTimes.get(member)! > 1) {
        this.violate('P3-closed-once', `member ${member.id} closed twice`);
      }
    }
    // Inside every transition, once its side effects are done: the table matches the states.
    this.checkSlots(`after ${member.id}: ${from} -> ${to}`);
  }

  onHoldOut(
    member: Member,
    reason: MemberOutReason,
    guarded: boolean,
    wasOut: boolean,
    granted: boolean,
  ): void {
    if (!granted) {
      if (guarded) this.counters.refused++;
      return;
    }
    this.counters.holds++;
    this.askedOf(member).add(reason);
    if (guarded && !wasOut) {
      const kept = this.membership.members;
      const serving = kept.filter((m) => m.state === 'serving').length;
      if (serving * 2 < kept.length) {
        this.violate(
          'P5-half-pool',
          `guarded ${reason} of member ${member.id} granted with ${serving} of ${kept.length} kept serving after it`,
        );
      }
    }
  }

  onLetIn(member: Member, reason: MemberOutReason): void {
    this.askedOf(member).delete(reason);
  }

  private askedOf(member: Member): Set<MemberOutReason> {
    let set = this.asked.get(member);
    if (set === undefined) {
      set = new Set();
      this.asked.set(member, set);
    }
    return set;
  }

  private joined(member: Member): void {
    this.made.push(member);
    const from = member.config.renewedFrom;
    if (from !== undefined) {
      this.counters.replacements++;
      // A replacement starts with its predecessor's verdicts (health and ejection alike).
      const old = this.made.find((m) => m.id === from);
      if (old !== undefined) this.asked.set(member, new Set(this.askedOf(old)));
    }
  }

  private replaced(old: Member, fresh: Member): void {
    // The ejection record passes to the new member at the swap (MemberEjection.replaced):
    // it is ejected exactly while the record says the old one was. Health verdicts are the
    // new member's own from its making (its own prober answers for it).
    this.counters.swaps++;
    const mine = this.askedOf(fresh);
    if (this.askedOf(old).has('ejected')) mine.add('ejected');
    else mine.delete('ejected');
  }

  // ---- the checks ----

  /** (1) a member is in the slot table exactly while `serving`; slots packed 0..count-1. */
  checkSlots(when: string): void {
    if (!this.props.has('P1-slots')) return;
    const slots = this.state.slots;
    const seen = new Set<number>();
    let serving = 0;
    for (const member of this.made) {
      const slot = this.state.slotOf(member);
      const isServing = member.state === 'serving';
      if (isServing) serving++;
      if ((slot !== undefined) !== isServing) {
        this.violate(
          'P1-slots',
          `${when}: member ${member.id} is ${member.state} and ${slot === undefined ? 'not ' : ''}in the table`,
        );
      }
      if (slot !== undefined) {
        if (slots[slot] !== member.channel) {
          this.violate(
            'P1-slots',
            `${when}: slot ${slot} holds another channel than member ${member.id}'s`,
          );
        }
        if (seen.has(slot)) this.violate('P1-slots', `${when}: slot ${slot} held twice`);
        seen.add(slot);
      }
    }
    if (slots.length !== serving || [...seen].some((slot) => slot >= slots.length)) {
      this.violate('P1-slots', `${when}: ${slots.length} slots for ${serving} serving members`);
    }
  }

  /** Every property, between two commands (and after the end). */
  checkAll(when: string): void {
    this.checkSlots(when);
    const kept = this.membership.members;
    const making = this.membership.renewals.making;
    const every = this.membership.everyMember();
    // (2) size
    if (new Set(kept).size !== kept.length)
      this.violate('P2-size', `${when}: a kept member listed twice`);
    if (this.membership.size !== kept.length) {
      this.violate(
        'P2-size',
        `${when}: size ${this.membership.size} for ${kept.length} kept members`,
      );
    }
    for (const fresh of making) {
      if (kept.includes(fresh))
        this.violate('P2-size', `${when}: replacement ${fresh.id} counted in size`);
      if (fresh.state === 'serving' || fresh.state === 'held') {
        this.violate(
          'P2-size',
          `${when}: replacement ${fresh.id} is ${fresh.state} before its swap`,
        );
      }
    }
    for (const member of kept) {
      if (member.leaving)
        this.violate('P2-size', `${when}: kept member ${member.id} is ${member.state}`);
    }
    if (!this.membership.closed) {
      const bounds = this.pm.scaler.bounds;
      const size = kept.length;
      if (size < 1) this.violate('P2-size', `${when}: size ${size} < 1`);
      if (bounds !== undefined && (size < bounds.min || size > bounds.max)) {
        this.violate('P2-size', `${when}: size ${size} outside [${bounds.min}, ${bounds.max}]`);
      }
    }
    // (3) no member lost: each not closed is listed exactly once; a closed one never
    if (new Set(every).size !== every.length) {
      this.violate('P3-closed-once', `${when}: a member listed twice (${every.map((m) => m.id)})`);
    }
    for (const member of this.made) {
      const listed = every.includes(member);
      if (member.state === 'closed' ? listed : !listed) {
        this.violate(
          'P3-closed-once',
          `${when}: member ${member.id} is ${member.state} and ${listed ? '' : 'not '}listed`,
        );
      }
    }
    // (4) counts: the departed totals plus the listed members' equal what the test started
    const departed = this.membership.departed.snapshot(['127.0.0.1:1'], []);
    let started = departed.callsStarted;
    let inFlight = 0;
    const ended = new Array<number>(17).fill(0);
    for (const [name, count] of Object.entries(departed.callsByStatus)) {
      ended[Status[name as keyof typeof Status] as number] += count;
    }
    for (const member of every) {
      started += member.channel.started;
      inFlight += member.channel.inFlight;
      member.channel.endedByStatus.forEach((count, code) => (ended[code] += count));
    }
    if (started !== this.started || inFlight !== this.calls.length) {
      this.violate(
        'P4-counts',
        `${when}: counted ${started} started, ${inFlight} in flight; the test started ${this.started}, ${this.calls.length} live`,
      );
    }
    if (ended.some((count, code) => count !== this.ended[code])) {
      this.violate('P4-counts', `${when}: ended by status ${ended} vs the callers' ${this.ended}`);
    }
    // (6) holds: each live member is held for exactly what the policies asked (a replacement
    // inheriting its predecessor's), so it never serves while a reason holds
    for (const member of [...kept, ...making]) {
      const has = [...member.outs()].map((out) => out.reason).sort();
      const want = [...this.askedOf(member)].sort();
      if (has.join() !== want.join()) {
        this.violate(
          'P6-holds',
          `${when}: member ${member.id} (${member.state}${member.config.renewedFrom === undefined ? '' : `, replaced ${member.config.renewedFrom}`}) held for [${has}], asked [${want}]`,
        );
      }
      if (member.state === 'serving' && want.length > 0) {
        this.violate('P6-holds', `${when}: member ${member.id} serving while held for [${want}]`);
      }
    }
    if (this.violations.length > 0) {
      throw new Error(this.violations.slice(0, 5).join('\n'));
    }
  }

  // ---- what the commands do ----

  /** Leaves `promise` to settle on its own (the next commands interleave with it). */
  track(promise: Promise<unknown>): void {
    const entry = { settled: false };
    this.pending.push(entry);
    promise.then(
      () => (entry.settled = true),
      () => (entry.settled = true),
    );
  }

  /** Moves `member`'s connection to `state`, as the connection's watch of grpc-js would. */
  connect(member: Member, state: State): void {
    const connection = member.connection as unknown as Private['connection'];
    if (!connection.closed) connection.enter(state);
  }

  startCall(member: Member): void {
    const call = member.channel.createCall('/model/Call', Infinity, undefined, null, undefined);
    const retired = member.channel.successor !== undefined;
    this.lastOpened = undefined;
    const entry = { member, fake: undefined as unknown as FakeCall };
    const listener: InterceptingListener = {
      onReceiveMetadata() {},
      onReceiveMessage() {},
      onReceiveStatus: ({ code }) => {
        const index = this.calls.indexOf(entry);
        if (index === -1) return;
        this.calls.splice(index, 1);
        this.ended[code]++;
        if (code === Status.CANCELLED) this.counters.cancelled++;
      },
    };
    call.start(new Metadata(), listener);
    this.counters.calls++;
    if (retired) {
      // Made on a member that left: the pool's channel took it, no member counts it.
      this.rerouted++;
      return;
    }
    this.started++;
    entry.fake = this.lastOpened!;
    this.calls.push(entry);
  }

  endCall(index: number, code: Status): void {
    const call = this.calls[index % this.calls.length];
    call?.fake.finish(code);
  }

  closeNow(): void {
    if (this.closing !== undefined) return;
    this.closed = true;
    this.closing = this.pm.stop().then((cancelled) => {
      // Shutdown resolves once every member's channel closed, a replacement's too.
      for (const member of this.made) {
        if (member.state !== 'closed') {
          this.violate(
            'P3-closed-once',
            `close() resolved with member ${member.id} ${member.state}`,
          );
        }
      }
      return cancelled;
    });
    this.track(this.closing);
  }

  /** Closes (if no command did), lets every timer and promise run out, then checks the end. */
  async finish(): Promise<void> {
    this.closeNow();
    for (let round = 0; round < 50 && this.pending.some((p) => !p.settled); round++) {
      await jest.advanceTimersByTimeAsync(600);
      await settle();
    }
    await settle();
    this.checkAll('after close');
    const unsettled = this.pending.filter((p) => !p.settled).length;
    if (unsettled > 0)
      this.violate('P3-closed-once', `${unsettled} operations never settled after close`);
    if (this.state.count !== 0) this.violate('P1-slots', `${this.state.count} slots after close`);
    for (const member of this.made) {
      const times = this.closedTimes.get(member) ?? 0;
      if (times !== 1 || member.state !== 'closed') {
        this.violate(
          'P3-closed-once',
          `member ${member.id} is ${member.state}, closed ${times} times, after close`,
        );
      }
    }
    if (this.calls.length !== 0)
      this.violate('P4-counts', `${this.calls.length} calls never ended`);
    if (this.violations.length > 0) throw new Error(this.violations.slice(0, 5).join('\n'));
  }

  /** After a failed run too: closes every member so that the next run starts clean. */
  async cleanup(): Promise<void> {
    this.closeNow();
    for (let round = 0; round < 50 && this.pending.some((p) => !p.settled); round++) {
      for (const call of [...this.calls]) call.fake.finish(Status.CANCELLED);
      await jest.advanceTimersByTimeAsync(600);
      await settle();
    }
  }
}

// ---- the commands ----

type Command = fc.AsyncCommand<object, World>;

/** Microtask turns (0-3) or one macrotask turn (-1) after a command, so operations interleave. */
const turnsArb = fc.constantFrom(0, 1, 2, 3, -1);

async function turns(n: number): Promise<void> {
  if (n < 0) return settle();
  for (let i = 0; i < n; i++) await Promise.resolve();
}

function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

function command(
  describe: string,
  run: (world: World) => void | Promise<void>,
  after: number,
): Command {
  return {
    check: () => true,
    run: async (_model, world) => {
      world.counters.commands++;
      await run(world);
      await turns(after);
      world.checkAll(describe);
    },
    toString: () => describe,
  };
}

const STATES = [State.READY, State.READY, State.IDLE, State.CONNECTING, State.TRANSIENT_FAILURE];
const REASONS: readonly RenewalReason[] = ['max-age', 'reset-budget', 'move', 'manual'];
const HEALTH: readonly HealthResponse['status'][] = [
  'SERVING',
  'NOT_SERVING',
  'SERVICE_UNKNOWN',
  'UNKNOWN',
];
const CODES = [
  Status.OK,
  Status.OK,
  Status.UNAVAILABLE,
  Status.CANCELLED,
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
];

const connectArb = fc
  .record({
    who: fc.nat(),
    // Replacements in the making first, half the time: a replacement waits for its READY.
    fresh: fc.boolean(),
    to: fc.constantFrom(...STATES),
    after: turnsArb,
  })
  .map(({ who, fresh, to, after }) =>
    command(
      `connect(${fresh ? 'replacement ' : ''}#${who}, ${State[to]}, ${after})`,
      (world) => {
        const making = world.membership.renewals.making;
        const member = pick(
          fresh && making.length > 0 ? making : world.membership.everyMember(),
          who,
        );
        if (member !== undefined) world.connect(member, to);
      },
      after,
    ),
  );

const scaleArb = fc
  .record({
    op: fc.constantFrom('scaleUp', 'scaleDown', 'resize'),
    n: fc.integer({ min: 1, max: 3 }),
    moveBounds: fc.boolean(),
    after: turnsArb,
  })
  .map(({ op, n, moveBounds, after }) =>
    command(
      `${op}(${n}${moveBounds ? ', moveBounds' : ''}, ${after})`,
      (world) => {
        const scaler = world.pm.scaler;
        const options = { moveBounds };
        world.track(
          op === 'scaleUp'
            ? scaler.scaleUp(n, options)
            : op === 'scaleDown'
              ? scaler.scaleDown(n, options)
              : scaler.resize(n, options),
        );
      },
      after,
    ),
  );

const autoscaleArb = fc.record({ up: fc.boolean(), after: turnsArb }).map(({ up, after }) =>
  command(
    `autoscale${up ? 'Up' : 'Down'}(${after})`,
    (world) => {
      if (world.pm.scaler.bounds === undefined) return;
      world.track(up ? world.pm.scaler.autoscaleUp() : world.pm.scaler.autoscaleDown());
    },
    after,
  ),
);

const replaceArb = fc
  .record({ who: fc.nat(), reason: fc.constantFrom(...REASONS), after: turnsArb })
  .map(({ who, reason, after }) =>
    command(
      `replace(#${who}, ${reason}, ${after})`,
      (world) => {
        const old = pick(world.membership.members, who);
        if (old === undefined) return;
        const move = reason === 'move';
        world.asking = true;
        world.track(
          world.membership.replace(old, {
            reason,
            ...(move && { address: `127.0.0.${2 + (who % 3)}:1`, failFast: true }),
          }),
        );
        world.asking = false;
      },
      after,
    ),
  );

const healthArb = fc
  .record({ who: fc.nat(), status: fc.constantFrom(...HEALTH), after: turnsArb })
  .map(({ who, status, after }) =>
    command(
      `health(#${who}, ${status}, ${after})`,
      (world) => {
        // The health checker probes replacements in the making too.
        const member = pick(world.membership.everyMember(), who);
        if (member !== undefined) world.health.served(member, status, 'watch');
      },
      after,
    ),
  );

const unhealthyArb = fc.record({ who: fc.nat(), after: turnsArb }).map(({ who, after }) =>
  command(
    `probesFailed(#${who}, ${after})`,
    (world) => {
      const member = pick(world.membership.everyMember(), who);
      if (member !== undefined) world.health.unhealthy(member);
    },
    after,
  ),
);

const streakArb = fc.record({ who: fc.nat(), after: turnsArb }).map(({ who, after }) =>
  command(
    `failureStreak(#${who}, ${after})`,
    (world) => {
      const member = pick(world.membership.members, who);
      member?.channel.onFailureStreak?.();
    },
    after,
  ),
);

const startCallArb = fc
  .record({
    who: fc.nat(),
    stale: fc.boolean(),
    times: fc.integer({ min: 1, max: 3 }),
    after: turnsArb,
  })
  .map(({ who, stale, times, after }) =>
    command(
      `call(${stale ? 'any ' : 'slot '}#${who} x${times}, ${after})`,
      (world) => {
        for (let i = 0; i < times; i++) {
          // The pool hands out a serving member; a client may hold an older one (stale).
          const member = stale
            ? pick(world.made, who)
            : pick(
                world.made.filter((m) => world.state.slotOf(m) !== undefined),
                who,
              );
          if (member !== undefined) world.startCall(member);
        }
      },
      after,
    ),
  );

const endCallArb = fc
  .record({ which: fc.nat(), code: fc.constantFrom(...CODES), after: turnsArb })
  .map(({ which, code, after }) =>
    command(
      `end(#${which}, ${Status[code]}, ${after})`,
      (world) => world.endCall(which, code),
      after,
    ),
  );

const advanceArb = fc
  .integer({ min: 1, max: 600 })
  .map((ms) =>
    command(`advance(${ms} ms)`, async () => void (await jest.advanceTimersByTimeAsync(ms)), 0),
  );

const warmUpArb = fc
  .record({ which: fc.nat(), ok: fc.boolean(), after: turnsArb })
  .map(({ which, ok, after }) =>
    command(
      `warmUp(#${which}, ${ok ? 'ok' : 'fails'}, ${after})`,
      (world) => {
        if (world.warmUps.length === 0) return;
        const [answer] = world.warmUps.splice(which % world.warmUps.length, 1);
        if (ok) answer.ok(undefined);
        else answer.fail(new Error('model: warm-up failed'));
      },
      after,
    ),
  );

const yieldArb = turnsArb.map((after) => command(`yield(${after})`, () => {}, after));

const closeArb = turnsArb.map((after) =>
  command(`close(${after})`, (world) => world.closeNow(), after),
);

/** Every command, weighted toward connectivity and calls. */
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: connectArb, weight: 8 },
  { arbitrary: scaleArb, weight: 2 },
  { arbitrary: autoscaleArb, weight: 1 },
  { arbitrary: replaceArb, weight: 3 },
  { arbitrary: healthArb, weight: 3 },
  { arbitrary: unhealthyArb, weight: 1 },
  { arbitrary: streakArb, weight: 2 },
  { arbitrary: startCallArb, weight: 3 },
  { arbitrary: endCallArb, weight: 3 },
  { arbitrary: advanceArb, weight: 2 },
  { arbitrary: warmUpArb, weight: 2 },
  { arbitrary: yieldArb, weight: 2 },
  { arbitrary: closeArb, weight: 1 },
);
