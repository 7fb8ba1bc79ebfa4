import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { metrics, type MeterProvider } from '@opentelemetry/api';
import { PoolService } from '../pool/pool.service.js';
import { PeerPoolService } from '../peer/peer-pool.service.js';
import { PeerPoolMetrics } from './peer-pool-metrics.js';
import { PoolMetrics } from './pool-metrics.js';

/** Options of {@link GrpcPoolMetricsModule.forRoot}. */
export interface GrpcPoolMetricsOptions {
  /** Where the instruments live; default the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Meter name; default `'nestjs-grpc-pool'`. */
  meterName?: string;
  /**
   * Peer pools: also report `grpc_peer_pool.peer.connected` with an `endpoint` attribute,
   * one series per connected endpoint. Default `false` (bounded cardinality: `peer_pool` only).
   */
  peerEndpoints?: boolean;
}

const METRICS_OPTIONS = Symbol('nestjs-grpc-pool:metrics-options');

/**
 * OpenTelemetry metrics for every pool of the application (found through Nest's
 * DiscoveryService): gauges for size, ready members, members out by reason and calls in
 * flight per target; counters for calls started and finished by status (over every member
 * the pool had, those that left included), picks, reconnects and scale operations; a
 * histogram of connect time. Attributes are bounded: `pool`, `target`, `status`, `reason`,
 * never a member id.
 * Peer pools too (see {@link PeerPoolMetrics}): peers pooled and connected, hits, misses,
 * evictions, idle and unhealthy closes, by `peer_pool` only unless `peerEndpoints` is set.
 *
 * @example
 * imports: [GrpcPoolModule.forRoot({ url }), GrpcPoolMetricsModule.forRoot()]
 */
@Module({})
export class GrpcPoolMetricsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly metrics: PoolMetrics;
  private pools: readonly PoolService[] = [];
  private readonly peerMetrics: PeerPoolMetrics;
  private peerPools: readonly PeerPoolService[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(METRICS_OPTIONS) options: GrpcPoolMetricsOptions,
  ) {
    // Instruments and event subscriptions exist before any pool starts (pools start in
    // onModuleInit), so the first connections and the start-up scale are counted too.
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    this.metrics = new PoolMetrics(
      provider.getMeter(options.meterName ?? 'nestjs-grpc-pool'),
      () => this.pools,
    );
    this.metrics.start();
    this.peerMetrics = new PeerPoolMetrics(
      provider.getMeter(options.meterName ?? 'nestjs-grpc-pool'),
      () => this.peerPools,
      options.peerEndpoints === true,
    );
    this.peerMetrics.start();
  }

  static forRoot(options: GrpcPoolMetricsOptions = {}): DynamicModule {
    return {
      module: GrpcPoolMetricsModule,
      imports: [DiscoveryModule],
      providers: [{ provide: METRICS_OPTIONS, useValue: options }],
    };
  }

  /** @internal Finds every pool of the application for the observable instruments. */
  onApplicationBootstrap(): void {
    const instances = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown);
    this.pools = [
      ...new Set(
        instances.filter((instance): instance is PoolService => instance instanceof PoolService),
      ),
    ];
    this.peerPools = [
      ...new Set(
        instances.filter(
          (instance): instance is PeerPoolService => instance instanceof PeerPoolService,
        ),
      ),
    ];
  }

  /** @internal */
  onApplicationShutdown(): void {
    this.metrics.stop();
    this.peerMetrics.stop();
  }
}
