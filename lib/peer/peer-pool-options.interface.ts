import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { GrpcPoolOptions } from '../interfaces/grpc-pool-options.interface.js';

/** What a peer pool's `endpointOptions` resolver may set for one endpoint. */
export interface PeerEndpointOptions {
  /** Replaces the pool's `credentials` for this endpoint, e.g. TLS with a per-node name. */
  credentials?: ChannelCredentials;
  /** Merged over the pool's `channelOptions` for this endpoint. */
  channelOptions?: ChannelOptions;
}

/**
 * Options of one peer pool, given to `GrpcPeerPoolModule.forRoot` or returned by a
 * `forRootAsync` factory. The connection options (`credentials`, `channelOptions`,
 * `keepalive`, `backoff`, `strategy`, message sizes) mean what they mean for
 * `GrpcPoolModule` and apply to every peer's connection(s).
 *
 * @example
 * GrpcPeerPoolModule.forRoot({
 *   name: 'cluster',
 *   maxConnections: 50,
 *   idleTimeoutMs: 120_000,
 *   endpointOptions: (endpoint) => ({ credentials: tlsFor(endpoint) }),
 * })
 */
export interface GrpcPeerPoolOptions extends Pick<
  GrpcPoolOptions,
  | 'strategy'
  | 'credentials'
  | 'channelOptions'
  | 'keepalive'
  | 'backoff'
  | 'drainTimeoutMs'
  | 'maxSendMessageLength'
  | 'maxReceiveMessageLength'
  | 'maxMetadataSize'
> {
  /** Most peers connected at once; a miss past it evicts the least recently used. Default 100. */
  maxConnections?: number;
  /** A peer with no acquire, no release and no call in flight for this long is closed. Default 60,000; 0 never closes idle peers. */
  idleTimeoutMs?: number;
  /** `acquire()` on a miss rejects after this long without a ready connection. Default 20,000. */
  connectTimeoutMs?: number;
  /** Connections per peer, balanced by `strategy`. Default 1. */
  perEndpointSize?: number;
  /**
   * Per-endpoint credentials and channel options, asked once per new connection. Must be
   * synchronous; `undefined` keeps the pool's.
   */
  endpointOptions?: (endpoint: string) => PeerEndpointOptions | undefined;
}

/** The options every peer's own pool is made from, before `url` and the per-endpoint ones. */
export type PeerConnectionOptions = Readonly<Omit<GrpcPoolOptions, 'url'>>;

/** A peer pool's options after validation: defaults filled in, frozen. */
export interface ResolvedPeerPoolOptions {
  readonly name: string;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly perEndpointSize: number;
  readonly endpointOptions: ((endpoint: string) => PeerEndpointOptions | undefined) | undefined;
  /** Already checked once at startup with the main pool's own option checks. */
  readonly connection: PeerConnectionOptions;
}
