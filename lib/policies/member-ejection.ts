import type { GrpcPoolOutlierEjectionOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { Member } from '../member/member.js';
import type { MemberControl, MemberPolicy } from '../membership/member-policy.js';
import type { Lifecycle } from '../member/member-lifecycle.js';

/** One member's ejection record. */
interface Ejections {
  /** Ejections since the member last stayed in for `maxEjectionMs`. */
  count: number;
  /** When it last came back (ms since epoch). */
  backAt: number;
  timer: NodeJS.Timeout | undefined;
  /** The member the record is about now: a replacement takes over its predecessor's. */
  member: Member;
}

/**
 * Passive outlier ejection: a member whose calls end UNAVAILABLE, INTERNAL or UNKNOWN
 * `consecutiveFailures` times in a row goes out for `baseEjectionMs`, twice as long on
 * each next ejection, at most `maxEjectionMs`; a member that stays in for `maxEjectionMs`
 * starts again from the base. The streak is the member's own (`MemberChannel.callEnded`,
 * O(1) where calls already end); the membership's guard keeps half the members serving.
 * A replacement inherits the record, its ejection and its backoff.
 */
export class MemberEjection implements MemberPolicy {
  private readonly records = new Map<Member, Ejections>();

  constructor(
    private readonly options: Readonly<Required<GrpcPoolOutlierEjectionOptions>>,
    private readonly control: MemberControl,
  ) {}

  failureStreak(member: Member): void {
    // A new streak must build up before the next verdict, whatever this one's outcome.
    member.channel.failureStreak = 0;
    if (member.isOut('ejected')) return;
    let record = this.records.get(member);
    if (record === undefined) {
      record = { count: 0, backAt: 0, timer: undefined, member };
      this.records.set(member, record);
    }
    const { baseEjectionMs, maxEjectionMs } = this.options;
    const now = Date.now();
    const count = record.count > 0 && now - record.backAt >= maxEjectionMs ? 0 : record.count;
    const durationMs = Math.min(baseEjectionMs * 2 ** count, maxEjectionMs);
    if (!this.control.holdOut(member, 'ejected', { until: now + durationMs, guarded: true })) {
      return;
    }
    record.count = count + 1;
    const ejected = record;
    ejected.timer = setTimeout(() => {
      ejected.timer = undefined;
      ejected.backAt = Date.now();
      ejected.member.channel.failureStreak = 0;
      this.control.letIn(ejected.member, 'ejected');
    }, durationMs).unref();
  }

  replaced(old: Member, fresh: Member): void {
    const record = this.records.get(old);
    if (record !== undefined) {
      this.records.delete(old);
      record.member = fresh;
      this.records.set(fresh, record);
    }
    // `fresh` started with `old`'s holds of when it was made: the ejection is taken as it
    // stands at the swap, so one that began since is not lost and one that ended since (its
    // timer let `old` in) does not hold `fresh` out for good.
    const ejection = [...old.outs()].find((out) => out.reason === 'ejected');
    if (ejection !== undefined) {
      this.control.holdOut(fresh, 'ejected', { until: ejection.until });
    } else {
      this.control.letIn(fresh, 'ejected');
    }
  }

  transitioned(member: Member, _from: Lifecycle, to: Lifecycle): void {
    if (to === 'closed') {
      const record = this.records.get(member);
      if (record !== undefined) {
        clearTimeout(record.timer);
        this.records.delete(member);
      }
    }
  }

  stop(): void {
    for (const record of this.records.values()) clearTimeout(record.timer);
  }
}
