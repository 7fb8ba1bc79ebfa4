import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ChannelInterface as Channel } from '@grpc/grpc-js';
import { PoolClosedError, PoolEvictedError, PoolInvalidatedError } from '../errors/pool.errors.js';
import { AdoptedPeer } from './adopted-peer.js';
import { checkChannel, checkEndpoint } from './peer-arguments.js';
import { PeerCloser } from './peer-closer.js';
import { PeerCounters } from './peer-counters.js';
import type { Peer, PeerEvents, PeerPoolStats } from './peer.interface.js';
import type { ResolvedPeerPoolOptions } from './peer-pool-options.interface.js';
import { PeerLru } from './peer-lru.js';
import { PeerSweeper } from './peer-sweeper.js';
import { PooledPeer } from './pooled-peer.js';
import { resolveEndpointOptions } from './resolve-endpoint-options.js';

/**
 * Warm connections to many endpoints (shards, cluster nodes, peers), one small pool per
 * endpoint: made on first use, shared afterwards, closed when least recently used past
 * `maxConnections`, idle for `idleTimeoutMs`, broken, or at shutdown. Inject it with
 * `@InjectPeerPool(name?)` (the default peer pool also as `PeerPoolService`).
 *
 * A hit costs a `Map.get` and the LRU bookkeeping: no lock, no await, no clock read. A
 * miss opens one connection however many callers ask at once, and never holds up calls
 * to other endpoints. A peer whose connection fails after it was ready is dropped, not
 * retried: the next `acquire()` reconnects and rejects as soon as the endpoint refuses
 * (or after `connectTimeoutMs` if it hangs).
 *
 * @example
 * const owner = ring.nodeFor(key); // e.g. '10.0.0.7:50051'
 * const channel = await this.peers.acquire(owner);
 * const client = new KvClient(owner, credentials.createInsecure(), { channelOverride: channel });
 */
export class PeerPoolService implements OnApplicationShutdown {
  /** The peer pool's name (`'default'` unless `forRoot` named it). */
  readonly name: string;
  private readonly lru = new PeerLru<Peer>((peer) => peer.busy);
  private readonly sweeper: PeerSweeper<Peer>;
  private readonly closer: PeerCloser;
  private readonly events: PeerEvents;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;
  private readonly counts = new PeerCounters();
  /** Why a peer left the LRU before it was ready, for those still waiting on it. */
  private readonly leftEarly = new WeakMap<Peer, Error>();

  /** Made by `GrpcPeerPoolModule.forRoot`, from options `resolvePeerPoolOptions` checked. */
  constructor(private readonly options: ResolvedPeerPoolOptions) {
    this.name = options.name;
    this.logger = new Logger(`GrpcPeerPool(${options.name})`);
    this.closer = new PeerCloser(this.logger);
    this.events = {
      used: (peer) => {
        if (this.lru.get(peer.endpoint) === peer) this.lru.touch(peer.endpoint);
      },
      unhealthy: (peer) => this.dropUnhealthy(peer),
      connectFailed: (peer, error) => this.connectFailed(peer, error),
    };
    this.sweeper = new PeerSweeper(this.lru, options.idleTimeoutMs, (idle) => {
      this.counts.idleCloses += idle.length;
      idle.forEach((peer) => this.closer.retire(peer));
    });
  }

  /** True once `close()` or application shutdown has begun. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * The shared channel for `endpoint`, connecting on a miss. Always a promise, so errors
   * always arrive the same way; on a hit it is the peer's already settled promise, returned
   * without an await, an allocation or a clock read. Concurrent misses share one
   * connection attempt.
   *
   * @throws (rejects) PoolConnectError naming the endpoint and grpc-js's error as soon as
   *   the first connection attempt fails (refused, reset, TLS); PoolTimeoutError naming the
   *   endpoint and its last connection error when an attempt hangs past `connectTimeoutMs`;
   *   PoolEvictedError when `maxConnections` evicted the connection before it was ready;
   *   PoolInvalidatedError when `invalidate()` closed it first (a newer connection to the
   *   endpoint, if one was asked for meanwhile, resolves instead); PoolArgumentError for an
   *   unusable endpoint; PoolClosedError after `close()`.
   */
  acquire(endpoint: string): Promise<Channel> {
    const peer = this.lru.touch(endpoint);
    if (peer !== undefined) {
      this.counts.hits++;
      return peer.ready;
    }
    return this.miss(endpoint);
  }

  /**
   * The channel for `endpoint` if it is pooled and ready, synchronously; otherwise
   * `undefined`, with nothing started or counted. For hot paths that must not await.
   */
  tryAcquire(endpoint: string): Channel | undefined {
    const peer = this.lru.touch(endpoint);
    if (peer?.connected) {
      this.counts.hits++;
      return peer.channel;
    }
    return undefined;
  }

  /** Marks `endpoint` used now (optional: `acquire()` already does). Unknown endpoints are ignored. */
  release(endpoint: string): void {
    this.lru.touch(endpoint);
  }

  /**
   * Forgets `endpoint` at once (the next `acquire()` reconnects) and resolves when its
   * connection has drained and closed, e.g. after a call failed with UNAVAILABLE.
   */
  invalidate(endpoint: string): Promise<void> {
    const peer = this.lru.delete(endpoint);
    if (peer === undefined) {
      return Promise.resolve();
    }
    if (!peer.connected) {
      this.leftEarly.set(peer, new PoolInvalidatedError(this.name, endpoint));
    }
    return this.closer.retire(peer);
  }

  /**
   * Pools a channel the application made (e.g. a direct connection after a NAT upgrade)
   * under `endpoint`; the peer pool owns and closes it from now on. A peer already pooled
   * there is replaced and drained; callers waiting on its connection get this channel.
   */
  put(endpoint: string, channel: Channel): void {
    checkEndpoint(this.name, 'put(endpoint, channel)', endpoint);
    checkChannel(this.name, 'put(endpoint, channel)', channel);
    this.throwIfClosed();
    const pooled = this.lru.get(endpoint);
    if (pooled instanceof AdoptedPeer && pooled.inner === channel) {
      this.lru.touch(endpoint);
      return;
    }
    this.admit(
      new AdoptedPeer(endpoint, channel, this.options.drainTimeoutMs, this.name, this.events),
    );
  }

  /** Endpoints with a ready connection, least recently used first. */
  connectedPeers(): string[] {
    return this.lru
      .list()
      .filter((entry) => entry.value.connected)
      .map((entry) => entry.key);
  }

  /** Counters since start, and the current size. */
  stats(): PeerPoolStats {
    return this.counts.snapshot(this.lru.size);
  }

  /**
   * Stops the idle sweep, forgets every peer, drains their calls in flight (up to
   * `drainTimeoutMs`) and closes every connection, evicted ones still draining included.
   * Pending `acquire()`s reject. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** @internal Nest lifecycle: drain and close every peer on application shutdown. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private miss(endpoint: string): Promise<Channel> {
    try {
      this.throwIfClosed();
      const options = resolveEndpointOptions(this.options, endpoint);
      this.counts.misses++;
      const peer = new PooledPeer(
        endpoint,
        options,
        this.options.connectTimeoutMs,
        this.events,
        this.name,
      );
      this.admit(peer);
      return peer.ready;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Pools `peer` as the most recently used, then evicts past `maxConnections`. */
  private admit(peer: Peer): void {
    const replaced = this.lru.set(peer.endpoint, peer);
    if (replaced) {
      void this.closer.retire(replaced);
    }
    const { maxConnections } = this.options;
    const evicted = this.lru.evictOver(maxConnections, peer.endpoint);
    this.counts.evictions += evicted.length;
    for (const { key, value } of evicted) {
      if (!value.connected) {
        this.leftEarly.set(value, new PoolEvictedError(this.name, key, maxConnections));
      }
      void this.closer.retire(value);
    }
  }

  /** Takes `peer` out of the LRU and closes it, if it is still the one pooled under its endpoint. */
  private forget(peer: Peer): boolean {
    if (this.lru.get(peer.endpoint) !== peer) {
      return false;
    }
    this.lru.delete(peer.endpoint);
    void this.closer.retire(peer);
    return true;
  }

  private dropUnhealthy(peer: Peer): void {
    if (this.forget(peer)) {
      this.counts.unhealthyCloses++;
      this.logger.warn(`connection to ${peer.endpoint} failed; dropped, next acquire() reconnects`);
    }
  }

  /**
   * What those waiting on `peer` get when its first connection did not come: its own error
   * if it failed while pooled; else the connection that replaced it (put(), or an acquire()
   * after invalidate() or eviction); else why it was closed. The peer's own pool reports
   * any close as `PoolClosedError` naming `<pool>/<endpoint>`, which would read as a
   * shutdown: only the peer pool's own close is one.
   */
  private connectFailed(peer: Peer, error: unknown): Promise<Channel> {
    if (this.forget(peer)) {
      return Promise.reject(error);
    }
    const current = this.lru.get(peer.endpoint);
    if (current !== undefined) {
      return current.ready;
    }
    return Promise.reject(
      this.closing ? new PoolClosedError(this.name) : (this.leftEarly.get(peer) ?? error),
    );
  }

  private async shutdown(): Promise<void> {
    this.sweeper.stop();
    for (const entry of this.lru.clear()) {
      void this.closer.retire(entry.value);
    }
    await this.closer.settled();
  }

  private throwIfClosed(): void {
    if (this.closing) {
      throw new PoolClosedError(this.name);
    }
  }
}
