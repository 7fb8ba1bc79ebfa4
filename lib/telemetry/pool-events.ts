import diagnostics from 'node:diagnostics_channel';
import type * as Events from '../interfaces/pool-events.interface.js';

export type * from '../interfaces/pool-events.interface.js';

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
  init: Events.PoolInitEvent;
  memberConnected: Events.MemberConnectedEvent;
  memberConnectionFailed: Events.MemberConnectionFailedEvent;
  memberDisconnected: Events.MemberDisconnectedEvent;
  memberReconnect: Events.MemberReconnectEvent;
  scaleRequested: Events.ScaleEvent;
  scaleDone: Events.ScaleEvent;
  drainStart: Events.DrainStartEvent;
  drainEnd: Events.DrainEndEvent;
  addressesChanged: Events.AddressesChangedEvent;
  addressResolveFailed: Events.AddressResolveFailedEvent;
  memberMoved: Events.MemberMovedEvent;
  autoscaleDecision: Events.AutoscaleDecisionEvent;
  autoscaleThrash: Events.AutoscaleThrashEvent;
  renewalStart: Events.RenewalEvent;
  renewalDone: Events.RenewalEvent;
  renewalFailed: Events.RenewalEvent;
  resetBudgetExceeded: Events.ResetBudgetExceededEvent;
  status: Events.PoolStatusEvent;
  memberHealth: Events.MemberHealthEvent;
  memberOut: Events.MemberOutEvent;
  memberBack: Events.MemberBackEvent;
  memberOutHeld: Events.MemberOutEvent;
  healthCheckOff: Events.HealthCheckOffEvent;
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
