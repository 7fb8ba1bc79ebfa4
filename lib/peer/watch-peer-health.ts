import { connectivityState as State, type ChannelInterface as Channel } from '@grpc/grpc-js';

/**
 * Follows `channel`'s connectivity and calls `onFailure` once, when it reaches
 * TRANSIENT_FAILURE (a reconnect attempt failed: for a pool channel, every member's) or
 * SHUTDOWN. IDLE and CONNECTING are not failures: grpc-js passes through them when a
 * server sends GOAWAY or a connection is recycled, and a pool member reconnects at once.
 * The watch holds no timer (deadline `Infinity`) and ends with the channel.
 */
export function watchPeerHealth(channel: Channel, onFailure: () => void): void {
  const follow = (): void => {
    const state = channel.getConnectivityState(false);
    if (state === State.TRANSIENT_FAILURE || state === State.SHUTDOWN) {
      onFailure();
      return;
    }
    channel.watchConnectivityState(state, Infinity, follow);
  };
  follow();
}
