import type { Member } from '../member/member.js';
import type { MemberControl, MemberPolicy } from '../membership/member-policy.js';
import type { Replacements } from '../membership/replacements.js';

/** When a member is due, from the connection it has now. */
interface Deadline {
  readonly readySince: number;
  at: number;
}

/**
 * `maxConnectionAgeMs`: renews each member on its own schedule, one at a time, through
 * {@link MemberRenewal}. A member's age counts from its connection's READY, so a member that
 * reconnected (a server's GOAWAY) starts again from zero.
 *
 * Members that connected together must not age out together (a wave of reconnects, and the
 * server's max age would line them up again): a member's first connection lives a random
 * share of the age (10 % to 100 %), every later one the age minus up to `jitter` of it.
 */
export class MemberAging implements MemberPolicy {
  private readonly deadlines = new WeakMap<Member, Deadline>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ageMs: number,
    private readonly jitter: number,
    private readonly control: MemberControl,
    private readonly renewals: Replacements,
  ) {}

  /** Checks the members every tenth of the age (at most every second): coarse, off the hot path. */
  start(): void {
    this.timer = setInterval(() => this.tick(), Math.min(1_000, this.ageMs / 10)).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** When `member` is due for renewal (ms since epoch), once it has been READY. */
  renewAt(member: Member): number | undefined {
    return member.connection.readySince === undefined ? undefined : this.deadline(member)?.at;
  }

  private tick(): void {
    if (this.renewals.busy) {
      return;
    }
    const now = Date.now();
    let due: Member | undefined;
    let dueAt = Infinity;
    for (const member of this.control.members) {
      const at = this.renewAt(member);
      if (at !== undefined && at <= now && at < dueAt) {
        due = member;
        dueAt = at;
      }
    }
    if (due !== undefined) {
      const member = due;
      void this.control.replace(member, { reason: 'max-age' }).then((outcome) => {
        const deadline = this.deadlines.get(member);
        if (!outcome.renewed && deadline !== undefined) {
          // It keeps serving: try again after a tenth of its age, not on every tick.
          deadline.at = Date.now() + this.ageMs / 10;
        }
      });
    }
  }

  private deadline(member: Member): Deadline | undefined {
    const readySince = member.connection.readySince;
    if (readySince === undefined) {
      return undefined;
    }
    const known = this.deadlines.get(member);
    if (known !== undefined && known.readySince === readySince) {
      return known;
    }
    // First connection of a member the pool made (not a renewal's): a random share.
    const first = known === undefined && member.config.renewedFrom === undefined;
    const life = first
      ? this.ageMs * (0.1 + 0.9 * Math.random())
      : this.ageMs * (1 - this.jitter * Math.random());
    const deadline = { readySince, at: readySince + life };
    this.deadlines.set(member, deadline);
    return deadline;
  }
}
