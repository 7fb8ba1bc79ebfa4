import { Test, type TestingModule } from '@nestjs/testing';
import {
  GrpcPoolModule,
  getPoolToken,
  PoolTimeoutError,
  type GrpcPoolOptions,
  type PoolService,
} from 'nestjs-grpc-pool';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { maxConnectAttempts } from './backoff-bound.js';
import { CapturingLogger } from './capturing-logger.js';
import { closedPort } from '../support/closed-port.js';

const BACKOFF = { initialMs: 100, maxMs: 1_000 };

describe('backend unreachable at start', () => {
  const modules: TestingModule[] = [];
  const proxies: FaultProxy[] = [];
  const servers: EchoServer[] = [];

  /** A Nest app with one pool and a capturing logger, initialized (bootstrap included). */
  const boot = async (options: GrpcPoolOptions, logger = new CapturingLogger()) => {
    const module = await Test.createTestingModule({
      imports: [GrpcPoolModule.forRoot(options)],
    })
      .setLogger(logger)
      .compile();
    modules.push(module);
    await module.init();
    return { module, logger, pool: module.get<PoolService>(getPoolToken()) };
  };
  const deadBackendProxy = async () => {
    const proxy = await FaultProxy.start({ targetPort: await closedPort() });
    proxies.push(proxy);
    return proxy;
  };

  afterEach(async () => {
    await Promise.all(modules.splice(0).map((module) => module.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
    servers.splice(0).forEach((server) => server.stop());
  });

  it('awaitReady rejects on time with PoolTimeoutError naming the target and ECONNREFUSED', async () => {
    const port = await closedPort();
    const { pool } = await boot({ url: `127.0.0.1:${port}`, size: 2, backoff: BACKOFF });
    const started = Date.now();
    const error = await pool.awaitReady(500).catch((caught: unknown) => caught);
    const took = Date.now() - started;

    expect(error).toBeInstanceOf(PoolTimeoutError);
    const timeout = error as PoolTimeoutError;
    expect(timeout.code).toBe('POOL_TIMEOUT');
    expect(timeout.pool).toBe('default');
    expect(timeout.message).toContain('within 500 ms');
    expect(timeout.targets).toHaveLength(1);
    expect(timeout.targets[0]).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${port} \\(TRANSIENT_FAILURE.*ECONNREFUSED`),
    );
    expect(timeout.message).toContain(timeout.targets[0]);
    expect(took).toBeGreaterThanOrEqual(490);
    // On time: a 5x margin over the 500 ms asked for, for a loaded 2-core machine.
    expect(took).toBeLessThan(2_500);
  });

  it("bootstrap with readyTimeoutMs and onReadyTimeout 'fail' rejects and closes the pool", async () => {
    const proxy = await deadBackendProxy();
    const logger = new CapturingLogger();
    const module = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({ url: proxy.url, size: 2, backoff: BACKOFF, readyTimeoutMs: 400 }),
      ],
    })
      .setLogger(logger)
      .compile();
    const started = Date.now();
    const error = await module.init().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toContain(`${proxy.url} (TRANSIENT_FAILURE`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);

    // The failed bootstrap closed the pool. (That a member failing at that moment still
    // dials once more afterwards is grpc-js's doing: closed-pool-connections.e2e.spec.ts.)
    expect(proxy.accepted).toBeGreaterThan(0);
    const pool = module.get<PoolService>(getPoolToken());
    expect(pool.status()).toMatchObject({ closed: true, size: 0 });
    expect(() => pool.getChannel()).toThrow(/is closed/);
    await module.close();
  });

  it("bootstrap with onReadyTimeout 'warn' logs why, starts, and connects once the server is up", async () => {
    const port = await closedPort();
    const started = Date.now();
    const { pool, logger } = await boot({
      url: `127.0.0.1:${port}`,
      size: 2,
      backoff: { initialMs: 100, maxMs: 200 },
      readyTimeoutMs: 300,
      onReadyTimeout: 'warn',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(pool.status().ready).toBe(0);
    const warnings = logger.find('warn', 'no member became ready within 300 ms');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].text).toContain(`127.0.0.1:${port}`);
    expect(warnings[0].text).toContain('ECONNREFUSED');
    expect(warnings[0].text).toContain("starting anyway (onReadyTimeout: 'warn')");

    servers.push(await EchoServer.start({ port }));
    await waitFor(() => pool.status().ready === 2, 'both members ready', 2_000);
    await expect(pool.awaitReady(100)).resolves.toBeUndefined();
  });

  it.each([
    ['reset at accept', 'reset'],
    ['closed at accept', 'close'],
    ['forwarded to nothing', 'pass'],
  ] as const)(
    'a backend %s is retried within the backoff, never in a hot loop',
    async (_kind, fault) => {
      const proxy = await deadBackendProxy();
      proxy.onAccept = fault;
      const from = Date.now();
      const { pool } = await boot({ url: proxy.url, size: 2, backoff: BACKOFF });
      // It keeps trying: four attempts per member, waited for, not slept for...
      await waitFor(() => proxy.acceptedBetween(from) >= 2 * 4, 'four attempts per member');
      const elapsed = Date.now() - from;
      const attempts = proxy.acceptedBetween(from);
      // ...and no more than the backoff (initialMs 100, maxMs 1,000) allows in that time; a
      // loaded machine only makes fewer, so this bound cannot flake.
      expect(attempts).toBeLessThanOrEqual(2 * maxConnectAttempts(elapsed + 50, 100, 1_000));
      expect(pool.status().members.every((member) => member.lastError !== undefined)).toBe(true);
    },
  );

  it('a backend that drops every connection right after the handshake is retried with backoff, not in a loop', async () => {
    const server = await EchoServer.start();
    servers.push(server);
    const proxy = await FaultProxy.start({ targetPort: server.port });
    proxies.push(proxy);
    // Every connection lives 30 ms: long enough for the HTTP/2 handshake (the member is
    // READY), then it is cut, as a crash-looping backend behind a TCP balancer does.
    proxy.onConnection = (connection) => setTimeout(() => connection.close(), 30).unref();
    const from = Date.now();
    const { pool, logger } = await boot({ url: proxy.url, size: 2, backoff: BACKOFF });
    await waitFor(() => proxy.acceptedBetween(from) >= 2 * 3, 'three attempts per member');
    const elapsed = Date.now() - from;
    proxy.onConnection = undefined;

    const attempts = proxy.acceptedBetween(from);
    expect(attempts).toBeLessThanOrEqual(2 * maxConnectAttempts(elapsed + 50, 100, 1_000));
    // The log says so a bounded number of times too.
    expect(logger.find('warn', 'lost its connection').length).toBeLessThanOrEqual(attempts);
    // Once connections stay up, the pool fills.
    await waitFor(() => pool.status().ready === 2, 'both members ready');
  });
});
