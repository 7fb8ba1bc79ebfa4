import {
  connectivityState as State,
  status as Status,
  type ChannelInterface as Channel,
} from '@grpc/grpc-js';
import type { Call } from '../member/grpc-types.js';
import { FailedCall } from '../channel/failed-call.js';
import { MemberChannel } from '../member/member-channel.js';

/**
 * The channel a peer hands out: a `MemberChannel` (every call counted from start to its
 * one end, `close()` a no-op, drainable) that also
 * - says when its last call in flight ends: the peer pool counts that as a use, so a peer
 *   closes `idleTimeoutMs` after its last call ended, not after its last `acquire()`, and
 *   callers who keep the channel and call on it directly keep it warm;
 * - once the peer pool has closed it (evicted, idle, dropped, invalidated, shut down),
 *   fails new calls with UNAVAILABLE and a message saying to acquire again, where a bare
 *   grpc-js channel would throw from inside the client.
 */
export class PeerChannel extends MemberChannel {
  constructor(
    inner: Channel,
    private readonly endpoint: string,
    private readonly onIdle: () => void,
  ) {
    super(inner);
  }

  override createCall(...args: Parameters<MemberChannel['createCall']>): Call {
    return this.closedCall() ?? super.createCall(...args);
  }

  /** A call made before the peer closed but started after it fails the same way. */
  override openCall(...args: Parameters<MemberChannel['openCall']>): Call {
    return this.closedCall() ?? super.openCall(...args);
  }

  private closedCall(): Call | undefined {
    if (this.inner.getConnectivityState(false) !== State.SHUTDOWN) {
      return undefined;
    }
    return new FailedCall(
      Status.UNAVAILABLE,
      `the peer pool closed its connection to ${this.endpoint}; acquire() it again`,
    );
  }

  override callEnded(...args: Parameters<MemberChannel['callEnded']>): void {
    super.callEnded(...args);
    if (this.inFlight === 0) {
      this.onIdle();
    }
  }
}
