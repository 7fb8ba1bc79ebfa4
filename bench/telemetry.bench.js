/**
 * Does observability cost the hot path anything? `getChannel()` on two identical pools in
 * one mitata run: one with nobody listening, one with every pool event subscribed and an
 * OpenTelemetry MeterProvider + reader attached through `GrpcPoolMetricsModule` (which
 * collects once during the run, so its observable instruments have really read the pool).
 *
 *   npm run build && node --expose-gc bench/telemetry.bench.js
 */
import diagnostics from 'node:diagnostics_channel';
import grpc from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality,
} from '@opentelemetry/sdk-metrics';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import { GrpcPoolModule, POOL_EVENTS, getPoolToken } from 'nestjs-grpc-pool';
import { GrpcPoolMetricsModule } from 'nestjs-grpc-pool/otel';

const SIZE = 8;
const server = new grpc.Server();
const port = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);
const url = `127.0.0.1:${port}`;

async function startPool(name, imports = []) {
  const app = await NestFactory.createApplicationContext(
    { module: class {}, imports: [GrpcPoolModule.forRoot({ name, url, size: SIZE }), ...imports] },
    { logger: false },
  );
  const pool = app.get(getPoolToken(name));
  const deadline = Date.now() + 10_000;
  while (pool.status().ready < SIZE && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { app, pool };
}

const quiet = await startPool('quiet');
let received = 0;
for (const name of Object.values(POOL_EVENTS)) {
  diagnostics.subscribe(name, () => received++);
}
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const watched = await startPool('watched', [GrpcPoolMetricsModule.forRoot({ meterProvider })]);

group(`getChannel(), pool of ${SIZE}, round-robin`, () => {
  summary(() => {
    bench('no subscribers, no metrics', () => do_not_optimize(quiet.pool.getChannel())).baseline(
      true,
    );
    bench('all events subscribed + OpenTelemetry reader', () =>
      do_not_optimize(watched.pool.getChannel()),
    );
  });
});

await run();
await reader.forceFlush();
const exported =
  exporter
    .getMetrics()
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics).length ?? 0;
console.log(
  `\nsanity: ${received} events received, ${exported} metrics exported, both pools ${quiet.pool.status().ready}/${watched.pool.status().ready} ready`,
);
await quiet.app.close();
await watched.app.close();
await meterProvider.shutdown();
server.forceShutdown();
