import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { getPeerPoolToken, GrpcPeerPoolModule, type PeerPoolService } from 'nestjs-grpc-pool';
import { GrpcPeerPoolHealthIndicator, GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import { startBackends, stopBackends, type Backend } from './peer-fixtures.js';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly peers: GrpcPeerPoolHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.peers.isHealthy('peers', { pool: 'cluster' })]);
  }

  @Get('health/missing')
  @HealthCheck()
  missing() {
    return this.health.check([() => this.peers.isHealthy('other')]);
  }
}

describe('Terminus health of a peer pool over real HTTP', () => {
  let backends: Backend[];
  let app: INestApplication;
  let base: string;
  let peers: PeerPoolService;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    backends = await startBackends(2);
    const moduleRef = await Test.createTestingModule({
      imports: [GrpcPeerPoolModule.forRoot({ name: 'cluster' }), GrpcPoolHealthModule],
      controllers: [HealthController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    peers = app.get<PeerPoolService>(getPeerPoolToken('cluster'));
  });

  afterAll(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('is up with size, connected peers and hit rate; an empty pool is up too', async () => {
    expect((await get('/health')).body).toMatchObject({
      status: 'ok',
      info: { peers: { status: 'up', pool: 'cluster', size: 0, connectedPeers: 0, hitRate: 0 } },
    });
    await peers.acquire(backends[0].endpoint);
    await peers.acquire(backends[1].endpoint);
    await peers.acquire(backends[0].endpoint);
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      info: { peers: { status: 'up', size: 2, connectedPeers: 2, hitRate: 1 / 3 } },
    });
  });

  it('reports an unknown peer pool as down, naming it', async () => {
    const { status, body } = await get('/health/missing');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      error: {
        other: {
          status: 'down',
          message: expect.stringContaining('no gRPC peer pool named "default"'),
        },
      },
    });
  });

  it('is down while the peer pool is closing', async () => {
    const indicator = app.get(GrpcPeerPoolHealthIndicator);
    await peers.close();
    expect(indicator.isHealthy('peers', { pool: 'cluster' })).toMatchObject({
      peers: { status: 'down', message: 'peer pool is closing', size: 0 },
    });
  });
});
