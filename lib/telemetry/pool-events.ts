import diagnostics from 'node:diagnostics_channel';
import type { PoolStatus } from '../interfaces/pool-status.interface.js';

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
  /** {@link PoolStatusEvent}: the periodic snapshot, every `statusIntervalMs`. */
  status: 'nestjs-grpc-pool:status',
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
  /** `'backoff'` (grpc-js retries after its backoff), `'idle'`, `'connect-timeout'` or `'channel-shutdown'` (a fresh channel). */
  readonly reason: 'backoff' | 'idle' | 'connect-timeout' | 'channel-shutdown';
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
  readonly reason: 'scale-down' | 'shutdown' | 'renewal';
  readonly members: number;
  /** Calls in flight on the drained members when the drain began. */
  readonly inFlight: number;
}

export interface DrainEndEvent extends PoolEventBase {
  readonly reason: 'scale-down' | 'shutdown' | 'renewal';
  /** Calls still in flight at `drainTimeoutMs`, cancelled. */
  readonly cancelled: number;
  readonly durationMs: number;
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
  autoscaleDecision: diagnostics.channel(POOL_EVENTS.autoscaleDecision),
  autoscaleThrash: diagnostics.channel(POOL_EVENTS.autoscaleThrash),
  renewalStart: diagnostics.channel(POOL_EVENTS.renewalStart),
  renewalDone: diagnostics.channel(POOL_EVENTS.renewalDone),
  renewalFailed: diagnostics.channel(POOL_EVENTS.renewalFailed),
  status: diagnostics.channel(POOL_EVENTS.status),
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
  autoscaleDecision: AutoscaleDecisionEvent;
  autoscaleThrash: AutoscaleThrashEvent;
  renewalStart: RenewalEvent;
  renewalDone: RenewalEvent;
  renewalFailed: RenewalEvent;
  status: PoolStatusEvent;
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
