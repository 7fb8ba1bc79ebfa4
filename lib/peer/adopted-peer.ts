import type { ChannelInterface as Channel } from '@grpc/grpc-js';
import { PeerChannel } from './peer-channel.js';
import type { Peer, PeerEvents } from './peer.interface.js';
import { watchPeerHealth } from './watch-peer-health.js';

/**
 * A channel the application made and handed over with `put()`. It is wrapped in a
 * {@link PeerChannel}, so its calls are counted like a pool member's and it drains the
 * same way; from then on the peer pool owns it and closes it.
 */
export class AdoptedPeer implements Peer {
  readonly channel: PeerChannel;
  readonly ready: Promise<Channel>;
  readonly connected = true;
  private closing: Promise<void> | undefined;

  constructor(
    readonly endpoint: string,
    channel: Channel,
    private readonly drainTimeoutMs: number,
    private readonly pool: string,
    events: Pick<PeerEvents, 'used' | 'unhealthy'>,
  ) {
    this.channel = new PeerChannel(channel, endpoint, () => events.used(this));
    this.ready = Promise.resolve(this.channel);
    // After put() has pooled it: a channel that is already failing must be seen as pooled to be dropped.
    queueMicrotask(() => watchPeerHealth(channel, () => events.unhealthy(this)));
  }

  /** The channel as the application gave it. */
  get inner(): Channel {
    return this.channel.inner;
  }

  get busy(): boolean {
    return this.channel.inFlight > 0;
  }

  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** As a pool member drains: wait for calls in flight, cancel what outlives the timeout, close. */
  private async drain(): Promise<void> {
    await this.channel.drain(
      this.drainTimeoutMs,
      `gRPC peer pool "${this.pool}" closed ${this.endpoint} and its drainTimeoutMs (${this.drainTimeoutMs} ms) passed`,
    );
    this.channel.inner.close();
  }
}
