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
import { EchoClient, EchoServer, unary, waitFor } from '../support/echo-server.js';

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

/** The sum of every data point of a counter in the last export. */
function total(exported: ResourceMetrics[], name: string): number {
  return points(exported, name).reduce((sum, point) => sum + (point.value as number), 0);
}

describe('OpenTelemetry metrics', () => {
  it('exports gauges, counters and the connect histogram with pool and target attributes, no member or slot, from one snapshot', async () => {
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
      // Counts the snapshots one collection takes: one for all six observable instruments.
      const status = pool.status.bind(pool);
      let snapshots = 0;
      pool.status = () => {
        snapshots++;
        return status();
      };
      await reader.forceFlush();
      expect(snapshots).toBe(1);
      const exported = exporter.getMetrics();

      expect(points(exported, 'grpc_pool.size')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel' }, value: 3 }),
      ]);
      expect(points(exported, 'grpc_pool.ready')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel' }, value: 3 }),
      ]);
      expect(points(exported, 'grpc_pool.in_flight')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel', target: server.url }, value: 0 }),
      ]);
      expect(points(exported, 'grpc_pool.calls.started')).toEqual([
        expect.objectContaining({ attributes: { pool: 'otel', target: server.url }, value: 5 }),
      ]);
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

  it('exports call counters that sum to exactly the calls made while members move slot', async () => {
    const server = await EchoServer.start();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({ name: 'moves', url: server.url, size: 5 }),
        GrpcPoolMetricsModule.forRoot({ meterProvider }),
      ],
    }).compile();
    await app.init();
    const pool = app.get<PoolService>(getPoolToken('moves'));
    let calls = 0;
    const inFlightOf = (id: number) =>
      pool.status().members.find((member) => member.id === id)?.inFlight ?? 0;
    /** A call the server holds until the test cancels it. */
    const hold = (): grpc.ClientUnaryCall => {
      calls++;
      const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
        channelOverride: pool.getChannel(),
      });
      return client.Unary({ delayMs: 60_000 }, () => undefined);
    };
    const exportedTotals = async () => {
      await reader.forceFlush();
      const exported = exporter.getMetrics();
      return {
        started: total(exported, 'grpc_pool.calls.started'),
        finished: total(exported, 'grpc_pool.calls.finished'),
      };
    };
    try {
      await waitFor(() => pool.status().ready === 5, 'five ready members');
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 7; i++) {
          calls++;
          await unary(pool.getChannel(), {});
        }

        // One call held on every member but the one in slot 0: scale-down takes that one
        // (fewest calls in flight) and compaction moves the member of the last slot into 0.
        const members = pool.status().members;
        const victim = members.find((member) => member.slot === 0)!;
        const last = members.find((member) => member.slot === members.length - 1)!;
        const holds: grpc.ClientUnaryCall[] = [];
        for (const member of members.filter((candidate) => candidate.id !== victim.id)) {
          while (inFlightOf(member.id) === 0) {
            const before = pool.status().inFlight;
            const call = hold();
            await waitFor(() => pool.status().inFlight === before + 1, 'the held call to start');
            if (inFlightOf(victim.id) > 0) {
              call.cancel();
              await waitFor(() => inFlightOf(victim.id) === 0, 'the victim to be idle again');
            } else {
              holds.push(call);
            }
          }
        }
        await expect(exportedTotals()).resolves.toEqual({
          started: calls,
          finished: calls - holds.length,
        });
        await pool.scaleDown(1);
        expect(pool.status().members.find((member) => member.id === last.id)?.slot).toBe(0);
        holds.forEach((call) => call.cancel());
        await waitFor(() => pool.status().inFlight === 0, 'the held calls to end');
        await expect(exportedTotals()).resolves.toEqual({ started: calls, finished: calls });
      }
      expect(pool.status().size).toBe(2);
    } finally {
      await app.close();
      await meterProvider.shutdown();
      server.stop();
    }
  });
});
