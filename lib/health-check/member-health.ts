import type { LoggerService } from '@nestjs/common';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { ChannelWorker } from '../pool/channel-worker.js';
import { MemberEjection } from '../pool/member-ejection.js';
import { MemberOuts } from './member-outs.js';
import { PoolHealthChecker } from './pool-health-checker.js';

/**
 * What takes connected members out of rotation in one pool: health checking and outlier
 * ejection over one shared record of who is out and why ({@link MemberOuts}, which holds
 * the guard). Made only when the pool turns either on.
 */
export class MemberHealth {
  private readonly checker: PoolHealthChecker | undefined;
  private readonly ejection: MemberEjection | undefined;
  private readonly outs: MemberOuts;
  private started = false;

  private constructor(
    options: ResolvedPoolOptions,
    private readonly members: () => readonly ChannelWorker[],
    logger: LoggerService,
  ) {
    this.outs = new MemberOuts(options.name, members, logger);
    this.checker =
      options.healthCheck &&
      new PoolHealthChecker(options.name, options.healthCheck, this.outs, logger);
    this.ejection =
      options.outlierEjection && new MemberEjection(options.outlierEjection, this.outs);
  }

  /** `undefined` unless `healthCheck` or `outlierEjection` is set. */
  static create(
    options: ResolvedPoolOptions,
    members: () => readonly ChannelWorker[],
    logger: LoggerService,
  ): MemberHealth | undefined {
    return options.healthCheck || options.outlierEjection
      ? new MemberHealth(options, members, logger)
      : undefined;
  }

  /** Loads what probing needs; members are followed from the next {@link sync} on. */
  async start(): Promise<void> {
    await this.checker?.load();
    this.started = true;
    this.sync();
  }

  /** Follows members that joined or left (called on every change of the pool's members). */
  sync(): void {
    if (!this.started) return;
    const workers = this.members();
    this.checker?.sync(workers);
    this.ejection?.sync(workers);
    this.outs.forgetGone(new Set(workers));
  }

  stop(): void {
    this.started = false;
    this.checker?.stop();
    this.ejection?.stop();
  }
}
