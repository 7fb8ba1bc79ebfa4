import { connectivityState as State } from '@grpc/grpc-js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { PoolMemberInfo } from '../interfaces/pool-status.interface.js';
import type { Member } from '../member/member.js';
import type { MemberChannel } from '../member/member-channel.js';
import { describeMember } from './member-info.js';
import type { Membership } from './membership.js';
import type { MemberPlacement } from './member-policy.js';

/**
 * The one read model of a pool's members: what `status()`, `members()`, errors, the
 * connectivity of `pool.channel` and its queueing read. Reads, never writes.
 */
export class MembershipView {
  private nextWaiting = 0;

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly membership: Membership,
    private readonly placement: MemberPlacement | undefined,
    /** When `maxConnectionAgeMs` renews a member (ms since epoch), when it does. */
    private readonly renewAt: (member: Member) => number | undefined,
  ) {}

  /** Every member listed (kept, then leaving ones), as `status()` shows them. */
  describe(): PoolMemberInfo[] {
    const { table } = this.membership;
    return this.membership.everyMember().map((member) =>
      describeMember(member, {
        slot: table.slotOf(member),
        renewAt: this.renewAt(member),
        replacement: this.membership.isReplacement(member),
      }),
    );
  }

  /**
   * The members' connectivity folded into one, as a channel would report it. READY means a
   * member is serving (so `tryGetChannel()` returns one), not that a channel said READY.
   */
  connectivity(): State {
    if (this.membership.table.count > 0) return State.READY;
    const states = new Set(this.membership.members.map((member) => member.connection.state));
    if (states.has(State.CONNECTING) || states.has(State.IDLE) || states.has(State.READY)) {
      return State.CONNECTING;
    }
    if (states.has(State.TRANSIENT_FAILURE)) return State.TRANSIENT_FAILURE;
    return State.IDLE;
  }

  /**
   * For a call made while no member serves: the member likeliest to take it soonest
   * (connecting, then failed), rotating among equals. A member held out of rotation is never
   * one: its server said no.
   */
  waitingMember(): MemberChannel | undefined {
    for (const wanted of [[State.CONNECTING, State.IDLE, State.READY], [State.TRANSIENT_FAILURE]]) {
      const candidates = this.membership.members.filter(
        (member) => wanted.includes(member.connection.state) && member.out === undefined,
      );
      if (candidates.length > 0) {
        return candidates[this.nextWaiting++ % candidates.length].channel;
      }
    }
    return undefined;
  }

  /**
   * For a call made while no member serves: the member grpc-js should queue it on
   * ({@link waitingMember}), or why there is none, in words for the caller.
   */
  queueFor(closed: boolean): MemberChannel | string {
    const pool = this.options.name;
    if (closed) {
      return `gRPC pool "${pool}" is closed; no call can be made on it`;
    }
    const waiting = this.waitingMember();
    if (waiting !== undefined) {
      return waiting;
    }
    const out = this.outReasons();
    return out.length > 0
      ? `gRPC pool "${pool}": every connected member is out of rotation (${out.join(', ')}); ` +
          "retry later, or check the servers' health service"
      : `gRPC pool "${pool}" has not started; call it after the module initializes`;
  }

  /** Why members are held out of rotation, e.g. `['NOT_SERVING']` (empty when none is). */
  outReasons(): string[] {
    return [
      ...new Set(
        this.membership.members.flatMap((member) => (member.out ? [member.out.reason] : [])),
      ),
    ];
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
}
