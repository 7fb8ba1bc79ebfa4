import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { getPoolToken, GrpcPoolModule, type PoolService } from 'nestjs-grpc-pool';
import { GrpcPoolMetricsModule } from 'nestjs-grpc-pool/otel';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';

/** Every data point of the named metric in the last export. */
function points(exported: ResourceMetrics[], name: string) {
  const last = exported.at(-1);
  const metric = last?.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []) as Array<{
    attributes: Record<string, unknown>;
    value: unknown;
  }>;
}

describe('OpenTelemetry metrics', () => {
  it('exports gauges, counters and the connect histogram with pool, target and member attributes', async () => {
    const server = await EchoServer.start();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({ name: 'otel', url: server.url, size: 2 }),
        GrpcPoolMetricsModule.forRoot({ meterProvider }),
      ],
    }).compile();
    await app.init();
    const pool = app.get<PoolService>(getPoolToken('otel'));
    try {
      await waitFor(() => pool.status().ready === 2, 'two ready members');
      for (let i = 0; i < 4; i++) {
        await unary(pool.getChannel(), {});
      }
      await unary(pool.getChannel(), { failCode: grpc.status.ABORTED }).catch(() => undefined);
      await pool.scaleUp(1);
      await waitFor(() => pool.status().ready === 3, 'three ready members');
      await reader.forceFlush();
      const exported = exporter.getMetrics();

      expect(points(exported, 'grpc_pool.size')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel' }, value: 3 }),
      ]);
      expect(points(exported, 'grpc_pool.ready')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel' }, value: 3 }),
      ]);
      const inFlight = points(exported, 'grpc_pool.member.in_flight');
      expect(inFlight).toHaveLength(3);
      expect(inFlight[0].attributes).toEqual({
        pool: 'otel',
        target: server.url,
        member: expect.any(Number),
        slot: expect.any(Number),
      });
      const started = points(exported, 'grpc_pool.calls.started').reduce(
        (sum, point) => sum + (point.value as number),
        0,
      );
      expect(started).toBe(5);
      const finished = points(exported, 'grpc_pool.calls.finished');
      const byStatus = (status: string) =>
        finished
          .filter((point) => point.attributes.status === status)
          .reduce((sum, point) => sum + (point.value as number), 0);
      expect(byStatus('OK')).toBe(4);
      expect(byStatus('ABORTED')).toBe(1);
      expect(points(exported, 'grpc_pool.picks')).toEqual([expect.objectContaining({ value: 5 })]);
      expect(points(exported, 'grpc_pool.scale.operations')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ attributes: { pool: 'otel', operation: 'start' }, value: 1 }),
          expect.objectContaining({ attributes: { pool: 'otel', operation: 'scaleUp' }, value: 1 }),
        ]),
      );
      const connect = points(exported, 'grpc_pool.connect.duration');
      expect(connect).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel', target: server.url } }),
      ]);
      expect((connect[0].value as { count: number }).count).toBe(3);
    } finally {
      await app.close();
      await meterProvider.shutdown();
      server.stop();
    }
  });
});
