import { connectivityState as State, type ChannelInterface as Channel } from '@grpc/grpc-js';
import { PoolConnectError } from '../errors/pool.errors.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { Member } from '../member/member.js';
import { PoolService } from '../pool/pool.service.js';
import { PoolStateService } from '../state/pool-state.service.js';
import { onConnectFailure } from './connect-failures.js';
import { PeerChannel } from './peer-channel.js';
import type { Peer, PeerEvents } from './peer.interface.js';
import { watchPeerHealth } from './watch-peer-health.js';

/**
 * A peer the pool connected itself: a small `PoolService` of `perEndpointSize` members to
 * one endpoint. Everything the main pool does for a connection comes with it: distinct TCP
 * connections, exact in-flight counts, reconnect and stuck-connect handling, the
 * strategies, and a drain on close. The channel handed out is the pool's `channel`,
 * wrapped in a {@link PeerChannel}.
 *
 * A first connection that fails (refused, reset, TLS) rejects `ready` at once with
 * {@link PoolConnectError}: grpc-js knows within milliseconds, and its backoff would only
 * repeat the answer. `connectTimeoutMs` bounds the attempts that hang.
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
    /** The peer pool's name, for its errors (the connection's own pool is `<peer pool>/<endpoint>`). */
    private readonly peerPool: string,
  ) {
    this.pool = new PoolService(options, new PoolStateService<Member, MemberChannel>());
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
    // Listening before the members start: a refusal on loopback can be known in the next turn.
    let stop = (): void => undefined;
    const failed = new Promise<never>((_, reject) => {
      stop = onConnectFailure(this.pool.name, (error) => {
        // One member failing while another still connects is not the peer failing.
        if (this.pool.channel.getConnectivityState(false) === State.TRANSIENT_FAILURE) {
          reject(new PoolConnectError(this.peerPool, this.endpoint, error));
        }
      });
    });
    try {
      await Promise.race([this.untilReady(timeoutMs), failed]);
    } finally {
      stop();
    }
    this.connected = true;
    watchPeerHealth(this.channel, () => events.unhealthy(this));
    return this.channel;
  }

  /** Rejects with PoolTimeoutError naming the endpoint and its last connection error. */
  private async untilReady(timeoutMs: number): Promise<void> {
    await this.pool.onModuleInit();
    await this.pool.awaitReady(timeoutMs);
  }
}
