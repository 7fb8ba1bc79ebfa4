import { Test } from '@nestjs/testing';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { getPoolToken, GrpcPoolModule, type PoolService } from 'nestjs-grpc-pool';
import { GrpcPoolMetricsModule } from 'nestjs-grpc-pool/otel';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { SteadyLoad } from '../reliability/calls.js';

describe('OpenTelemetry metrics of the adaptive pool', () => {
  it('counts autoscaler decisions by action and renewals by reason and outcome, with the renewed age', async () => {
    const server = await EchoServer.start({
      serverOptions: { 'grpc.max_concurrent_streams': 2 },
    });
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({
          name: 'adaptive',
          url: server.url,
          maxConnectionAgeMs: 1_000,
          autoscale: { min: 1, max: 2, streamsPerMember: 2, cooldownMs: 0 },
        }),
        GrpcPoolMetricsModule.forRoot({ meterProvider }),
      ],
    }).compile();
    await app.init();
    const pool = app.get<PoolService>(getPoolToken('adaptive'));
    try {
      await waitFor(() => pool.status().ready === 1, 'a ready member');
      const load = new SteadyLoad(
        () => pool.channel,
        4,
        { delayMs: 50 },
        { timeoutMs: 5_000 },
        200,
      );
      await waitFor(() => pool.status().size === 2, 'a second member', 10_000);
      await waitFor(() => (pool.status().renewal?.done ?? 0) >= 1, 'a renewal', 10_000);
      await load.stop();
      await reader.forceFlush();
      const metrics = exporter
        .getMetrics()
        .at(-1)!
        .scopeMetrics.flatMap((scope) => scope.metrics);
      const find = (name: string) =>
        metrics.find((metric) => metric.descriptor.name === name)?.dataPoints ?? [];
      expect(find('grpc_pool.autoscale.decisions')).toEqual([
        expect.objectContaining({ attributes: { pool: 'adaptive', action: 'scale-up' }, value: 1 }),
      ]);
      expect(find('grpc_pool.renewals')).toContainEqual(
        expect.objectContaining({
          attributes: { pool: 'adaptive', reason: 'max-age', outcome: 'done' },
        }),
      );
      const ages = find('grpc_pool.renewal.member_age') as Array<{ value: { count: number } }>;
      expect(ages[0].value.count).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
      await meterProvider.shutdown();
      server.stop();
    }
  });
});
