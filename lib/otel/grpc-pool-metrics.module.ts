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
import { PoolMetrics } from './pool-metrics.js';

/** Options of {@link GrpcPoolMetricsModule.forRoot}. */
export interface GrpcPoolMetricsOptions {
  /** Where the instruments live; default the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Meter name; default `'nestjs-grpc-pool'`. */
  meterName?: string;
}

const METRICS_OPTIONS = Symbol('nestjs-grpc-pool:metrics-options');

/**
 * OpenTelemetry metrics for every pool of the application (found through Nest's
 * DiscoveryService): gauges for size, ready members and in-flight calls per member;
 * counters for calls started and finished by status, picks, reconnects and scale
 * operations; a histogram of connect time. Attributes: `pool`, `target`, `member` (its id).
 *
 * @example
 * imports: [GrpcPoolModule.forRoot({ url }), GrpcPoolMetricsModule.forRoot()]
 */
@Module({})
export class GrpcPoolMetricsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly metrics: PoolMetrics;
  private pools: readonly PoolService[] = [];

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
    this.pools = [
      ...new Set(
        this.discovery
          .getProviders()
          .map((wrapper) => wrapper.instance as unknown)
          .filter((instance): instance is PoolService => instance instanceof PoolService),
      ),
    ];
  }

  /** @internal */
  onApplicationShutdown(): void {
    this.metrics.stop();
  }
}
