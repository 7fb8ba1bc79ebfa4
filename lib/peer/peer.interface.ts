import type { ChannelInterface as Channel } from '@grpc/grpc-js';
import type { PeerChannel } from './peer-channel.js';

/** One pooled endpoint's connection, however it came into the pool. */
export interface Peer {
  /** The key it is pooled under, as given to `acquire()` or `put()`. */
  readonly endpoint: string;
  /** The channel handed out: counts its calls; its `close()` is a no-op, the peer pool owns the connection. */
  readonly channel: PeerChannel;
  /**
   * Settles once: with `channel` when the peer can take calls, or with why it could not
   * connect. Every `acquire()` of the endpoint returns this same promise.
   */
  readonly ready: Promise<Channel>;
  /** True once `ready` has resolved. */
  readonly connected: boolean;
  /** Still connecting or has calls in flight: eviction prefers other peers, the idle sweep skips it. */
  readonly busy: boolean;
  /** Drains calls in flight (up to the pool's `drainTimeoutMs`), then closes. Idempotent. */
  close(): Promise<void>;
}

/** What a peer tells its peer pool. */
export interface PeerEvents {
  /** The last call in flight on the peer's channel ended: a use, like an acquire. */
  used(peer: Peer): void;
  /** The connection failed after it had been ready: every connection is in TRANSIENT_FAILURE (or was shut down). */
  unhealthy(peer: Peer): void;
  /** The first connection failed or was closed first; resolves with what acquirers get instead, or rejects. */
  connectFailed(peer: Peer, error: unknown): Promise<Channel>;
}

/** Counters of a peer pool since it started, from `PeerPoolService.stats()`. */
export interface PeerPoolStats {
  /** `acquire()` calls that found the endpoint pooled (ready, or joining its connection attempt), and `tryAcquire()` calls that returned a channel. */
  readonly hits: number;
  /** `acquire()` calls that opened a new connection. */
  readonly misses: number;
  /** Peers closed to make room under `maxConnections`. */
  readonly evictions: number;
  /** Peers closed by the idle sweep. */
  readonly idleCloses: number;
  /** Peers dropped because their connection failed after it had been ready. */
  readonly unhealthyCloses: number;
  /** Peers pooled now, connecting ones included. */
  readonly size: number;
  /** `hits / (hits + misses)`, 0 before the first acquire. */
  readonly hitRate: number;
}
