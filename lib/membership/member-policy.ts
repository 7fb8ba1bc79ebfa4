import type { ChannelInterface, ChannelOptions, connectivityState as State } from '@grpc/grpc-js';
import type { MemberChannel } from '../member/member-channel.js';
import type { MemberOutReason } from '../interfaces/pool-status.interface.js';
import type { Member } from '../member/member.js';
import type { RedialReason } from '../member/member-connection.js';
import type { Lifecycle } from '../member/member-lifecycle.js';
import type { DrainStartEvent, RenewalReason } from '../telemetry/pool-events.js';

/**
 * Where members dial within their target: the seam address spreading fills when the pool
 * resolves a name itself. Without one, members dial their target and grpc-js resolves it.
 */
export interface MemberPlacement {
  /**
   * The address a new member on `target` dials first; `undefined`: it dials `target`
   * (grpc-js resolves it); `null`: the name has not resolved yet, the member waits unstarted.
   */
  place(target: string): string | null | undefined;
  /** Channel args for a member of `target` dialling a literal address (authority, TLS name). */
  addressArgs(target: string): Readonly<ChannelOptions> | undefined;
  /** What the pool knows about `target` beyond its members (a resolver error), for errors. */
  note(target: string): string | undefined;
}

/**
 * A policy: an adaptive feature that listens to the members' transitions and call signals
 * and ASKS the membership for changes ({@link MemberControl}); it never writes a member.
 */
export interface MemberPolicy {
  /** A member was made (a kept one, or a replacement in the making). */
  joined?(member: Member): void;
  transitioned?(member: Member, from: Lifecycle, to: Lifecycle): void;
  /** A member's channel changed connectivity (TRANSIENT_FAILURE to CONNECTING too). */
  connectionChanged?(member: Member, state: State, previous: State): void;
  /**
   * `fresh` takes `old`'s place (make-before-break): records of `old` pass to `fresh`. Told
   * in the swap before `fresh` is admitted, so a hold it asks for keeps `fresh` out of the table.
   */
  replaced?(old: Member, fresh: Member): void;
  /** A member's calls failed `consecutiveFailures` times in a row (UNAVAILABLE, INTERNAL, UNKNOWN). */
  failureStreak?(member: Member): void;
  /** A call started on a member with the autoscaler's mark of calls in flight or more. */
  busy?(member: Member): void;
  /** A member's reset budget ran low. */
  resetBudgetLow?(member: Member): void;
  /** After the first members started. */
  start?(): void;
  /** Shutdown: no more decisions. */
  stop?(): void;
}

/** What a policy may ask of the membership. */
export interface MemberControl {
  readonly pool: string;
  /** The members the pool keeps (not replacements in the making, not leaving). */
  readonly members: readonly Member[];
  readonly closed: boolean;
  /** Adds `n` members; resolves with them (not yet connected). */
  add(n: number): Promise<Member[]>;
  /** Takes `n` members away (not-ready first, then the least loaded) and drains them. */
  retire(n: number, why: DrainStartEvent['reason'], reason: string): Promise<number>;
  /** Make-before-break: a new member takes `old`'s place once connected. One at a time. */
  replace(old: Member, request: ReplaceRequest): Promise<RenewOutcome>;
  /** Holds `member` out for `reason`; `guarded`: only if half the kept members stay serving. */
  holdOut(
    member: Member,
    reason: MemberOutReason,
    options?: { until?: number; guarded?: boolean },
  ): boolean;
  /** Lets go of `member` for `reason`. */
  letIn(member: Member, reason: MemberOutReason): void;
  /** A fresh channel for `member` (on `address`, when given). */
  redial(member: Member, reason: RedialReason, address?: string): void;
  /**
   * Whether `member` is connected (READY) within `timeoutMs`; false if it leaves or the pool
   * closes, and with `failFast` as soon as a connection attempt fails.
   */
  untilConnected(member: Member, timeoutMs: number, failFast?: boolean): Promise<boolean>;
}

/** How one replacement ended. `renewed: false` leaves the old member as it was. */
export type RenewOutcome =
  | { readonly renewed: true; readonly memberId: number; readonly newMemberId: number }
  | { readonly renewed: false; readonly memberId: number; readonly why: string };

/** What a replacement is for, and where its new member dials (default: where the old one would). */
export interface ReplaceRequest {
  readonly reason: RenewalReason;
  readonly address?: string;
  /** Give up as soon as the new connection fails (a move: that address refused), not at connectTimeoutMs. */
  readonly failFast?: boolean;
}

/** Where the pool sends calls its members cannot take. */
export interface CallRouting {
  /** Where calls made on a member that left go: the pool's channel. */
  successor(): ChannelInterface;
  /**
   * Another member for a call that reached no server through `failed` (gRPC A6 transparent
   * retry, see `CountedCall`), or `undefined`: the call keeps its failure.
   */
  repick(failed: MemberChannel): MemberChannel | undefined;
}
