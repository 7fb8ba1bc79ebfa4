import {
  status as Status,
  type ChannelInterface,
  type connectivityState as State,
  type Deadline,
} from '@grpc/grpc-js';
import type { Call, ChannelRef, ServerSurfaceCall } from '../member/grpc-types.js';
import type { MemberChannel } from '../member/member-channel.js';
import { FailedCall } from './failed-call.js';
import type { PoolConnectivity } from './pool-connectivity.js';

/** What `PoolChannel` needs from its pool. */
export interface PoolChannelSource {
  readonly name: string;
  readonly target: string;
  readonly connectivity: PoolConnectivity;
  /**
   * A member for one call: a ready one picked by the strategy, else the member likeliest
   * to connect (grpc-js queues the call there), else a reason the call cannot be made.
   */
  memberForCall(): MemberChannel | string;
}

/**
 * The whole pool as one grpc-js `Channel`: every call picks a member with the pool's
 * strategy. Give it to any grpc-js client as `{ channelOverride: pool.channel }`.
 *
 * When no member is ready, a call is queued by grpc-js on the member likeliest to connect,
 * so grpc-js's own rules hold: it waits while members are connecting, fails fast with
 * UNAVAILABLE when all have failed unless the call asked for `waitForReady`, and never
 * waits past its deadline. On a closed pool a call fails with UNAVAILABLE.
 *
 * `close()` is a no-op: clients call it from `client.close()`, but the pool's lifecycle
 * owns the connections.
 */
export class PoolChannel implements ChannelInterface {
  constructor(private readonly pool: PoolChannelSource) {}

  createCall(
    method: string,
    deadline: Deadline,
    host: string | null | undefined,
    parentCall: ServerSurfaceCall | null,
    propagateFlags: number | null | undefined,
  ): Call {
    const member = this.pool.memberForCall();
    return typeof member === 'string'
      ? new FailedCall(Status.UNAVAILABLE, member)
      : member.createCall(method, deadline, host, parentCall, propagateFlags);
  }

  getTarget(): string {
    return this.pool.target;
  }

  getConnectivityState(_tryToConnect: boolean): State {
    // Members always try to connect; there is nothing more to wake.
    return this.pool.connectivity.state;
  }

  watchConnectivityState(
    currentState: State,
    deadline: Date | number,
    callback: (error?: Error) => void,
  ): void {
    this.pool.connectivity.watch(currentState, deadline, callback);
  }

  getChannelzRef(): ChannelRef {
    // The pool is not a channelz entity of its own; its members' channels are.
    return { kind: 'channel', id: -1, name: `nestjs-grpc-pool:${this.pool.name}` } as ChannelRef;
  }

  /** A no-op: the pool closes on application shutdown or `pool.close()`. */
  close(): void {}
}
