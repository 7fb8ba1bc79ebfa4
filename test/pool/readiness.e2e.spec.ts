import { PoolClosedError, PoolNotReadyError, PoolTimeoutError } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { closedPort } from '../support/closed-port.js';

describe('readiness and reconnection', () => {
  const apps: PoolApp[] = [];
  const servers: EchoServer[] = [];
  const start = async (...args: Parameters<typeof startPoolApp>) => {
    const app = await startPoolApp(...args);
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    servers.splice(0).forEach((server) => server.stop());
  });

  it('awaitReady resolves once a member connects', async () => {
    const server = await EchoServer.start();
    servers.push(server);
    const { pool } = await start({ url: server.url, size: 3 });
    await expect(pool.awaitReady(5_000)).resolves.toBeUndefined();
    expect(pool.status().ready).toBeGreaterThanOrEqual(1);
  });

  it('awaitReady times out naming the target and its last connection error', async () => {
    const port = await closedPort();
    const { pool } = await start({
      url: `127.0.0.1:${port}`,
      size: 2,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    expect(() => pool.getChannel()).toThrow(PoolNotReadyError);
    expect(pool.tryGetChannel()).toBeUndefined();
    const error = await pool.awaitReady(600).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as PoolTimeoutError).message).toMatch(
      new RegExp(
        `gRPC pool "default".*600 ms.*127\\.0\\.0\\.1:${port} \\(TRANSIENT_FAILURE.*ECONNREFUSED`,
      ),
    );
    expect(
      pool.status().members.every((member) => member.lastError?.includes('ECONNREFUSED')),
    ).toBe(true);
  });

  it('bootstrap waits for readyTimeoutMs and fails, or only warns by option', async () => {
    const port = await closedPort();
    await expect(startPoolApp({ url: `127.0.0.1:${port}`, readyTimeoutMs: 300 })).rejects.toThrow(
      PoolTimeoutError,
    );
    const warned = await start({
      url: `127.0.0.1:${port}`,
      readyTimeoutMs: 300,
      onReadyTimeout: 'warn',
    });
    expect(warned.pool.status().ready).toBe(0);
  });

  it('members leave the slot table when the server dies and the pool refills on its own when it returns', async () => {
    const server = await EchoServer.start();
    servers.push(server);
    const { pool } = await start({
      url: server.url,
      size: 4,
      backoff: { initialMs: 100, maxMs: 300 },
    });
    await waitFor(() => pool.status().ready === 4, 'a full pool');

    server.stop();
    await waitFor(() => pool.status().ready === 0, 'every member to leave the slot table');
    expect(() => pool.getChannel()).toThrow(PoolNotReadyError);

    await server.listen();
    await waitFor(() => pool.status().ready === 4, 'the pool to refill', 5_000);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => unary(pool.getChannel(), { message: 'back' })),
    );
    expect(new Set(replies.map((reply) => reply.peer)).size).toBe(4);
  });

  it('after close(), getChannel and awaitReady throw PoolClosedError and close is idempotent', async () => {
    const server = await EchoServer.start();
    servers.push(server);
    const { pool } = await start({ url: server.url, size: 2 });
    await pool.awaitReady(5_000);
    const first = pool.close();
    expect(pool.close()).toBe(first);
    expect(() => pool.getChannel()).toThrow(PoolClosedError);
    await first;
    await expect(pool.awaitReady(100)).rejects.toThrow(PoolClosedError);
    await expect(pool.scaleUp(1)).rejects.toThrow(PoolClosedError);
    expect(pool.status()).toMatchObject({ closed: true, ready: 0, size: 0 });
  });

  it('a pending awaitReady rejects with PoolClosedError when the pool closes', async () => {
    const port = await closedPort();
    const { pool } = await start({ url: `127.0.0.1:${port}`, size: 1 });
    const waiting = pool.awaitReady(10_000);
    await pool.close();
    await expect(waiting).rejects.toThrow(PoolClosedError);
  });
});
