import type { LoggerService } from '@nestjs/common';
import type { MemberOutReason } from '../interfaces/pool-status.interface.js';
import type { Member } from '../member/member.js';
import { publish } from '../telemetry/pool-events.js';

/**
 * Holding members out of rotation and letting them back in, for the membership: the guard,
 * the log lines and the events. A member may be held for several reasons at once (its server
 * says NOT_SERVING and its calls got it ejected); it serves again when the last one lets go.
 *
 * The guard (Bigtable's channel pool does the same): a hold that is not the server's own
 * word never leaves fewer than half the kept members SERVING, so that a client-side fault (a
 * slow probe path, a burst of failures) cannot empty the pool. Members that are not
 * connected do not count as serving: with half the pool down, nothing more is taken out.
 */
export class MemberHolds {
  constructor(
    private readonly pool: string,
    private readonly kept: () => readonly Member[],
    private readonly logger: LoggerService,
  ) {}

  holdOut(
    member: Member,
    reason: MemberOutReason,
    { until, guarded = false }: { until?: number; guarded?: boolean },
  ): boolean {
    if (member.isOut(reason) || member.leaving) {
      return false;
    }
    if (guarded && !this.mayHoldOut(member)) {
      this.logger.debug?.(
        `member ${member.id} to ${member.target} stays in rotation despite ${reason}: ` +
          'at least half the members must stay serving',
      );
      publish('memberOutHeld', () => ({ ...this.base(member), reason, ...this.counts() }));
      return false;
    }
    const since = Date.now();
    member.holdOut({ reason, since, ...(until !== undefined && { until }) });
    this.logger.warn(
      `member ${member.id} to ${member.target} is out of rotation (${reason}` +
        `${until === undefined ? '' : ` for ${until - since} ms`}); its connection stays open`,
    );
    publish('memberOut', () => ({
      ...this.base(member),
      reason,
      ...(until !== undefined && { durationMs: until - since }),
      ...this.counts(),
    }));
    return true;
  }

  letIn(member: Member, reason: MemberOutReason): void {
    const out = member.letIn(reason);
    if (out === undefined) {
      return;
    }
    if (member.out === undefined) {
      this.logger.log(
        `member ${member.id} to ${member.target} is back in rotation (was ${reason})`,
      );
    }
    publish('memberBack', () => ({ ...this.base(member), reason, outMs: Date.now() - out.since }));
  }

  /** Whether `member` may go out for a reason that is not the server's word (see the class). */
  private mayHoldOut(member: Member): boolean {
    if (member.out !== undefined) {
      return true;
    }
    const kept = this.kept();
    let serving = 0;
    for (const other of kept) if (other.state === 'serving') serving++;
    const after = member.state === 'serving' ? serving - 1 : serving;
    return after * 2 >= kept.length;
  }

  private counts(): { out: number; size: number } {
    const kept = this.kept();
    let out = 0;
    for (const member of kept) if (member.out !== undefined) out++;
    return { out, size: kept.length };
  }

  private base(member: Member) {
    return { pool: this.pool, memberId: member.id, target: member.target };
  }
}
