import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { GrpcPoolModule, type PoolService, getPoolToken } from 'nestjs-grpc-pool';
import { GrpcPoolHealthIndicator, GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import * as grpc from '@grpc/grpc-js';
import { EchoClient, EchoServer, waitFor } from '../support/echo-server.js';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pools: GrpcPoolHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.pools.isHealthy('echo', { minReady: 3 })]);
  }

  @Get('health/missing')
  @HealthCheck()
  missing() {
    return this.health.check([() => this.pools.isHealthy('other', { pool: 'nope' })]);
  }
}

/**
 * Each test starts its own server and application, so any one of them runs alone or in any
 * order (`--testNamePattern`).
 */
describe('Terminus readiness over real HTTP', () => {
  let server: EchoServer;
  let app: INestApplication;
  let base: string;
  let pool: PoolService;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeEach(async () => {
    server = await EchoServer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({
          url: server.url,
          size: 3,
          backoff: { initialMs: 100, maxMs: 200 },
          drainTimeoutMs: 20_000,
        }),
        GrpcPoolHealthModule,
      ],
      controllers: [HealthController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    pool = app.get<PoolService>(getPoolToken());
    await waitFor(() => pool.status().ready === 3, 'three ready members');
  });

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('is up when ready >= minReady, with details and no credentials', async () => {
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      info: {
        echo: {
          status: 'up',
          pool: 'default',
          ready: 3,
          size: 3,
          minReady: 3,
          strategy: 'round-robin',
        },
      },
    });
    expect(JSON.stringify(body)).not.toMatch(/credential|secure|key|cert/i);
  });

  it('is degraded (HTTP 200) when some but fewer than minReady members are ready', async () => {
    await pool.scaleDown(1);
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'degraded',
      details: { echo: { status: 'degraded', ready: 2, size: 2 } },
    });
  });

  it('is down (HTTP 503) when no member is ready, and up again when the server returns', async () => {
    server.stop();
    await waitFor(() => pool.status().ready === 0, 'no ready member');
    const down = await get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'error',
      error: { echo: { status: 'down', ready: 0, message: 'no member is connected' } },
    });

    await server.listen();
    await waitFor(() => pool.status().ready === 3, 'three ready members again');
    expect((await get('/health')).status).toBe(200);
  });

  it('reports an unknown pool name as down with a message naming it', async () => {
    const { status, body } = await get('/health/missing');
    expect(status).toBe(503);
    expect(body).toMatchObject({
      error: {
        other: { status: 'down', message: expect.stringContaining('no gRPC pool named "nope"') },
      },
    });
  });

  it('is down while the pool is closing, during the drain of a call in flight', async () => {
    const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
      channelOverride: pool.getChannel(),
    });
    let ended: grpc.ServiceError | null | undefined;
    const held = client.Unary({ delayMs: 60_000 }, (error: grpc.ServiceError | null) => {
      ended = error;
    });
    await waitFor(() => server.active === 1, 'the call to reach the server');
    let closed = false;
    const closing = pool.close().then(() => (closed = true));

    const { status, body } = await get('/health');
    // Still draining: the call is in flight and close() has not finished. (The server's
    // count, not status(): a draining member is no longer listed there.)
    expect(server.active).toBe(1);
    expect(closed).toBe(false);
    expect(ended).toBeUndefined();
    expect(status).toBe(503);
    expect(body).toMatchObject({
      error: { echo: { status: 'down', message: 'pool is closing' } },
    });

    held.cancel();
    await closing;
    expect(ended).toMatchObject({ code: grpc.status.CANCELLED });
  });
});
