import { connectivityState as State, type ChannelInterface } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { PoolConnectivity } from '../channel/pool-connectivity.js';
import { PoolHealthChecker } from '../health-check/pool-health-checker.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type {
  AutoscaleStatus,
  PoolStatus,
  RenewalStatus,
} from '../interfaces/pool-status.interface.js';
import type { PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import type { Member } from '../member/member.js';
import type { MemberChannel } from '../member/member-channel.js';
import { LatencyDecay } from '../member/peak-ewma.js';
import type { CallRouting } from '../membership/member-policy.js';
import { Membership } from '../membership/membership.js';
import { MembershipView } from '../membership/membership-view.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { AddressSpread } from '../policies/address-spread.js';
import { Autoscaler } from '../policies/autoscaler.js';
import { MemberAging } from '../policies/member-aging.js';
import { MemberEjection } from '../policies/member-ejection.js';
import { PoolScaler } from './pool-scaler.js';
import { ResetGuard } from '../policies/reset-guard.js';

/**
 * One pool's members put together: the {@link Membership} (the one owner of every member's
 * life), the policies that ask it for changes (address spreading, health checking, outlier
 * ejection, renewal by age, the reset guard, the autoscaler), the manual scaling API, the read
 * model, and the connectivity `pool.channel` reports. `PoolService` reads the slot table for
 * the hot path and asks this for the rest.
 */
export class PoolMembership {
  readonly members: Membership;
  readonly view: MembershipView;
  readonly scaler: PoolScaler;
  /** The members' connectivity folded into one, as `pool.channel` reports it. */
  readonly connectivity: PoolConnectivity;
  private readonly spread: AddressSpread | undefined;
  private readonly health: PoolHealthChecker | undefined;
  private readonly aging: MemberAging | undefined;
  private readonly autoscaler: Autoscaler | undefined;
  /** Decays the members' latency estimates, in `'peak-ewma'` pools only. */
  private readonly latencyDecay: LatencyDecay | undefined;

  constructor(
    private readonly options: ResolvedPoolOptions,
    state: PoolStateService<Member, MemberChannel>,
    logger: LoggerService,
    isClosed: () => boolean,
    /** Where calls made on a member that left the pool go: the pool's channel. */
    successor: () => ChannelInterface,
    /** The pool's strategy: a re-picked call starts from its pick. */
    private readonly strategy: PoolStrategy,
  ) {
    const routing: CallRouting = {
      successor,
      repick: (failed) => this.repick(failed),
    };
    this.spread = AddressSpread.of(options, logger);
    // Called by transitions, none of which happens before the constructor ends.
    const refresh = () => this.connectivity.refresh();
    const members = new Membership(options, state, logger, routing, refresh, this.spread);
    this.members = members;
    // Connectivity is told after the slot table changed, never before: READY on
    // `pool.channel` means a member can be picked at that moment.
    state.onChange(refresh);
    this.scaler = new PoolScaler(options.name, options.drainTimeoutMs, members);
    this.spread?.control(members);
    this.health =
      options.healthCheck &&
      new PoolHealthChecker(options.name, options.healthCheck, members, logger);
    this.aging =
      options.maxConnectionAgeMs > 0
        ? new MemberAging(
            options.maxConnectionAgeMs,
            options.maxConnectionAgeJitter,
            members,
            members.renewals,
          )
        : undefined;
    this.autoscaler = options.autoscale && this.makeAutoscaler(logger);
    members.use([
      this.spread,
      this.health,
      options.outlierEjection && new MemberEjection(options.outlierEjection, members),
      this.aging,
      options.resetBudget && new ResetGuard(options.name, options.resetBudget, members, logger),
      this.autoscaler && {
        busy: this.autoscaler.onBusy,
        start: () => this.autoscaler?.start(),
        stop: () => this.autoscaler?.stop(),
      },
    ]);
    this.view = new MembershipView(options, members, this.spread, (member) =>
      this.aging?.renewAt(member),
    );
    this.connectivity = new PoolConnectivity(() =>
      isClosed() ? State.SHUTDOWN : this.view.connectivity(),
    );
    this.latencyDecay =
      options.peakEwma &&
      new LatencyDecay(options.peakEwma.tauMs, options.peakEwma.decayIntervalMs, () =>
        members.members.map((member) => member.channel.latency),
      );
  }

  /** Loads what health checking needs; before the first member is made. */
  async load(): Promise<void> {
    await this.health?.load();
  }

  /** Resolves spread names, starts the first members, then the policies and timers. */
  async start(isClosed: () => boolean): Promise<void> {
    await this.spread?.resolveNames();
    await this.scaler.start(this.options.size).catch(() => undefined);
    if (!isClosed()) {
      this.latencyDecay?.start();
      this.members.startPolicies();
    }
  }

  /**
   * Stops every decision, then drains and closes every member (a replacement's new one
   * too). Resolves with the calls cancelled after `drainTimeoutMs`.
   */
  async stop(): Promise<number> {
    this.latencyDecay?.stop();
    this.spread?.stop();
    this.connectivity.refresh();
    return this.members.close(this.scaler.closeReason());
  }

  /** The pool's snapshot: size, readiness, totals, every member, the adaptive parts. */
  status(face: Pick<PoolStatus, 'name' | 'strategy' | 'closed' | 'picks'>): PoolStatus {
    const { members, options } = this;
    const listed = this.view.describe();
    // Read in the same step as the list: a member leaves it and its counts join the
    // departed totals together, so the totals are exact at every moment.
    const { resets, ...calls } = members.departed.snapshot(options.urls, listed);
    return {
      name: face.name,
      size: members.size,
      ready: members.table.count,
      strategy: face.strategy,
      minReady: Math.min(options.minReady ?? members.size, members.size),
      closed: face.closed,
      inFlight: calls.inFlight,
      callsStarted: calls.callsStarted,
      callsFailed: calls.callsFailed,
      callsByStatus: calls.callsByStatus,
      ...optional('resets', options.resetBudget && resets),
      targets: calls.targets,
      picks: face.picks,
      members: listed,
      ...optional('autoscale', this.autoscaler?.status()),
      ...optional('renewal', this.renewalStatus()),
    };
  }

  /**
   * Where a call that reached no server through `failed` goes instead (see `CountedCall`):
   * from the strategy's pick on, the first serving member other than `failed` whose channel
   * is still READY (a member whose backend just went away may not have left the slot table
   * yet); else the member a new call would wait on, at times `failed` itself. Not counted in
   * `picks`, which counts members handed to users; off the hot path.
   */
  private repick(failed: MemberChannel): MemberChannel | undefined {
    if (this.members.closed) {
      return undefined;
    }
    const slots = this.members.table.slots;
    const count = slots.length;
    if (count > 1) {
      const first = this.strategy.pick(slots, count);
      for (let i = 0; i < count; i++) {
        const member = slots[(first + i) % count];
        if (member !== failed && member.getConnectivityState(false) === State.READY) {
          return member;
        }
      }
    }
    return this.view.waitingMember();
  }

  autoscaleStatus(): AutoscaleStatus | undefined {
    return this.autoscaler?.status();
  }

  renewalStatus(): RenewalStatus | undefined {
    const { done, failed, running } = this.members.renewals;
    if (this.aging === undefined && done + failed === 0) {
      return undefined;
    }
    return {
      maxConnectionAgeMs: this.options.maxConnectionAgeMs,
      done,
      failed,
      ...(running !== undefined && { running }),
    };
  }

  private makeAutoscaler(logger: LoggerService): Autoscaler {
    const { members, scaler, options } = this;
    const autoscaler = new Autoscaler(
      options.name,
      options.autoscale!,
      {
        get size() {
          return members.size;
        },
        ready: members.table.slots,
        inFlight: () =>
          members.members.reduce((total, member) => total + member.channel.inFlight, 0),
        grow: async () => {
          const member = await scaler.autoscaleUp();
          return member === undefined
            ? undefined
            : members.untilConnected(member, options.connectTimeoutMs);
        },
        shrink: () => scaler.autoscaleDown(),
      },
      logger,
    );
    scaler.bounds = autoscaler.bounds;
    return autoscaler;
  }
}

/** `{ [key]: value }`, or nothing when `value` is undefined: status() lists only what is on. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
