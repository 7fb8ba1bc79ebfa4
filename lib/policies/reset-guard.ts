import type { LoggerService } from '@nestjs/common';
import type { ResolvedResetBudget } from '../interfaces/grpc-pool-options.interface.js';
import { publish } from '../telemetry/pool-events.js';
import type { Member } from '../member/member.js';
import type { MemberControl, MemberPolicy } from '../membership/member-policy.js';

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
export class ResetGuard implements MemberPolicy {
  private warnedAt = -Infinity;

  constructor(
    private readonly pool: string,
    private readonly budget: ResolvedResetBudget,
    private readonly control: MemberControl,
    private readonly logger: LoggerService,
  ) {}

  /** A member's budget fell below its margin. */
  resetBudgetLow(member: Member): void {
    const readySince = member.connection.readySince;
    const connectedFor = readySince === undefined ? 0 : Date.now() - readySince;
    if (connectedFor > 0 && connectedFor < SHORTEST_USEFUL_CONNECTION_MS) {
      this.tooFast(member, connectedFor);
    }
    void this.control.replace(member, { reason: 'reset-budget' });
  }

  private tooFast(member: Member, connectionMs: number): void {
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
      memberId: member.id,
      target: member.target,
      resetsPerSecond,
      burst,
      perSecond,
      connectionMs,
    }));
    this.logger.warn(
      `member ${member.id} to ${member.target} sent about ${resetsPerSecond} stream resets a second (cancelled or expired calls), faster than renewing its connection can absorb: the server allows a burst of ${burst} and ${perSecond} a second per connection (resetBudget), so its guard will end sessions and fail the calls on them. Cancel fewer calls, add members (size), or raise the server's allowance.`,
    );
  }
}
