import type { LoggerService } from '@nestjs/common';
import type { ResolvedResetBudget } from '../options/resolve-adaptive-options.js';
import { publish } from '../telemetry/pool-events.js';
import type { ChannelWorker } from './channel-worker.js';
import type { MemberRenewal } from './member-renewal.js';

/** A connection whose budget runs low sooner than this after it connected cannot be saved by renewing. */
const SHORTEST_USEFUL_CONNECTION_MS = 5_000;
/** At most one "faster than renewals can absorb" warning per pool in this long. */
const WARN_EVERY_MS = 60_000;

/**
 * Keeps each member's connection inside the server's rapid-reset allowance: when a member's
 * `ResetBudget` runs low, its connection is renewed make-before-break (a fresh connection has
 * a full allowance); the old one takes no new call and drains. Renewals go through the pool's
 * one-at-a-time renewal queue, so a storm on every member renews them in turn, never all at
 * once. When a connection runs through its budget within seconds of connecting, renewing
 * cannot keep up with the traffic: that is said with an event and a warning naming the rate
 * and the budget, at most once a minute.
 */
export class ResetGuard {
  private warnedAt = -Infinity;

  constructor(
    private readonly pool: string,
    private readonly budget: ResolvedResetBudget,
    private readonly renewal: MemberRenewal,
    private readonly logger: LoggerService,
  ) {}

  /** A member's budget fell below its margin. */
  budgetLow(worker: ChannelWorker): void {
    const connectedFor = worker.readySince === undefined ? 0 : Date.now() - worker.readySince;
    if (connectedFor > 0 && connectedFor < SHORTEST_USEFUL_CONNECTION_MS) {
      this.tooFast(worker, connectedFor);
    }
    void this.renewal.renew(worker, 'reset-budget');
  }

  private tooFast(worker: ChannelWorker, connectionMs: number): void {
    const now = Date.now();
    if (now - this.warnedAt < WARN_EVERY_MS) {
      return;
    }
    this.warnedAt = now;
    const { burst, perSecond, margin } = this.budget;
    // Spent burst - margin tokens in connectionMs while perSecond flowed back in.
    const resetsPerSecond = Math.round(((burst - margin) * 1000) / connectionMs + perSecond);
    publish('resetBudgetExceeded', () => ({
      pool: this.pool,
      memberId: worker.id,
      target: worker.target,
      resetsPerSecond,
      burst,
      perSecond,
      connectionMs,
    }));
    this.logger.warn(
      `member ${worker.id} to ${worker.target} sent about ${resetsPerSecond} stream resets a second (cancelled or expired calls), faster than renewing its connection can absorb: the server allows a burst of ${burst} and ${perSecond} a second per connection (resetBudget), so its guard will end sessions and fail the calls on them. Cancel fewer calls, add members (size), or raise the server's allowance.`,
    );
  }
}
