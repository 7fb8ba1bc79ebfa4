import { Test, type TestingModule } from '@nestjs/testing';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { getPeerPoolToken, GrpcPeerPoolModule, type PeerPoolService } from 'nestjs-grpc-pool';
import { GrpcPoolMetricsModule } from 'nestjs-grpc-pool/otel';
import { EchoServer, waitFor } from '../support/echo-server.js';

type Point = { attributes: Record<string, unknown>; value: unknown };

/** Every data point of the named metric in the last export. */
function points(exported: ResourceMetrics[], name: string): Point[] {
  const metric = exported
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []) as Point[];
}

/** Every attribute key of every exported point. */
function attributeKeys(exported: ResourceMetrics[]): Set<string> {
  return new Set(
    exported
      .at(-1)!
      .scopeMetrics.flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name.startsWith('grpc_peer_pool.'))
      .flatMap((metric) =>
        (metric.dataPoints as Point[]).flatMap((p) => Object.keys(p.attributes)),
      ),
  );
}

describe('OpenTelemetry metrics of peer pools', () => {
  let servers: EchoServer[];
  let app: TestingModule;
  let peers: PeerPoolService;
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;

  async function start(peerEndpoints: boolean): Promise<void> {
    servers = await Promise.all([0, 1, 2].map(() => EchoServer.start()));
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    app = await Test.createTestingModule({
      imports: [
        GrpcPeerPoolModule.forRoot({ name: 'nodes', maxConnections: 2, drainTimeoutMs: 1_000 }),
        GrpcPoolMetricsModule.forRoot({
          meterProvider: new MeterProvider({ readers: [reader] }),
          peerEndpoints,
        }),
      ],
    }).compile();
    await app.init();
    peers = app.get<PeerPoolService>(getPeerPoolToken('nodes'));
  }

  afterEach(async () => {
    await app.close();
    servers.forEach((server) => server.stop());
  });

  it('reports peers, hits, misses, evictions, idle and unhealthy closes by peer_pool only', async () => {
    await start(false);
    const [a, b, c] = servers;
    await peers.acquire(a.url); // miss
    await peers.acquire(a.url); // hit
    await peers.acquire(b.url); // miss
    await peers.acquire(c.url); // miss, evicts a (least recently used)
    b.stop(); // b's ready connection fails: an unhealthy close
    await waitFor(() => peers.stats().unhealthyCloses === 1, 'the failed peer dropped');
    await reader.forceFlush();
    const exported = exporter.getMetrics();

    const one = (name: string) => points(exported, name).map((p) => [p.attributes, p.value]);
    const pool = { peer_pool: 'nodes' };
    expect(one('grpc_peer_pool.hits')).toEqual([[pool, 1]]);
    expect(one('grpc_peer_pool.misses')).toEqual([[pool, 3]]);
    expect(one('grpc_peer_pool.evictions')).toEqual([[pool, 1]]);
    expect(one('grpc_peer_pool.unhealthy_closes')).toEqual([[pool, 1]]);
    expect(one('grpc_peer_pool.idle_closes')).toEqual([[pool, 0]]);
    expect(one('grpc_peer_pool.peers')).toEqual([[pool, 1]]);
    expect(one('grpc_peer_pool.connected')).toEqual([[pool, 1]]);
    expect(points(exported, 'grpc_peer_pool.peer.connected')).toEqual([]);
    expect([...attributeKeys(exported)]).toEqual(['peer_pool']);
  });

  it('adds one series per connected endpoint only when peerEndpoints is set', async () => {
    await start(true);
    const [a, b] = servers;
    await peers.acquire(a.url);
    await peers.acquire(b.url);
    await reader.forceFlush();
    const perPeer = points(exporter.getMetrics(), 'grpc_peer_pool.peer.connected');

    expect(
      perPeer
        .map((p) => p.attributes)
        .sort((x, y) => String(x.endpoint).localeCompare(String(y.endpoint))),
    ).toEqual([a.url, b.url].sort().map((endpoint) => ({ peer_pool: 'nodes', endpoint })));
    expect(perPeer.map((p) => p.value)).toEqual([1, 1]);
  });
});
