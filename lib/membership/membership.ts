import { connectivityState as State } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { PoolClosedError } from '../errors/pool.errors.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberOutReason } from '../interfaces/pool-status.interface.js';
import { CallTotals } from '../member/call-totals.js';
import type { Member, MemberOwner } from '../member/member.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { RedialReason } from '../member/member-connection.js';
import { CONNECTED, type Lifecycle } from '../member/member-lifecycle.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { publish, type DrainStartEvent } from '../telemetry/pool-events.js';
import { MemberFactory, type MemberExtra } from './member-factory.js';
import { MemberHolds } from './member-holds.js';
import type {
  CallRouting,
  MemberControl,
  MemberPlacement,
  MemberPolicy,
  RenewOutcome,
  ReplaceRequest,
} from './member-policy.js';
import { OperationQueue } from './operation-queue.js';
import { Replacements } from './replacements.js';

/**
 * The one owner of a pool's members: makes them, keeps the list, and changes it only through
 * its operation queue (add, retire, replace, close), so every change of membership is ordered
 * the same way. Members' transitions come back here and go out to the policies and the pool.
 */
export class Membership implements MemberOwner, MemberControl {
  readonly pool: string;
  /** The call counts of members that closed: the pool's totals never drop when one leaves. */
  readonly departed = new CallTotals();
  private readonly kept: Member[] = [];
  /** Members leaving: listed by `status()` until their channel closes. */
  private readonly leavingMembers = new Set<Member>();
  private readonly drains = new Set<Promise<number>>();
  private readonly queue = new OperationQueue();
  private readonly waiters = new Set<() => void>();
  private readonly holds: MemberHolds;
  private readonly replacements: Replacements;
  private readonly policies: MemberPolicy[] = [];
  private readonly factory: MemberFactory;

  constructor(
    private readonly options: ResolvedPoolOptions,
    readonly table: PoolStateService<Member, MemberChannel>,
    logger: LoggerService,
    /** Where calls go that a member cannot take: the pool. */
    private readonly routing: CallRouting,
    /** Told after every transition of any member (the pool's connectivity). */
    private readonly onTransition: () => void,
    private readonly placement: MemberPlacement | undefined,
  ) {
    this.pool = options.name;
    this.holds = new MemberHolds(this.pool, () => this.kept, logger);
    this.replacements = new Replacements(options, this.queue, this, logger);
    this.factory = new MemberFactory(options, this, placement, this.policies, routing, logger);
  }

  /** The policies, once made (they are made with this membership as their control). */
  use(policies: readonly (MemberPolicy | undefined)[]): void {
    for (const policy of policies) {
      if (policy !== undefined) this.policies.push(policy);
    }
  }

  get members(): readonly Member[] {
    return this.kept;
  }

  get size(): number {
    return this.kept.length;
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  /** Kept members, the replacement in the making, then leaving ones: everything `status()` lists. */
  everyMember(): Member[] {
    return [...this.kept, ...this.replacements.making, ...this.leavingMembers];
  }

  /** Whether `member` is a replacement not yet swapped in (not counted in the size). */
  isReplacement(member: Member): boolean {
    return this.replacements.making.includes(member);
  }

  get renewals(): Replacements {
    return this.replacements;
  }

  /** Starts the policies, once the first members started. */
  startPolicies(): void {
    for (const policy of this.policies) policy.start?.();
  }

  add(n: number): Promise<Member[]> {
    return this.queue.run(() => this.addNow(n));
  }

  /** Runs `step` in the membership's queue (the manual scaling API's checks run there). */
  exclusive<T>(step: () => T | Promise<T>): Promise<T> {
    return this.queue.run(step);
  }

  /** @internal Adds `n` kept members now; only inside a queued step. */
  addNow(n: number): Member[] {
    const made: Member[] = [];
    for (let i = 0; i < n; i++) {
      const member = this.make(this.factory.leastUsedTarget(this.kept), {});
      this.kept.push(member);
      made.push(member);
    }
    for (const member of made) this.startPlaced(member);
    return made;
  }

  retire(n: number, why: DrainStartEvent['reason'], reason: string): Promise<number> {
    // The drain is awaited outside the queue: no step waits for another's calls to finish.
    return this.queue
      .run(() => ({ drain: this.retireNow(n, why, reason) }))
      .then(({ drain }) => drain);
  }

  /**
   * @internal Takes `n` kept members away now (not-ready first, then those with the fewest
   * calls in flight, newest first) and starts their drain; only inside a queued step. The
   * promise it returns is the drain's, awaited outside the queue.
   */
  retireNow(n: number, why: DrainStartEvent['reason'], reason: string): Promise<number> {
    const victims = [...this.kept]
      .sort(
        (a, b) =>
          Number(a.state === 'serving') - Number(b.state === 'serving') ||
          a.channel.inFlight - b.channel.inFlight ||
          b.id - a.id,
      )
      .slice(0, n);
    for (const victim of victims) this.kept.splice(this.kept.indexOf(victim), 1);
    return this.drain(victims, why, reason);
  }

  replace(old: Member, request: ReplaceRequest): Promise<RenewOutcome> {
    return this.replacements.replace(old, request);
  }

  /** @internal A replacement's last step (inside the queue): `fresh` takes `old`'s place. */
  swap(old: Member, fresh: Member, reason: string): boolean {
    const index = this.kept.indexOf(old);
    if (index === -1 || !CONNECTED.includes(fresh.state)) {
      return false;
    }
    this.kept[index] = fresh;
    // The policies hand their records over first (an ejection that began or ended while
    // `fresh` was made stands as it is now), so `fresh` serves only if nothing holds it out.
    for (const policy of this.policies) policy.replaced?.(old, fresh);
    // In the table before the old one leaves it: the ready count never drops.
    fresh.admit();
    void this.drain([old], 'renewal', reason);
    return true;
  }

  /** @internal Makes a member (a replacement when `standby`), wired to this owner and the policies. */
  make(target: string, extra: MemberExtra): Member {
    const member = this.factory.make(target, extra);
    for (const policy of this.policies) policy.joined?.(member);
    return member;
  }

  /** Starts a member unless its target's name has not resolved yet (spreading starts it then). */
  startPlaced(member: Member): void {
    if (member.connection.address !== undefined || this.placement?.place(member.target) !== null) {
      member.start();
    }
  }

  holdOut(
    member: Member,
    reason: MemberOutReason,
    options: { until?: number; guarded?: boolean } = {},
  ): boolean {
    return this.holds.holdOut(member, reason, options);
  }

  letIn(member: Member, reason: MemberOutReason): void {
    this.holds.letIn(member, reason);
  }

  redial(member: Member, reason: RedialReason, address?: string): void {
    member.redial(reason, address);
  }

  untilConnected(member: Member, timeoutMs: number, failFast = false): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (CONNECTED.includes(member.state)) finish(true);
        else if (member.leaving || this.closed) finish(false);
        else if (failFast && member.connection.state === State.TRANSIENT_FAILURE) finish(false);
      };
      const finish = (connected: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(connected);
      };
      // Unref'd: close() releases every waiter itself (see `close`), so none outlives it.
      const timer = setTimeout(() => finish(false), timeoutMs).unref();
      this.waiters.add(check);
      check();
    });
  }

  /** @internal Every member's transitions come here. */
  transitioned(member: Member, from: Lifecycle, to: Lifecycle): void {
    if (to === 'closed') {
      // One step: it leaves the list `status()` reads and its counts join the totals.
      this.leavingMembers.delete(member);
      this.departed.fold(member.target, member.channel);
    }
    this.onTransition();
    for (const policy of this.policies) policy.transitioned?.(member, from, to);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** @internal Every member's connectivity changes come here. */
  connectionChanged(member: Member, state: State, previous: State): void {
    this.onTransition();
    for (const policy of this.policies) policy.connectionChanged?.(member, state, previous);
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Shutdown: no step runs any more, no policy decides; every member (replacements too)
   * drains at once, and drains already under way are waited for. Resolves with the calls
   * cancelled after `drainTimeoutMs`.
   */
  async close(reason: string): Promise<number> {
    this.queue.close(() => new PoolClosedError(this.pool));
    for (const policy of this.policies) policy.stop?.();
    for (const waiter of [...this.waiters]) waiter();
    const earlier = [...this.drains];
    const own = this.drain(
      [...this.kept.splice(0), ...this.replacements.making],
      'shutdown',
      reason,
    );
    const [cancelled] = await Promise.all([own, ...earlier.map((drain) => drain.catch(() => 0))]);
    return cancelled;
  }

  /** @internal Drains `members` (out of the list already) and closes them. */
  drain(
    members: readonly Member[],
    why: DrainStartEvent['reason'],
    reason: string,
  ): Promise<number> {
    // A member already leaving is not drained again: shutdown may have closed a replacement
    // whose warm-up ends later, and listing it again would keep a closed member for good.
    const leaving = members.filter((member) => !member.leaving);
    for (const member of leaving) this.leavingMembers.add(member);
    const drain = this.drainNow(leaving, why, reason).finally(() => this.drains.delete(drain));
    this.drains.add(drain);
    return drain;
  }

  private async drainNow(
    members: readonly Member[],
    why: DrainStartEvent['reason'],
    reason: string,
  ): Promise<number> {
    if (members.length === 0) return 0;
    const pool = this.pool;
    const started = Date.now();
    publish('drainStart', () => ({
      pool,
      reason: why,
      members: members.length,
      inFlight: members.reduce((sum, member) => sum + member.channel.inFlight, 0),
    }));
    const successor = this.routing.successor();
    const results = await Promise.all(
      members.map((member) => member.drain(successor, this.options.drainTimeoutMs, reason)),
    );
    const cancelled = results.reduce((sum, count) => sum + count, 0);
    publish('drainEnd', () => ({ pool, reason: why, cancelled, durationMs: Date.now() - started }));
    return cancelled;
  }
}
