import type { ChannelInterface as Channel } from '@grpc/grpc-js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { ChannelWorker } from '../pool/channel-worker.js';
import { PoolService } from '../pool/pool.service.js';
import { PoolStateService } from '../state/pool-state.service.js';
import { PeerChannel } from './peer-channel.js';
import type { Peer, PeerEvents } from './peer.interface.js';
import { watchPeerHealth } from './watch-peer-health.js';

/**
 * A peer the pool connected itself: a small `PoolService` of `perEndpointSize` members to
 * one endpoint. Everything the main pool does for a connection comes with it: distinct TCP
 * connections, exact in-flight counts, reconnect and stuck-connect handling, the
 * strategies, and a drain on close. The channel handed out is the pool's `channel`,
 * wrapped in a {@link PeerChannel}.
 */
export class PooledPeer implements Peer {
  readonly channel: PeerChannel;
  readonly ready: Promise<Channel>;
  connected = false;
  private readonly pool: PoolService;

  /** Starts connecting at once; `ready` settles within `connectTimeoutMs`. */
  constructor(
    readonly endpoint: string,
    options: ResolvedPoolOptions,
    connectTimeoutMs: number,
    events: PeerEvents,
  ) {
    this.pool = new PoolService(options, new PoolStateService<ChannelWorker, MemberChannel>());
    this.channel = new PeerChannel(this.pool.channel, endpoint, () => events.used(this));
    this.ready = this.connect(connectTimeoutMs, events).catch((error: unknown) =>
      events.connectFailed(this, error),
    );
  }

  get busy(): boolean {
    return !this.connected || this.channel.inFlight > 0;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async connect(timeoutMs: number, events: PeerEvents): Promise<Channel> {
    await this.pool.onModuleInit();
    // Rejects with PoolTimeoutError naming the endpoint and its last connection error.
    await this.pool.awaitReady(timeoutMs);
    this.connected = true;
    watchPeerHealth(this.channel, () => events.unhealthy(this));
    return this.channel;
  }
}
