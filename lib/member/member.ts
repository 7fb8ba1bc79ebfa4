import { connectivityState as State, type ChannelInterface } from '@grpc/grpc-js';
import type { MemberOutReason } from '../interfaces/pool-status.interface.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { MemberChannel } from './member-channel.js';
import {
  MemberConnection,
  type MemberConnectionConfig,
  type RedialReason,
} from './member-connection.js';
import { LIVE, settledState, TRANSITIONS, type Lifecycle } from './member-lifecycle.js';
import { PeakEwma } from './peak-ewma.js';

/** Why a member is out of rotation, with when (ms since epoch). */
export interface MemberOut {
  readonly reason: MemberOutReason;
  readonly since: number;
  /** When it comes back on its own (an ejection), if it does. */
  readonly until?: number;
}

/** The server's word first: it is what brings the member back, whatever else holds it. */
const OUT_PRIORITY: readonly MemberOutReason[] = [
  'NOT_SERVING',
  'SERVICE_UNKNOWN',
  'probe-failures',
  'ejected',
];

/**
 * How long a drained member's connections get to close gracefully (GOAWAY, FIN both ways)
 * before the pool destroys them: many round trips on any network, so only a server that
 * stopped reading (or a dead path) reaches it.
 */
const CLOSE_GRACE_MS = 1_000;

/** Who a member answers to: its pool's membership, the one owner of every member's life. */
export interface MemberOwner {
  /** The pool's slot table: a member is in it exactly while `serving`. */
  readonly table: PoolStateService<Member, MemberChannel>;
  /** Told after every transition, once its side effects are done. */
  transitioned(member: Member, from: Lifecycle, to: Lifecycle): void;
  /** Told after every connectivity change of the member's channel (after its transition, if any). */
  connectionChanged(member: Member, state: State, previous: State): void;
}

/** What a member is made with. */
export interface MemberConfig extends MemberConnectionConfig {
  /** Deadline (ms) given to calls on the member that set none; 0: off. */
  readonly defaultDeadlineMs: number;
  /** Keep a peak-EWMA latency of the member's calls with this time constant (ms). */
  readonly latencyTauMs?: number;
  /** A replacement: READY makes it `standby`, not `serving`, until it is admitted. */
  readonly standby: boolean;
  /** The member this one replaces, if it does. */
  readonly renewedFrom?: number;
  /** Reasons it starts out held for (a replacement takes its predecessor's). */
  readonly outs?: Iterable<MemberOut>;
}

/**
 * One connection the pool keeps, and its life: one state ({@link Lifecycle}), written only by
 * {@link transition}, along the table in `member-lifecycle.ts`. The inputs that decide it are
 * the channel's connectivity (its {@link MemberConnection} reports it), whether it is
 * admitted (a replacement is not, until swapped in) and the reasons that hold it out; each
 * change of an input settles the state again. Entering `serving` puts the member in the slot
 * table, leaving it takes it out: no other code writes the table.
 *
 * Only the pool's membership calls the methods that change an input; policies (health,
 * ejection, renewal, spreading, autoscaling) ask the membership.
 */
export class Member {
  /** The member as the pool hands it out: a grpc-js `Channel` that counts its calls. */
  readonly channel: MemberChannel;
  readonly connection: MemberConnection;
  private current: Lifecycle = 'pending';
  private admitted: boolean;
  private readonly holds = new Map<MemberOutReason, MemberOut>();

  constructor(
    readonly config: MemberConfig,
    private readonly owner: MemberOwner,
  ) {
    this.admitted = !config.standby;
    for (const out of config.outs ?? []) {
      this.holds.set(out.reason, out);
    }
    this.connection = new MemberConnection(config, this);
    this.channel = new MemberChannel(
      this.connection.open(),
      config.defaultDeadlineMs,
      config.latencyTauMs === undefined ? undefined : new PeakEwma(config.latencyTauMs),
    );
  }

  get id(): number {
    return this.config.id;
  }

  get target(): string {
    return this.config.target;
  }

  /** Its state in the table. */
  get state(): Lifecycle {
    return this.current;
  }

  /** Whether it is leaving or gone (`draining`, `closed`). */
  get leaving(): boolean {
    return this.current === 'draining' || this.current === 'closed';
  }

  /** The weightiest reason it is held out for, or `undefined`. */
  get out(): MemberOut | undefined {
    for (const reason of OUT_PRIORITY) {
      const out = this.holds.get(reason);
      if (out !== undefined) return out;
    }
    return undefined;
  }

  /** Every reason it is held out for. */
  outs(): Iterable<MemberOut> {
    return this.holds.values();
  }

  isOut(reason: MemberOutReason): boolean {
    return this.holds.has(reason);
  }

  /**
   * The one writer of the member's state: moves it to `to` if it is now in one of `from`
   * and the table allows the step; then the side effects of the state entered and left,
   * then the owner hears of it. Returns false, changing nothing, otherwise.
   */
  transition(from: readonly Lifecycle[], to: Lifecycle): boolean {
    const was = this.current;
    if (!from.includes(was) || !TRANSITIONS[was].includes(to)) {
      return false;
    }
    this.current = to;
    if (was === 'serving') {
      this.owner.table.unregister(this);
    }
    if (to === 'serving') {
      this.owner.table.register(this, this.channel);
    }
    this.owner.transitioned(this, was, to);
    return true;
  }

  /** Starts dialling. */
  start(): void {
    if (this.current === 'pending') {
      this.transition(['pending'], 'connecting');
      this.connection.start();
    }
  }

  /** A replacement becomes a kept member: `serving` (or `held`) from now on while READY. */
  admit(): void {
    this.admitted = true;
    this.settle();
  }

  /** Holds the member out of rotation for `out.reason` (its connection stays up). */
  holdOut(out: MemberOut): boolean {
    if (this.holds.has(out.reason)) return false;
    this.holds.set(out.reason, out);
    this.settle();
    return true;
  }

  /** Lets go of the member for `reason`; it serves again once nothing else holds it. */
  letIn(reason: MemberOutReason): MemberOut | undefined {
    const out = this.holds.get(reason);
    if (out !== undefined) {
      this.holds.delete(reason);
      this.settle();
    }
    return out;
  }

  /** A fresh channel at once (on `address`, when given). */
  redial(reason: RedialReason, address?: string): void {
    if (this.leaving) return;
    // A member still waiting for its name (pending) starts here, on the address it is given.
    this.transition(['pending'], 'connecting');
    this.connection.redial(reason, address);
  }

  /**
   * Leaves: out of the table, calls made on it from now on go to `successor` (the pool), its
   * calls in flight get `timeoutMs` to finish, then the rest are cancelled with `reason` and
   * the channel closes. Resolves with the calls cancelled.
   */
  async drain(successor: ChannelInterface, timeoutMs: number, reason: string): Promise<number> {
    if (!this.transition(LIVE, 'draining')) {
      return 0;
    }
    // As it leaves, its channel is no longer redialled, woken or timed: a channel made or
    // a probe call started now would outlive the drain.
    this.connection.stop();
    // Retired only once out of the table: a member still pickable would hand its calls to
    // the pool, which could pick it again.
    this.channel.retire(successor);
    const cancelled = await this.channel.drain(timeoutMs, reason);
    await this.connection.close(CLOSE_GRACE_MS);
    this.transition(['draining'], 'closed');
    return cancelled;
  }

  /** @internal Its connection's connectivity changed. */
  connectivityChanged(state: State, previous: State): void {
    this.settle();
    this.owner.connectionChanged(this, state, previous);
  }

  /** Settles the state its inputs now give, unless it is leaving. */
  private settle(): void {
    if (this.current === 'pending' || this.leaving) {
      return;
    }
    const next = settledState({
      started: true,
      ready: this.connection.state === State.READY,
      admitted: this.admitted,
      heldOut: this.holds.size > 0,
    });
    if (next !== this.current) {
      this.transition([this.current], next);
    }
  }
}
