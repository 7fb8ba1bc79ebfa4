import {
  connectivityState as State,
  type ChannelInterface,
  type ChannelOptions,
} from '@grpc/grpc-js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { PoolMemberInfo } from '../interfaces/pool-status.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { PeakEwma } from '../member/peak-ewma.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { ChannelWorker } from './channel-worker.js';
import { describeMember } from './member-info.js';
import { ResetBudget } from '../member/reset-budget.js';
import { CallTotals } from '../member/call-totals.js';
import { MemberReporter } from './member-reporter.js';
import { publish, type DrainStartEvent } from '../telemetry/pool-events.js';
import type { LoggerService } from '@nestjs/common';

/**
 * Where members dial within their target: the seam `AddressSpread` fills when the pool
 * resolves a name itself. Without one, members dial their target and grpc-js resolves it.
 */
export interface MemberPlacement {
  /**
   * The address a new member on `target` dials first; `undefined`: it dials `target`
   * (grpc-js resolves it); `null`: the name has not resolved yet, the member waits unstarted.
   */
  place(target: string): string | null | undefined;
  /** Channel args for a member of `target` dialling a literal address (authority, TLS name). */
  addressArgs(target: string): Readonly<ChannelOptions> | undefined;
  /** Told after every connectivity change of a member. */
  changed(worker: ChannelWorker): void;
  /** What the pool knows about `target` beyond its members (a resolver error), for errors. */
  note(target: string): string | undefined;
}

/**
 * The workers of one pool: makes them, spreads them over the targets, picks which go on
 * scale-down and drains them. Not synchronized itself: `PoolService` runs every call under
 * its scale lock.
 */
export class PoolMembers {
  private readonly all: ChannelWorker[] = [];
  /** Members taken away and still draining: shown by `describe()` until their channel closes. */
  private readonly draining = new Set<ChannelWorker>();
  /** The drains under way, so that shutdown can wait for a scale-down's as well as its own. */
  private readonly drains = new Set<Promise<number>>();
  /** The calls of members that closed: the pool's totals keep them (see `CallTotals`). */
  readonly departed = new CallTotals();
  private nextId = 0;
  private nextWaiting = 0;
  private placement: MemberPlacement | undefined = undefined;
  /** When `maxConnectionAgeMs` renews a worker (ms since epoch), for `describe()`. */
  renewAtOf: ((worker: ChannelWorker) => number | undefined) | undefined = undefined;
  private busy: { mark: number; onBusy: (member: MemberChannel) => void } | undefined;
  /** Told when a member's reset budget runs low (set by the pool: it renews the member). */
  onResetBudgetLow: ((worker: ChannelWorker) => void) | undefined = undefined;

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly state: PoolStateService<ChannelWorker, MemberChannel>,
    private readonly onStateChange: () => void,
    private readonly logger: LoggerService,
    /** Where calls on a removed member go: the pool's channel. */
    private readonly successor: () => ChannelInterface,
  ) {}

  get size(): number {
    return this.all.length;
  }

  list(): readonly ChannelWorker[] {
    return this.all;
  }

  /** Sets where new members dial within their target (address spreading). */
  setPlacement(placement: MemberPlacement): void {
    this.placement = placement;
  }

  /** Makes and starts `n` workers, each on the target that has the fewest; returns them. */
  add(n: number): ChannelWorker[] {
    const made: ChannelWorker[] = [];
    for (let i = 0; i < n; i++) {
      const worker = this.make(this.leastUsedTarget());
      this.all.push(worker);
      made.push(worker);
      this.startPlaced(worker);
    }
    this.onStateChange();
    return made;
  }

  /**
   * A worker not yet started nor kept, e.g. a renewal's new connection (`standby`, with its
   * own `onStateChange` besides the pool's). The autoscaler's busy mark applies to it too.
   */
  make(
    target: string,
    extra: {
      address?: string;
      standby?: boolean;
      renewedFrom?: number;
      onStateChange?: () => void;
    } = {},
  ): ChannelWorker {
    const id = this.nextId++;
    const { onStateChange } = extra;
    // `null`: the target's name has not resolved yet; the member waits unstarted.
    const placed = extra.address ?? this.placement?.place(target);
    const worker: ChannelWorker = new ChannelWorker(
      {
        pool: this.options.name,
        id,
        target,
        address: placed ?? undefined,
        addressArgs: this.placement?.addressArgs(target),
        credentials: this.options.credentials,
        channelOptions: this.options.channelOptions,
        connectTimeoutMs: this.options.connectTimeoutMs,
        defaultDeadlineMs: this.options.defaultDeadlineMs,
        latencyTauMs: this.options.peakEwma?.tauMs,
        onStateChange: () => {
          this.onStateChange();
          this.placement?.changed(worker);
          onStateChange?.();
        },
        reporter: new MemberReporter(this.options.name, id, target, this.logger),
        successor: this.successor,
        standby: extra.standby,
        renewedFrom: extra.renewedFrom,
      },
      this.state,
    );
    if (this.busy !== undefined) {
      worker.member.watchBusy(this.busy.mark, this.busy.onBusy);
    }
    const budget = this.options.resetBudget;
    if (budget !== undefined) {
      worker.member.resetBudget = new ResetBudget(
        budget.burst,
        budget.perSecond,
        budget.margin,
        () => this.onResetBudgetLow?.(worker),
      );
    }
    return worker;
  }

  /** Starts a kept worker unless its target's name has not resolved yet (spreading starts it then). */
  private startPlaced(worker: ChannelWorker): void {
    if (worker.address !== undefined || this.placement?.place(worker.target) !== null) {
      worker.start();
    }
  }

  /** Set by the autoscaler: every member made from now on reports calls started past `mark`. */
  watchBusy(mark: number, onBusy: (member: MemberChannel) => void): void {
    this.busy = { mark, onBusy };
    for (const worker of this.all) {
      worker.member.watchBusy(mark, onBusy);
    }
  }

  /**
   * A renewal's last step: `fresh` takes `old`'s place in the list (the slot table is the
   * caller's), and `old` drains. False, and nothing changes, when `old` is no longer kept
   * (a scale-down or shutdown took it first).
   */
  swap(old: ChannelWorker, fresh: ChannelWorker, reason: string): boolean {
    const index = this.all.indexOf(old);
    if (index === -1) {
      return false;
    }
    this.all[index] = fresh;
    void this.drain([old], 'renewal', reason);
    this.onStateChange();
    return true;
  }

  /** Each member's latency estimate (`undefined` where none is kept), for the decay timer. */
  *latencies(): Iterable<PeakEwma | undefined> {
    for (const worker of this.all) {
      yield worker.member.latency;
    }
  }

  /** Makes and starts one worker on `target` dialling `address` (a make-before-break move). */
  addAt(target: string, address: string): ChannelWorker {
    const worker = this.make(target, { address });
    this.all.push(worker);
    worker.start();
    this.onStateChange();
    return worker;
  }

  /**
   * Takes one given worker away and drains it (the old side of a move). Resolves with the
   * calls cancelled; 0 when the worker is no longer a member (scaled down meanwhile).
   */
  removeMember(worker: ChannelWorker, reason: string): Promise<number> {
    const index = this.all.indexOf(worker);
    if (index < 0) {
      return Promise.resolve(0);
    }
    this.all.splice(index, 1);
    this.onStateChange();
    return this.drain([worker], 'move', reason);
  }

  /**
   * For a call made while no member holds a slot: the member likeliest to take it soonest
   * (READY but not yet slotted, then connecting, then failed), rotating among equals. A
   * member held out of rotation (health, ejection) is never one: its server said no.
   */
  waitingMember(): MemberChannel | undefined {
    for (const wanted of [
      [State.READY],
      [State.CONNECTING, State.IDLE],
      [State.TRANSIENT_FAILURE],
    ]) {
      const candidates = this.all.filter(
        (worker) => wanted.includes(worker.state) && worker.out === undefined,
      );
      if (candidates.length > 0) {
        return candidates[this.nextWaiting++ % candidates.length].member;
      }
    }
    return undefined;
  }

  /**
   * The members' connectivity folded into one, as a channel would report it. READY means a
   * member holds a slot (so `tryGetChannel()` returns one), not that a channel said READY:
   * a member READY but not yet slotted still counts as connecting.
   */
  connectivity(): State {
    if (this.state.count > 0) return State.READY;
    const states = new Set(this.all.map((worker) => worker.state));
    if (states.has(State.CONNECTING) || states.has(State.IDLE) || states.has(State.READY)) {
      return State.CONNECTING;
    }
    if (states.has(State.TRANSIENT_FAILURE)) return State.TRANSIENT_FAILURE;
    return State.IDLE;
  }

  /**
   * Takes `n` workers away, not-ready ones first, then those with the fewest calls in
   * flight, and drains them. Resolves with how many calls had to be cancelled.
   */
  async remove(n: number, reason: string): Promise<number> {
    const victims = [...this.all]
      .sort(
        (a, b) =>
          Number(a.state === State.READY) - Number(b.state === State.READY) ||
          a.member.inFlight - b.member.inFlight ||
          b.id - a.id,
      )
      .slice(0, n);
    for (const victim of victims) {
      this.all.splice(this.all.indexOf(victim), 1);
    }
    this.onStateChange();
    return this.drain(victims, 'scale-down', reason);
  }

  /**
   * Drains and closes every worker, and waits for drains already under way (a scale-down's
   * started earlier, so it ends no later than this one's). Resolves with the calls cancelled.
   */
  async removeAll(reason: string): Promise<number> {
    const earlier = [...this.drains];
    const own = this.drain(this.all.splice(0), 'shutdown', reason);
    const [cancelled] = await Promise.all([own, ...earlier.map((drain) => drain.catch(() => 0))]);
    return cancelled;
  }

  /**
   * Keeps the calls of a worker that was made but never kept (a renewal's new connection that
   * did not take a slot), once closed. One that is kept or draining is folded when it leaves.
   */
  foldUnkept(worker: ChannelWorker): void {
    if (!this.all.includes(worker) && !this.draining.has(worker)) {
      this.departed.fold(worker.target, worker.member);
    }
  }

  /** The member view of each worker (draining ones last), for `status()` and `members()`. */
  describe(): PoolMemberInfo[] {
    return [...this.all, ...this.draining].map((worker) =>
      describeMember(worker, {
        slot: this.state.slotOfWorker(worker),
        draining: this.draining.has(worker),
        renewAt: this.draining.has(worker) ? undefined : this.renewAtOf?.(worker),
      }),
    );
  }

  /** Why members are held out of rotation, e.g. `['NOT_SERVING']` (empty when none is). */
  outReasons(): string[] {
    return [...new Set(this.all.flatMap((worker) => (worker.out ? [worker.out.reason] : [])))];
  }

  /** Each target with what its members last reported, for error messages. */
  describeTargets(): string[] {
    const members = this.describe();
    return this.options.urls.map((url) => {
      const own = members.filter((member) => member.target === url);
      const errors = [
        ...new Set(
          own.flatMap((member) => (member.lastError === undefined ? [] : [member.lastError])),
        ),
      ];
      const note = this.placement?.note(url);
      if (note !== undefined) {
        errors.unshift(note);
      }
      const states = [...new Set(own.map((member) => member.state))].join('/') || 'no member';
      return `${url} (${states}${errors.length > 0 ? `, last error: ${errors.join(' | ')}` : ''})`;
    });
  }

  private drain(
    workers: readonly ChannelWorker[],
    why: DrainStartEvent['reason'],
    reason: string,
  ): Promise<number> {
    for (const worker of workers) {
      this.draining.add(worker);
    }
    const drain = this.drainNow(workers, why, reason).finally(() => {
      for (const worker of workers) {
        // Closed: its counts pass to the pool's totals in the step it leaves describe().
        if (this.draining.delete(worker)) {
          this.departed.fold(worker.target, worker.member);
        }
      }
      this.drains.delete(drain);
    });
    this.drains.add(drain);
    return drain;
  }

  private async drainNow(
    workers: readonly ChannelWorker[],
    why: DrainStartEvent['reason'],
    reason: string,
  ): Promise<number> {
    const pool = this.options.name;
    const started = Date.now();
    publish('drainStart', () => ({
      pool,
      reason: why,
      members: workers.length,
      inFlight: workers.reduce((sum, worker) => sum + worker.member.inFlight, 0),
    }));
    const results = await Promise.all(
      workers.map((worker) => worker.drain(this.options.drainTimeoutMs, reason)),
    );
    const cancelled = results.reduce((sum, result) => sum + result.cancelled, 0);
    publish('drainEnd', () => ({ pool, reason: why, cancelled, durationMs: Date.now() - started }));
    return cancelled;
  }

  private leastUsedTarget(): string {
    const { urls } = this.options;
    let best = urls[0];
    let bestCount = Infinity;
    for (const url of urls) {
      const count = this.all.filter((worker) => worker.target === url).length;
      if (count < bestCount) {
        best = url;
        bestCount = count;
      }
    }
    return best;
  }
}
