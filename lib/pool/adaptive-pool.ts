import { connectivityState as State } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { AutoscaleStatus, RenewalStatus } from '../interfaces/pool-status.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { Autoscaler } from './autoscaler.js';
import type { ChannelWorker } from './channel-worker.js';
import { MemberAging } from './member-aging.js';
import { MemberRenewal } from './member-renewal.js';
import { ResetGuard } from './reset-guard.js';
import type { PoolMembers } from './pool-members.js';
import type { PoolScaler } from './pool-scaler.js';

/**
 * The adaptive parts of one pool: the autoscaler (`autoscale`), renewal by age
 * (`maxConnectionAgeMs`), renewal when a connection's reset budget runs low (`resetBudget`,
 * on by default) and the renewal machinery itself (always there, for other callers: moves). Wires them to the pool's members, scaler and slot table.
 */
export class AdaptivePool {
  /** Make-before-break renewal of one member at a time. */
  readonly renewal: MemberRenewal;
  private readonly autoscaler: Autoscaler | undefined;
  private readonly aging: MemberAging | undefined;
  /** Told after every change of the slot table (an added member awaiting its slot). */
  private readonly tableWatchers = new Set<() => void>();

  constructor(
    private readonly options: ResolvedPoolOptions,
    roster: PoolMembers,
    scaler: PoolScaler,
    private readonly state: PoolStateService<ChannelWorker, MemberChannel>,
    logger: LoggerService,
    private readonly isClosed: () => boolean,
  ) {
    this.renewal = new MemberRenewal(options, roster, state, logger);
    if (options.resetBudget !== undefined) {
      const guard = new ResetGuard(options.name, options.resetBudget, this.renewal, logger);
      roster.onResetBudgetLow = (worker) => guard.budgetLow(worker);
    }
    if (options.maxConnectionAgeMs > 0) {
      const aging = new MemberAging(
        options.maxConnectionAgeMs,
        options.maxConnectionAgeJitter,
        roster,
        this.renewal,
      );
      roster.renewAtOf = (worker) => aging.renewAt(worker);
      this.aging = aging;
    }
    if (options.autoscale !== undefined) {
      const autoscaler = new Autoscaler(
        options.name,
        options.autoscale,
        {
          get size() {
            return roster.size;
          },
          ready: state.slots,
          inFlight: () =>
            roster.list().reduce((total, worker) => total + worker.member.inFlight, 0),
          grow: async () => {
            const worker = await scaler.autoscaleUp();
            return worker === undefined ? undefined : this.untilSlotted(worker);
          },
          shrink: () => scaler.autoscaleDown(),
        },
        logger,
      );
      scaler.bounds = autoscaler.bounds;
      roster.watchBusy(autoscaler.mark, autoscaler.onBusy);
      this.autoscaler = autoscaler;
    }
  }

  /** After the first members started. */
  start(): void {
    this.autoscaler?.start();
    this.aging?.start();
  }

  /** Shutdown: no more decisions; a renewal in flight is cancelled and its connection closed. */
  stop(): Promise<void> {
    this.autoscaler?.stop();
    this.aging?.stop();
    return this.renewal.stop();
  }

  /** Called by the pool after every change of the slot table. */
  tableChanged(): void {
    for (const watcher of this.tableWatchers) watcher();
  }

  autoscaleStatus(): AutoscaleStatus | undefined {
    return this.autoscaler?.status();
  }

  renewalStatus(): RenewalStatus | undefined {
    const { done, failed, running } = this.renewal;
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

  /** Whether `worker` takes a slot within connectTimeoutMs (false too if the pool closes). */
  private untilSlotted(worker: ChannelWorker): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        const slotted = this.state.slotOfWorker(worker) !== undefined;
        if (slotted || this.isClosed() || worker.state === State.SHUTDOWN) {
          done(slotted);
        }
      };
      const done = (slotted: boolean) => {
        clearTimeout(timer);
        this.tableWatchers.delete(check);
        resolve(slotted);
      };
      const timer = setTimeout(() => done(false), this.options.connectTimeoutMs).unref();
      this.tableWatchers.add(check);
      check();
    });
  }
}
