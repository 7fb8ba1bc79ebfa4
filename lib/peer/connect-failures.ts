import diagnostics from 'node:diagnostics_channel';
import { POOL_EVENTS, type MemberConnectionFailedEvent } from '../telemetry/pool-events.js';

type Listener = (error: string) => void;

/** Pools being waited on, by name; subscribed to the event only while this is not empty. */
const listening = new Map<string, Set<Listener>>();

function route(message: unknown): void {
  const event = message as MemberConnectionFailedEvent;
  listening.get(event.pool)?.forEach((listener) => listener(event.error));
}

/**
 * Calls `listener` with grpc-js's error text each time a member of the pool called `pool`
 * has a connection attempt fail; returns the function that stops it.
 *
 * A member learns why its attempt failed only after it is in TRANSIENT_FAILURE, from a
 * local probe call whose status arrives later: its `memberConnectionFailed` event is the
 * moment the error is known. One subscription serves every pool waited on, so a thousand
 * concurrent misses are one listener for the event channel, not a thousand; and none at
 * all once no miss is connecting, so the event costs nothing again.
 */
export function onConnectFailure(pool: string, listener: Listener): () => void {
  if (listening.size === 0) {
    diagnostics.subscribe(POOL_EVENTS.memberConnectionFailed, route);
  }
  let listeners = listening.get(pool);
  if (listeners === undefined) {
    listeners = new Set();
    listening.set(pool, listeners);
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && listening.get(pool) === listeners) {
      listening.delete(pool);
      if (listening.size === 0) {
        diagnostics.unsubscribe(POOL_EVENTS.memberConnectionFailed, route);
      }
    }
  };
}
