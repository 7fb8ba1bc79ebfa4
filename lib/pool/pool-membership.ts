import { connectivityState as State, type ChannelInterface } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { MemberHealth } from '../health-check/member-health.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import { LatencyDecay } from '../member/peak-ewma.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { PoolConnectivity } from '../channel/pool-connectivity.js';
import { AdaptivePool } from './adaptive-pool.js';
import { AddressSpread } from './address-spread.js';
import type { ChannelWorker } from './channel-worker.js';
import { PoolMembers } from './pool-members.js';
import { PoolScaler } from './pool-scaler.js';

/**
 * Who a pool's members are, and everything that changes it: the members themselves
 * (`roster`), manual scaling (`scaler`), spreading over a name's addresses, health checking
 * and ejection, autoscaling and renewal, and the latency decay of `peak-ewma`. `PoolService`
 * reads the slot table for the hot path and asks this for the rest; it starts with the
 * module and stops, draining every member, on shutdown.
 */
export class PoolMembership {
  readonly roster: PoolMembers;
  readonly scaler: PoolScaler;
  /** The members' connectivity folded into one, as `pool.channel` reports it. */
  readonly connectivity: PoolConnectivity;
  readonly adaptive: AdaptivePool;
  /** Spreads members over the addresses of host-name targets; none with `addressMode: 'channel'`. */
  private readonly spread: AddressSpread | undefined;
  /** Health checking and outlier ejection, when the options turn either on. */
  private readonly health: MemberHealth | undefined;
  /** Decays the members' latency estimates, in `'peak-ewma'` pools only. */
  private readonly latencyDecay: LatencyDecay | undefined;

  constructor(
    private readonly options: ResolvedPoolOptions,
    state: PoolStateService<ChannelWorker, MemberChannel>,
    logger: LoggerService,
    isClosed: () => boolean,
    /** Where calls on a member that left the pool go: the pool's channel. */
    successor: () => ChannelInterface,
  ) {
    this.roster = new PoolMembers(
      options,
      state,
      () => {
        this.connectivity.refresh();
        this.health?.sync();
      },
      logger,
      successor,
    );
    this.health = MemberHealth.create(options, () => this.roster.list(), logger);
    this.scaler = new PoolScaler(options.name, options.drainTimeoutMs, this.roster, isClosed);
    this.spread = AddressSpread.of(
      options,
      this.roster,
      (change) => this.scaler.exclusive(change),
      logger,
    );
    this.connectivity = new PoolConnectivity(() =>
      isClosed() ? State.SHUTDOWN : this.roster.connectivity(),
    );
    this.adaptive = new AdaptivePool(options, this.roster, this.scaler, state, logger, isClosed);
    // Connectivity is told after the slot table changed, never before: READY on
    // `pool.channel` means a member can be picked at that moment.
    state.onChange(() => {
      this.connectivity.refresh();
      this.adaptive.tableChanged();
    });
    this.latencyDecay =
      options.peakEwma &&
      new LatencyDecay(options.peakEwma.tauMs, options.peakEwma.decayIntervalMs, () =>
        this.roster.latencies(),
      );
  }

  /** Loads what health checking needs; before the first member is made. */
  async load(): Promise<void> {
    await this.health?.start();
  }

  /** Resolves spread names, starts the first members and the timers. */
  async start(isClosed: () => boolean): Promise<void> {
    await this.spread?.start();
    await this.scaler.start(this.options.size);
    if (!isClosed()) {
      this.latencyDecay?.start();
    }
    this.adaptive.start();
  }

  /**
   * Stops every decision, then drains and closes every member (and a renewal's new
   * connection). Resolves with the calls cancelled after `drainTimeoutMs`.
   */
  async stop(): Promise<number> {
    this.latencyDecay?.stop();
    this.spread?.stop();
    this.health?.stop();
    this.connectivity.refresh();
    // Members first (out of the list, a renewal in flight can no longer swap in), then the
    // renewal's own new connection, closed with its sockets.
    const [cancelled] = await Promise.all([this.scaler.stop(), this.adaptive.stop()]);
    return cancelled;
  }
}
