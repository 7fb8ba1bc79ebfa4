import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  getPoolToken,
  GrpcPoolModule,
  type GrpcPoolOptions,
  type PoolService,
} from 'nestjs-grpc-pool';
import { GrpcPoolMetricsModule } from 'nestjs-grpc-pool/otel';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';

interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: unknown;
}

function pointsOf(exported: readonly ResourceMetrics[], name: string): Point[] {
  return exported
    .flatMap((resource) => resource.scopeMetrics)
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Point[]);
}

const sum = (points: readonly Point[]) =>
  points.reduce((total, point) => total + (point.value as number), 0);

/**
 * One MeterProvider with two readers, cumulative and delta, on in-memory exporters. Each
 * `collect()` exports both, keeps the last cumulative export, adds the delta one to running
 * sums, records every series seen, and empties the exporters (2,000 collections stay small).
 */
class Metrics {
  readonly meterProvider: MeterProvider;
  private readonly cumulative = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  private readonly delta = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  /** The last cumulative export. */
  last: ResourceMetrics[] = [];
  /** Per metric, the delta points summed over every collection. */
  private readonly deltaSums = new Map<string, number>();
  /** Per metric, every attribute set seen in any export (both temporalities). */
  readonly series = new Map<string, Set<string>>();

  constructor() {
    const reader = (exporter: InMemoryMetricExporter) =>
      new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 });
    this.meterProvider = new MeterProvider({
      readers: [reader(this.cumulative), reader(this.delta)],
    });
  }

  async collect(): Promise<void> {
    await this.meterProvider.forceFlush();
    this.last = this.cumulative.getMetrics();
    const delta = this.delta.getMetrics();
    for (const exported of [this.last, delta]) {
      for (const metric of exported.flatMap((r) => r.scopeMetrics).flatMap((s) => s.metrics)) {
        const seen = this.series.get(metric.descriptor.name) ?? new Set<string>();
        for (const point of metric.dataPoints) seen.add(JSON.stringify(point.attributes));
        this.series.set(metric.descriptor.name, seen);
      }
    }
    for (const name of ['grpc_pool.calls.started', 'grpc_pool.calls.finished']) {
      this.deltaSums.set(name, (this.deltaSums.get(name) ?? 0) + sum(pointsOf(delta, name)));
    }
    this.cumulative.reset();
    this.delta.reset();
  }

  points(name: string): Point[] {
    return pointsOf(this.last, name);
  }

  /** A call counter's total: from the last cumulative export, and summed over the delta ones. */
  totals(name: string): { cumulative: number; delta: number } {
    return { cumulative: sum(this.points(name)), delta: this.deltaSums.get(name) ?? 0 };
  }

  /** Finished calls with status `code`, in the last cumulative export. */
  finished(code: string): number {
    return sum(this.points('grpc_pool.calls.finished').filter((p) => p.attributes.status === code));
  }

  /** How many attribute sets any metric had, and whether any overflowed the SDK's limit. */
  seriesBound(): { most: number; overflow: boolean } {
    let most = 0;
    let overflow = false;
    for (const seen of this.series.values()) {
      most = Math.max(most, seen.size);
      overflow ||= [...seen].some((attributes) => attributes.includes('otel.metric.overflow'));
    }
    return { most, overflow };
  }
}

/** A pool and the metrics module in one Nest app, members ready. */
async function start(options: GrpcPoolOptions & { name: string }) {
  const metrics = new Metrics();
  const app = await Test.createTestingModule({
    imports: [
      GrpcPoolModule.forRoot(options),
      GrpcPoolMetricsModule.forRoot({ meterProvider: metrics.meterProvider }),
    ],
  }).compile();
  await app.init();
  const pool = app.get<PoolService>(getPoolToken(options.name));
  const size = options.size ?? 4;
  await waitFor(() => pool.status().ready === size, `${size} ready members`);
  return {
    metrics,
    pool,
    close: async () => {
      await app.close();
      await metrics.meterProvider.shutdown();
    },
  };
}

/** status()'s call counts, in the shape the assertions compare. */
function counts(pool: PoolService) {
  const { callsStarted, callsFailed, callsByStatus, inFlight } = pool.status();
  return { callsStarted, callsFailed, callsByStatus, inFlight };
}

/** What the pool and both exports say about its calls, and any drop `watchMonotonic` saw. */
function report(pool: PoolService, metrics: Metrics, drops: readonly string[]) {
  return {
    status: counts(pool),
    started: metrics.totals('grpc_pool.calls.started'),
    finished: metrics.totals('grpc_pool.calls.finished'),
    drops,
  };
}

/** {@link report} when `made` calls were made and every one succeeded. */
function exact(made: number) {
  return {
    status: { callsStarted: made, callsFailed: 0, callsByStatus: { OK: made }, inFlight: 0 },
    started: { cumulative: made, delta: made },
    finished: { cumulative: made, delta: made },
    drops: [],
  };
}

/**
 * Samples `status()` every millisecond: pool totals must never go down, whatever leaves
 * (a member's calls folded into the pool's totals in the same step as it leaves the list).
 */
function watchMonotonic(pool: PoolService) {
  let last = { started: 0, ended: 0 };
  const drops: string[] = [];
  const timer = setInterval(() => {
    const status = pool.status();
    const ended = Object.values(status.callsByStatus ?? {}).reduce((a, b) => a + b, 0);
    if (status.callsStarted < last.started || ended < last.ended) {
      drops.push(
        `started ${last.started} -> ${status.callsStarted}, ended ${last.ended} -> ${ended}`,
      );
    }
    last = { started: status.callsStarted, ended };
  }, 1);
  return {
    drops,
    stop: () => clearInterval(timer),
  };
}

describe('call counts survive members leaving (status() and OpenTelemetry)', () => {
  let server: EchoServer;
  let stop: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    server = await EchoServer.start();
  });

  afterEach(async () => {
    await stop?.();
    stop = undefined;
    server.stop();
  });

  it('counts all 70 calls after a scale-down mid-way, cumulative and delta alike', async () => {
    const { pool, metrics, close } = await start({ name: 'shrink', url: server.url, size: 4 });
    stop = close;
    const monotonic = watchMonotonic(pool);
    await metrics.collect();
    for (let i = 0; i < 20; i++) await unary(pool.channel, {});
    // Collected while all four are listed; then more calls on the members about to leave.
    await metrics.collect();
    for (let i = 0; i < 15; i++) await unary(pool.channel, {});
    await pool.scaleDown(2);
    for (let i = 0; i < 35; i++) await unary(pool.channel, {});
    await metrics.collect();
    monotonic.stop();

    // One comparison, so that a failure shows every count that is off at once.
    expect(report(pool, metrics, monotonic.drops)).toEqual(exact(70));
    expect(metrics.points('grpc_pool.calls.started')).toEqual([
      expect.objectContaining({ attributes: { pool: 'shrink', target: server.url }, value: 70 }),
    ]);
    expect(metrics.points('grpc_pool.calls.finished')).toEqual([
      expect.objectContaining({
        attributes: { pool: 'shrink', target: server.url, status: 'OK' },
        value: 70,
      }),
    ]);
  });

  it('counts failed calls and resets by status on members that left, and keeps them after close', async () => {
    const { pool, metrics, close } = await start({ name: 'failures', url: server.url, size: 3 });
    stop = close;
    for (let i = 0; i < 6; i++) {
      await unary(pool.channel, { failCode: grpc.status.ABORTED }).catch(() => undefined);
      await unary(pool.channel, {});
    }
    // One call per member ends past its deadline: a stream reset each (resetBudget is on).
    for (let i = 0; i < 3; i++) {
      await unary(pool.channel, { delayMs: 1_000 }, { deadline: Date.now() + 20 }).catch(
        () => undefined,
      );
    }
    await pool.scaleDown(2);
    const expected = {
      callsStarted: 15,
      callsFailed: 9,
      callsByStatus: { OK: 6, ABORTED: 6, DEADLINE_EXCEEDED: 3 },
      inFlight: 0,
    };
    await metrics.collect();
    expect({
      status: counts(pool),
      resets: pool.status().resets,
      exported: ['OK', 'ABORTED', 'DEADLINE_EXCEEDED'].map((code) => metrics.finished(code)),
    }).toEqual({ status: expected, resets: 3, exported: [6, 6, 3] });
    await pool.close();
    expect(pool.status().members).toEqual([]);
    expect(counts(pool)).toEqual(expected);
  });

  it('counts every call across renewals at maxConnectionAgeMs 1000, status() exact at every moment', async () => {
    const { pool, metrics, close } = await start({
      name: 'renew',
      url: server.url,
      size: 4,
      maxConnectionAgeMs: 1_000,
    });
    stop = close;
    const monotonic = watchMonotonic(pool);
    const collector = setInterval(() => void metrics.collect(), 200);
    let made = 0;
    let failed = 0;
    const deadline = Date.now() + 20_000;
    // Four loops of 10 ms calls until six renewals are done (~2 s), bounded in count and time.
    const loop = async () => {
      while ((pool.status().renewal?.done ?? 0) < 6 && made < 4_000 && Date.now() < deadline) {
        made++;
        await unary(pool.channel, { delayMs: 10 }).catch(() => failed++);
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    clearInterval(collector);
    monotonic.stop();
    expect(pool.status().renewal?.done).toBeGreaterThanOrEqual(6);
    expect(made).toBeGreaterThan(200);
    expect(failed).toBe(0);
    await metrics.collect();
    expect(report(pool, metrics, monotonic.drops)).toEqual(exact(made));
    // Old members still draining or not: the totals are the same either way.
    await waitFor(() => pool.status().members.every((m) => !m.draining), 'drains to end');
    await metrics.collect();
    expect(report(pool, metrics, [])).toEqual(exact(made));
  });

  it('stays exact over 2,000 member replacements, with a few series and no overflow', async () => {
    const { pool, metrics, close } = await start({ name: 'churn', url: server.url, size: 1 });
    stop = close;
    const monotonic = watchMonotonic(pool);
    const batch = 20;
    let made = 0;
    let replaced = 0;
    const startedAt = Date.now();
    // 101 cycles of 20: 2,020 members made and closed, each observed by a collection.
    for (let cycle = 0; cycle < 101 && Date.now() - startedAt < 150_000; cycle++) {
      await pool.scaleUp(batch);
      await waitFor(() => pool.status().ready === batch + 1, 'the new members ready');
      for (let i = 0; i < batch; i++) {
        made++;
        await unary(pool.channel, {});
      }
      await metrics.collect();
      // Calls in flight while their members drain: counted once, on the member that took them.
      const inDrain = Array.from({ length: 5 }, () => {
        made++;
        return unary(pool.channel, { delayMs: 5 });
      });
      await pool.scaleDown(batch);
      await Promise.all(inDrain);
      replaced += batch;
    }
    await metrics.collect();
    monotonic.stop();
    expect(replaced).toBe(2_020);
    const bound = metrics.seriesBound();
    expect({ ...report(pool, metrics, monotonic.drops), overflow: bound.overflow }).toEqual({
      ...exact(made),
      overflow: false,
    });
    expect(bound.most).toBeLessThanOrEqual(8);
  }, 200_000);

  it('reports in_flight per pool and target, back to 0 once members that held calls left', async () => {
    const { pool, metrics, close } = await start({ name: 'leave', url: server.url, size: 3 });
    stop = close;
    // One call held on each member; the scale-down drains two of them with their calls.
    const held = Array.from({ length: 3 }, () => unary(pool.channel, { delayMs: 400 }));
    await waitFor(() => pool.status().inFlight === 3, 'three calls in flight');
    const inFlight = () =>
      metrics.points('grpc_pool.in_flight').map(({ attributes, value }) => ({ attributes, value }));
    await metrics.collect();
    const during = inFlight();
    await Promise.all([pool.scaleDown(2), ...held]);
    await metrics.collect();
    // No in-flight gauge of any name may keep a departed member's last value.
    const stale = metrics.last
      .flatMap((r) => r.scopeMetrics)
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name.endsWith('in_flight'))
      .flatMap((m) => m.dataPoints as Point[])
      .filter((p) => p.value !== 0)
      .map(({ attributes, value }) => ({ attributes, value }));
    const attributes = { pool: 'leave', target: server.url };
    expect({ during, after: inFlight(), stale }).toEqual({
      during: [{ attributes, value: 3 }],
      after: [{ attributes, value: 0 }],
      stale: [],
    });
  });

  it('reports members.out for every reason, back to 0 once an ejection ends', async () => {
    const { pool, metrics, close } = await start({
      name: 'eject',
      url: server.url,
      size: 2,
      outlierEjection: { consecutiveFailures: 3, baseEjectionMs: 300 },
    });
    stop = close;
    const member = pool.getChannel();
    for (let i = 0; i < 3; i++) {
      await unary(member, { failCode: grpc.status.UNAVAILABLE }).catch(() => undefined);
    }
    await waitFor(() => pool.status().ready === 1, 'the member ejected');
    await metrics.collect();
    const out = () =>
      Object.fromEntries(
        metrics.points('grpc_pool.members.out').map((p) => [p.attributes.reason, p.value]),
      );
    const during = out();
    await waitFor(() => pool.status().ready === 2, 'the member back', 3_000);
    await metrics.collect();
    const none = { NOT_SERVING: 0, SERVICE_UNKNOWN: 0, 'probe-failures': 0 };
    expect({ during, after: out() }).toEqual({
      during: { ...none, ejected: 1 },
      after: { ...none, ejected: 0 },
    });
    for (const point of metrics.points('grpc_pool.members.out')) {
      expect(point.attributes).toEqual({ pool: 'eject', reason: point.attributes.reason });
    }
  });
});
