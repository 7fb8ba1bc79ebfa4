import type { MemberOutReason, PoolStatus } from './pool-status.interface.js';

/* The payloads of the pool's diagnostics_channel events (see `POOL_EVENTS`). */

/** Every event names its pool. */
export interface PoolEventBase {
  readonly pool: string;
}

/** A pool's module initialized and its members started connecting. */
export interface PoolInitEvent extends PoolEventBase {
  readonly size: number;
  readonly targets: readonly string[];
  readonly strategy: string;
}

/** Every member event names its member and target too. */
export interface MemberEventBase extends PoolEventBase {
  readonly memberId: number;
  readonly target: string;
}

/** A member became READY. */
export interface MemberConnectedEvent extends MemberEventBase {
  /** From the start of the connection attempt to READY, in ms. */
  readonly connectMs: number;
}

/** A member's connection attempt failed. */
export interface MemberConnectionFailedEvent extends MemberEventBase {
  /** grpc-js's last error text, e.g. `connect ECONNREFUSED 127.0.0.1:50051`. */
  readonly error: string;
}

/** A READY member left READY. */
export interface MemberDisconnectedEvent extends MemberEventBase {
  /** How long the member had been READY, in ms. */
  readonly upMs: number;
  /** The state it went to: `'IDLE'`, `'CONNECTING'`, `'TRANSIENT_FAILURE'` or `'SHUTDOWN'`. */
  readonly reason: string;
}

/** A member will connect again (grpc-js backoff, or a fresh channel). */
export interface MemberReconnectEvent extends MemberEventBase {
  /**
   * `'backoff'` (grpc-js retries after its backoff), `'idle'`, or a fresh channel:
   * `'connect-timeout'`, `'channel-shutdown'`, `'address-moved'` (to another address of its
   * target), `'unhealthy'` (its health probes kept failing).
   */
  readonly reason:
    'backoff' | 'idle' | 'connect-timeout' | 'channel-shutdown' | 'address-moved' | 'unhealthy';
}

/** A scale operation was asked for (`phase: 'requested'`) or finished (`'done'`). */
export interface ScaleEvent extends PoolEventBase {
  readonly phase: 'requested' | 'done';
  /** `'autoscale'`: the autoscaler's own add or removal of one member. */
  readonly operation: 'start' | 'scaleUp' | 'scaleDown' | 'resize' | 'autoscale';
  /** The argument: members to add or remove, or the size asked for. */
  readonly requested: number;
  /** Size before the operation. */
  readonly from: number;
  /** Size after it (on `done`). */
  readonly size?: number;
  /** How long it took, in ms (on `done`). */
  readonly durationMs?: number;
}

/** Members left rotation and their calls in flight are being waited for. */
export interface DrainStartEvent extends PoolEventBase {
  /** `'move'`: the old member of a make-before-break move to another address; `'renewal'`: the old member of a renewal. */
  readonly reason: 'scale-down' | 'shutdown' | 'move' | 'renewal';
  readonly members: number;
  /** Calls in flight on the drained members when the drain began. */
  readonly inFlight: number;
}

/** Drained members are closed. */
export interface DrainEndEvent extends PoolEventBase {
  /** `'move'`: the old member of a make-before-break move to another address; `'renewal'`: the old member of a renewal. */
  readonly reason: 'scale-down' | 'shutdown' | 'move' | 'renewal';
  /** Calls still in flight at `drainTimeoutMs`, cancelled. */
  readonly cancelled: number;
  readonly durationMs: number;
}

/** A spread target resolved to other addresses than before. */
export interface AddressesChangedEvent extends PoolEventBase {
  /** The target as configured, e.g. `'orders.default.svc:50051'`. */
  readonly target: string;
  /** Its addresses now, in this process's order, e.g. `['10.0.0.7:50051', '10.0.0.8:50051']`. */
  readonly addresses: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Resolving a spread target's name failed. */
export interface AddressResolveFailedEvent extends PoolEventBase {
  readonly target: string;
  /** The resolver's error, e.g. `getaddrinfo ENOTFOUND orders.default.svc`. */
  readonly error: string;
}

/** A member went to another address of its target. */
export interface MemberMovedEvent extends MemberEventBase {
  /** The address it left (`undefined`: it dialled the name through grpc-js). */
  readonly from: string | undefined;
  readonly to: string;
  /**
   * `'address-down'`: its address refused or failed, it moved at once (it held no slot);
   * `'rebalance'`: spreading evenly after a resolution, make-before-break when it was READY.
   */
  readonly reason: 'address-down' | 'rebalance';
  /**
   * For a READY member: a new member (`newMemberId`) connected to `to` and took a slot
   * before this one was drained. Otherwise the member itself was pointed at `to`.
   */
  readonly makeBeforeBreak: boolean;
  readonly newMemberId?: number;
}

/** Why the autoscaler resized: the numbers behind the decision. */
export interface AutoscaleDecisionEvent extends PoolEventBase {
  readonly action: 'scale-up' | 'scale-down';
  /** In words, e.g. `least-loaded ready member has 70 calls in flight >= mark 70`. */
  readonly reason: string;
  /** Members before and after. */
  readonly from: number;
  readonly to: number;
  /** Calls in flight over the pool when decided (scale-up) or the window's peak (scale-down). */
  readonly inFlight: number;
  /** scale-up: fewest calls in flight on a ready member; scale-down: the bound the peak met. */
  readonly threshold: number;
}

/** The autoscaler went up and down five times in a row: its settings fight the load. */
export interface AutoscaleThrashEvent extends PoolEventBase {
  /** The last resizes, oldest first. */
  readonly directions: ReadonlyArray<'scale-up' | 'scale-down'>;
  /** What to change, in words. */
  readonly advice: string;
}

/** Why a member is renewed: its max age, a server's reset budget, a move, or a caller's. */
export type RenewalReason = 'max-age' | 'reset-budget' | 'move' | 'unhealthy' | 'manual';

/**
 * A member ran through its reset budget within seconds of connecting: even renewed, each
 * connection lasts so little that the server's guard will end sessions. Lower the rate of
 * cancelled and expiring calls, add members, or raise the server's allowance.
 */
export interface ResetBudgetExceededEvent extends MemberEventBase {
  /** Resets per second the member's connection sent, measured over its life. */
  readonly resetsPerSecond: number;
  readonly burst: number;
  readonly perSecond: number;
  /** How long the connection lasted before its budget ran low (ms). */
  readonly connectionMs: number;
}

/** A member's renewal started, finished (its new connection took its place) or failed. */
export interface RenewalEvent extends PoolEventBase {
  readonly phase: 'start' | 'done' | 'failed';
  readonly reason: RenewalReason;
  /** The member renewed. */
  readonly memberId: number;
  /** Its successor (on `done`, and on `failed` once it was made). */
  readonly newMemberId?: number;
  readonly target: string;
  /** How long the old member had been READY, in ms (0 when it was not). */
  readonly ageMs: number;
  /** From start to done or failed, in ms. */
  readonly durationMs?: number;
  /** Why it failed (on `failed`). */
  readonly error?: string;
}

/** The periodic snapshot, every `statusIntervalMs`. */
export interface PoolStatusEvent extends PoolEventBase {
  readonly status: PoolStatus;
}

/** A member's server answered a different health status. */
export interface MemberHealthEvent extends MemberEventBase {
  /** What the server's `grpc.health.v1` service answered: `'SERVING'`, `'NOT_SERVING'`, `'SERVICE_UNKNOWN'` or `'UNKNOWN'`. */
  readonly status: string;
  /** `'watch'` (a stream pushed it) or `'check'` (a probe on the interval asked). */
  readonly via: 'watch' | 'check';
}

/** A connected member left rotation, or the guard kept it in (`memberOutHeld`). */
export interface MemberOutEvent extends MemberEventBase {
  readonly reason: MemberOutReason;
  /** How long it stays out on its own, in ms (ejections); absent when a probe brings it back. */
  readonly durationMs?: number;
  /** Members held out of rotation after this (for `memberOutHeld`: as things stand). */
  readonly out: number;
  /** Members of the pool. */
  readonly size: number;
}

/** A member held out is back in rotation. */
export interface MemberBackEvent extends MemberEventBase {
  /** Why it had been out. */
  readonly reason: MemberOutReason;
  /** How long it was out, in ms. */
  readonly outMs: number;
}

/** The pool stopped health checking: its server has no health service. */
export interface HealthCheckOffEvent extends PoolEventBase {
  /** What the server answered, e.g. `UNIMPLEMENTED: The server does not implement the method /grpc.health.v1.Health/Check`. */
  readonly reason: string;
}
