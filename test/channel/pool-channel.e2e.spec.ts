import * as grpc from '@grpc/grpc-js';
import { EchoClient, EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { closedPort as freePort } from '../support/closed-port.js';
import { FaultProxy } from '../support/fault-proxy.js';

describe('pool.channel', () => {
  const apps: PoolApp[] = [];
  const servers: EchoServer[] = [];
  const start = async (...args: Parameters<typeof startPoolApp>) => {
    const app = await startPoolApp(...args);
    apps.push(app);
    return app;
  };
  const serve = async (options?: Parameters<typeof EchoServer.start>[0]) => {
    const server = await EchoServer.start(options);
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    servers.splice(0).forEach((server) => server.stop());
  });

  it('balances every call of one client over all members and counts them', async () => {
    const server = await serve();
    const { pool } = await start({ url: server.url, size: 4 });
    await waitFor(() => pool.status().ready === 4, 'four ready members');
    const client = new EchoClient('ignored', grpc.credentials.createInsecure(), {
      channelOverride: pool.channel,
    });
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve, reject) =>
        client.Unary({ message: `${i}` }, (error: Error | null) =>
          error ? reject(error) : resolve(1),
        ),
      );
    }
    expect([...server.callsByPeer.values()]).toEqual([10, 10, 10, 10]);
    expect(pool.status().members.map((member) => member.callsStarted)).toEqual([10, 10, 10, 10]);
    client.close();
    // client.close() closed only the pool's face, not the pool.
    await expect(unary(pool.channel, { message: 'still open' })).resolves.toMatchObject({
      message: 'still open',
    });
  });

  it('reports the pool connectivity and serves waitForReady on a client', async () => {
    const port = await freePort();
    const { pool } = await start({
      url: `127.0.0.1:${port}`,
      size: 2,
      backoff: { initialMs: 50, maxMs: 100 },
    });
    expect([grpc.connectivityState.CONNECTING, grpc.connectivityState.TRANSIENT_FAILURE]).toContain(
      pool.channel.getConnectivityState(false),
    );
    const client = new EchoClient('ignored', grpc.credentials.createInsecure(), {
      channelOverride: pool.channel,
    });
    const ready = new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + 5_000, (error?: Error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await serve({ port });
    await expect(ready).resolves.toBeUndefined();
    expect(pool.channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);

    await pool.close();
    expect(pool.channel.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
  });

  it('waitForReady on a client fails at its deadline when no member connects', async () => {
    const port = await freePort();
    const { pool } = await start({ url: `127.0.0.1:${port}`, size: 1 });
    const client = new EchoClient('ignored', grpc.credentials.createInsecure(), {
      channelOverride: pool.channel,
    });
    const started = Date.now();
    await expect(
      new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + 300, (error?: Error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    ).rejects.toThrow(/Failed to connect before the deadline/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('with no member ready: a call made while members connect waits and goes out on the first ready one', async () => {
    const server = await serve();
    const proxy = await FaultProxy.start({ targetPort: server.port });
    try {
      // The proxy forwards nothing either way until released: the members' TCP connections
      // are up but grpc-js never sees the server's SETTINGS, so every member stays CONNECTING.
      const hold = (socket: { pause(): unknown; resume(): unknown }) => socket.pause();
      proxy.onConnection = (connection) => [connection.client, connection.upstream].forEach(hold);
      const { pool } = await start({ url: proxy.url, size: 2 });
      await waitFor(() => proxy.connections.length === 2, 'both members to open a connection');
      expect(pool.channel.getConnectivityState(false)).toBe(grpc.connectivityState.CONNECTING);

      let settled = false;
      const call = unary(pool.channel, { message: 'waited' }, { deadline: Date.now() + 20_000 });
      void call.finally(() => (settled = true)).catch(() => undefined);
      await waitFor(() => pool.status().inFlight === 1, 'the call to start on a member');
      // A later call goes through the same pick and waits out its short deadline: queued
      // while members connect, not failed fast (that would be UNAVAILABLE).
      await expect(unary(pool.channel, {}, { deadline: Date.now() + 50 })).rejects.toMatchObject({
        code: grpc.status.DEADLINE_EXCEEDED,
      });
      expect(settled).toBe(false);
      expect(pool.status().ready).toBe(0);
      expect(pool.channel.getConnectivityState(false)).toBe(grpc.connectivityState.CONNECTING);

      for (const connection of proxy.connections) {
        connection.client.resume();
        connection.upstream.resume();
      }
      await expect(call).resolves.toMatchObject({ message: 'waited' });
      await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await proxy.stop();
    }
  });

  it('with every member failed: a call fails fast, a waitForReady call waits for a member', async () => {
    const port = await freePort();
    const { pool } = await start({
      url: `127.0.0.1:${port}`,
      size: 2,
      backoff: { initialMs: 200, maxMs: 200 },
    });
    await waitFor(
      () => pool.channel.getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE,
      'all members failed',
    );

    // UNAVAILABLE, not DEADLINE_EXCEEDED: the call did not wait out its (distant) deadline.
    await expect(
      unary(pool.channel, { message: 'x' }, { deadline: Date.now() + 25_000 }),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining('ECONNREFUSED'),
    });

    const waiting = unary(
      pool.channel,
      { message: 'waited' },
      { deadline: Date.now() + 5_000 },
      new grpc.Metadata({ waitForReady: true }),
    );
    const timesOut = unary(
      pool.channel,
      { message: 'late' },
      { deadline: Date.now() + 150 },
      new grpc.Metadata({ waitForReady: true }),
    );
    await expect(timesOut).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    await serve({ port });
    await expect(waiting).resolves.toMatchObject({ message: 'waited' });
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
  });

  it('a call on a closed pool fails with UNAVAILABLE and a clear message, without a deadline', async () => {
    const server = await serve();
    const { pool } = await start({ url: server.url, size: 1 });
    await pool.close();
    await expect(unary(pool.channel, {})).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: 'gRPC pool "default" is closed; no call can be made on it',
    });
  });

  it('1,000 concurrent calls against max_concurrent_streams 10 spread over all four members and all counts return to 0', async () => {
    const server = await serve({ serverOptions: { 'grpc.max_concurrent_streams': 10 } });
    const { pool } = await start({ url: server.url, size: 4, strategy: 'least-loaded' });
    await waitFor(() => pool.status().ready === 4, 'four ready members');
    const replies = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        unary(pool.channel, { message: `${i}`, delayMs: 2 }, { deadline: Date.now() + 20_000 }),
      ),
    );
    expect(replies).toHaveLength(1_000);
    // Every member carried its share (least-loaded splits the burst evenly: 250 each), over
    // four distinct connections.
    const perMember = pool.status().members.map((member) => member.callsStarted);
    expect(perMember.reduce((a, b) => a + b, 0)).toBe(1_000);
    for (const calls of perMember) expect(calls).toBeGreaterThanOrEqual(125);
    expect(server.peers).toHaveLength(4);
    expect(pool.status().members.map((member) => member.inFlight)).toEqual([0, 0, 0, 0]);
  });
});
