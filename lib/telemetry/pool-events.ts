import diagnostics from 'node:diagnostics_channel';
import type { MemberOutReason, PoolStatus } from '../interfaces/pool-status.interface.js';

/**
 * Names of the `node:diagnostics_channel` channels the pools publish on. Publishing costs
 * nothing while a channel has no subscriber (the payload is not even built), and no event
 * is published per call: per-call figures are counters in `status()`.
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(POOL_EVENTS.memberConnected, (event) => console.log(event));
 */
export const POOL_EVENTS = {
  /** {@link PoolInitEvent}: a pool's module initialized and its members started connecting. */
  init: 'nestjs-grpc-pool:init',
  /** {@link MemberConnectedEvent}: a member became READY. */
  memberConnected: 'nestjs-grpc-pool:member:connected',
  /** {@link MemberConnectionFailedEvent}: a connection attempt failed. */
  memberConnectionFailed: 'nestjs-grpc-pool:member:connection-failed',
  /** {@link MemberDisconnectedEvent}: a READY member left READY. */
  memberDisconnected: 'nestjs-grpc-pool:member:disconnected',
  /** {@link MemberReconnectEvent}: a member will connect again (grpc-js backoff, or a fresh channel). */
  memberReconnect: 'nestjs-grpc-pool:member:reconnect-scheduled',
  /** {@link ScaleEvent} with `phase: 'requested'`: a scale operation was asked for. */
  scaleRequested: 'nestjs-grpc-pool:scale:requested',
  /** {@link ScaleEvent} with `phase: 'done'`: a scale operation finished. */
  scaleDone: 'nestjs-grpc-pool:scale:done',
  /** {@link DrainStartEvent}: members left rotation and their calls are being waited for. */
  drainStart: 'nestjs-grpc-pool:drain:start',
  /** {@link DrainEndEvent}: the drained members are closed. */
  drainEnd: 'nestjs-grpc-pool:drain:end',
  /** {@link AddressesChangedEvent}: a spread target resolved to other addresses than before. */
  addressesChanged: 'nestjs-grpc-pool:addresses:changed',
  /** {@link AddressResolveFailedEvent}: resolving a spread target's name failed. */
  addressResolveFailed: 'nestjs-grpc-pool:addresses:resolve-failed',
  /** {@link MemberMovedEvent}: a member went to another address of its target. */
  memberMoved: 'nestjs-grpc-pool:member:moved',
  /** {@link AutoscaleDecisionEvent}: the autoscaler adds or removes a member, and why. */
  autoscaleDecision: 'nestjs-grpc-pool:autoscale:decision',
  /** {@link AutoscaleThrashEvent}: five autoscaler resizes in a row alternated direction. */
  autoscaleThrash: 'nestjs-grpc-pool:autoscale:thrash',
  /** {@link RenewalEvent} with `phase: 'start'`: a member's new connection is being made. */
  renewalStart: 'nestjs-grpc-pool:renewal:start',
  /** {@link RenewalEvent} with `phase: 'done'`: the new connection took the member's slot. */
  renewalDone: 'nestjs-grpc-pool:renewal:done',
  /** {@link RenewalEvent} with `phase: 'failed'`: the old member keeps serving; `error` says why. */
  renewalFailed: 'nestjs-grpc-pool:renewal:failed',
  /** {@link ResetBudgetExceededEvent}: resets come faster than renewing members can absorb. */
  resetBudgetExceeded: 'nestjs-grpc-pool:reset-budget:exceeded',
  /** {@link PoolStatusEvent}: the periodic snapshot, every `statusIntervalMs`. */
  status: 'nestjs-grpc-pool:status',
  /** {@link MemberHealthEvent}: a member's server answered a different health status. */
  memberHealth: 'nestjs-grpc-pool:member:health',
  /** {@link MemberOutEvent}: a connected member left rotation (health or ejection). */
  memberOut: 'nestjs-grpc-pool:member:out',
  /** {@link MemberBackEvent}: a member held out is back in rotation. */
  memberBack: 'nestjs-grpc-pool:member:back',
  /** {@link MemberOutEvent}: a member would have left rotation, but the guard kept it (half the pool stays in). */
  memberOutHeld: 'nestjs-grpc-pool:member:out-held',
  /** {@link HealthCheckOffEvent}: the pool stopped health checking (the server has no health service). */
  healthCheckOff: 'nestjs-grpc-pool:health-check:off',
} as const;

/** Every event names its pool. */
export interface PoolEventBase {
  readonly pool: string;
}

export interface PoolInitEvent extends PoolEventBase {
  readonly size: number;
  readonly targets: readonly string[];
  readonly strategy: string;
}

export interface MemberEventBase extends PoolEventBase {
  readonly memberId: number;
  readonly target: string;
}

export interface MemberConnectedEvent extends MemberEventBase {
  /** From the start of the connection attempt to READY, in ms. */
  readonly connectMs: number;
}

export interface MemberConnectionFailedEvent extends MemberEventBase {
  /** grpc-js's last error text, e.g. `connect ECONNREFUSED 127.0.0.1:50051`. */
  readonly error: string;
}

export interface MemberDisconnectedEvent extends MemberEventBase {
  /** How long the member had been READY, in ms. */
  readonly upMs: number;
  /** The state it went to: `'IDLE'`, `'CONNECTING'`, `'TRANSIENT_FAILURE'` or `'SHUTDOWN'`. */
  readonly reason: string;
}

export interface MemberReconnectEvent extends MemberEventBase {
  /**
   * `'backoff'` (grpc-js retries after its backoff), `'idle'`, or a fresh channel:
   * `'connect-timeout'`, `'channel-shutdown'`, `'address-moved'` (to another address of its
   * target), `'unhealthy'` (its health probes kept failing).
   */
  readonly reason:
    'backoff' | 'idle' | 'connect-timeout' | 'channel-shutdown' | 'address-moved' | 'unhealthy';
}

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

export interface DrainStartEvent extends PoolEventBase {
  /** `'move'`: the old member of a make-before-break move to another address; `'renewal'`: the old member of a renewal. */
  readonly reason: 'scale-down' | 'shutdown' | 'move' | 'renewal';
  readonly members: number;
  /** Calls in flight on the drained members when the drain began. */
  readonly inFlight: number;
}

export interface DrainEndEvent extends PoolEventBase {
  /** `'move'`: the old member of a make-before-break move to another address; `'renewal'`: the old member of a renewal. */
  readonly reason: 'scale-down' | 'shutdown' | 'move' | 'renewal';
  /** Calls still in flight at `drainTimeoutMs`, cancelled. */
  readonly cancelled: number;
  readonly durationMs: number;
}

export interface AddressesChangedEvent extends PoolEventBase {
  /** The target as configured, e.g. `'orders.default.svc:50051'`. */
  readonly target: string;
  /** Its addresses now, in this process's order, e.g. `['10.0.0.7:50051', '10.0.0.8:50051']`. */
  readonly addresses: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface AddressResolveFailedEvent extends PoolEventBase {
  readonly target: string;
  /** The resolver's error, e.g. `getaddrinfo ENOTFOUND orders.default.svc`. */
  readonly error: string;
}

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

export interface PoolStatusEvent extends PoolEventBase {
  readonly status: PoolStatus;
}

export interface MemberHealthEvent extends MemberEventBase {
  /** What the server's `grpc.health.v1` service answered: `'SERVING'`, `'NOT_SERVING'`, `'SERVICE_UNKNOWN'` or `'UNKNOWN'`. */
  readonly status: string;
  /** `'watch'` (a stream pushed it) or `'check'` (a probe on the interval asked). */
  readonly via: 'watch' | 'check';
}

export interface MemberOutEvent extends MemberEventBase {
  readonly reason: MemberOutReason;
  /** How long it stays out on its own, in ms (ejections); absent when a probe brings it back. */
  readonly durationMs?: number;
  /** Members held out of rotation after this (for `memberOutHeld`: as things stand). */
  readonly out: number;
  /** Members of the pool. */
  readonly size: number;
}

export interface MemberBackEvent extends MemberEventBase {
  /** Why it had been out. */
  readonly reason: MemberOutReason;
  /** How long it was out, in ms. */
  readonly outMs: number;
}

export interface HealthCheckOffEvent extends PoolEventBase {
  /** What the server answered, e.g. `UNIMPLEMENTED: The server does not implement the method /grpc.health.v1.Health/Check`. */
  readonly reason: string;
}

const channels = {
  init: diagnostics.channel(POOL_EVENTS.init),
  memberConnected: diagnostics.channel(POOL_EVENTS.memberConnected),
  memberConnectionFailed: diagnostics.channel(POOL_EVENTS.memberConnectionFailed),
  memberDisconnected: diagnostics.channel(POOL_EVENTS.memberDisconnected),
  memberReconnect: diagnostics.channel(POOL_EVENTS.memberReconnect),
  scaleRequested: diagnostics.channel(POOL_EVENTS.scaleRequested),
  scaleDone: diagnostics.channel(POOL_EVENTS.scaleDone),
  drainStart: diagnostics.channel(POOL_EVENTS.drainStart),
  drainEnd: diagnostics.channel(POOL_EVENTS.drainEnd),
  addressesChanged: diagnostics.channel(POOL_EVENTS.addressesChanged),
  addressResolveFailed: diagnostics.channel(POOL_EVENTS.addressResolveFailed),
  memberMoved: diagnostics.channel(POOL_EVENTS.memberMoved),
  autoscaleDecision: diagnostics.channel(POOL_EVENTS.autoscaleDecision),
  autoscaleThrash: diagnostics.channel(POOL_EVENTS.autoscaleThrash),
  renewalStart: diagnostics.channel(POOL_EVENTS.renewalStart),
  renewalDone: diagnostics.channel(POOL_EVENTS.renewalDone),
  renewalFailed: diagnostics.channel(POOL_EVENTS.renewalFailed),
  resetBudgetExceeded: diagnostics.channel(POOL_EVENTS.resetBudgetExceeded),
  status: diagnostics.channel(POOL_EVENTS.status),
  memberHealth: diagnostics.channel(POOL_EVENTS.memberHealth),
  memberOut: diagnostics.channel(POOL_EVENTS.memberOut),
  memberBack: diagnostics.channel(POOL_EVENTS.memberBack),
  memberOutHeld: diagnostics.channel(POOL_EVENTS.memberOutHeld),
  healthCheckOff: diagnostics.channel(POOL_EVENTS.healthCheckOff),
};

interface EventPayloads {
  init: PoolInitEvent;
  memberConnected: MemberConnectedEvent;
  memberConnectionFailed: MemberConnectionFailedEvent;
  memberDisconnected: MemberDisconnectedEvent;
  memberReconnect: MemberReconnectEvent;
  scaleRequested: ScaleEvent;
  scaleDone: ScaleEvent;
  drainStart: DrainStartEvent;
  drainEnd: DrainEndEvent;
  addressesChanged: AddressesChangedEvent;
  addressResolveFailed: AddressResolveFailedEvent;
  memberMoved: MemberMovedEvent;
  autoscaleDecision: AutoscaleDecisionEvent;
  autoscaleThrash: AutoscaleThrashEvent;
  renewalStart: RenewalEvent;
  renewalDone: RenewalEvent;
  renewalFailed: RenewalEvent;
  resetBudgetExceeded: ResetBudgetExceededEvent;
  status: PoolStatusEvent;
  memberHealth: MemberHealthEvent;
  memberOut: MemberOutEvent;
  memberBack: MemberBackEvent;
  memberOutHeld: MemberOutEvent;
  healthCheckOff: HealthCheckOffEvent;
}

/**
 * Publishes an event if anyone listens. `payload` is a function so that nothing is
 * built, and no clock is read, while nobody subscribes.
 */
export function publish<K extends keyof EventPayloads>(
  event: K,
  payload: () => EventPayloads[K],
): void {
  const channel = channels[event];
  if (channel.hasSubscribers) {
    channel.publish(payload());
  }
}
