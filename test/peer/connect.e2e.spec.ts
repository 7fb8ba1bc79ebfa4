import diagnostics from 'node:diagnostics_channel';
import {
  POOL_EVENTS,
  PoolArgumentError,
  PoolConfigError,
  PoolConnectError,
  PoolTimeoutError,
} from 'nestjs-grpc-pool';
import { unary } from '../support/echo-server.js';
import {
  closedPort,
  silentServer,
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
  type PeerApp,
} from './peer-fixtures.js';

describe('peer pool: connecting on a miss', () => {
  let backends: Backend[];
  let app: PeerApp;

  beforeEach(async () => {
    backends = await startBackends(2);
    app = await startPeerApp({ connectTimeoutMs: 500 });
  });

  afterEach(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('20 concurrent misses for one endpoint share one connection attempt', async () => {
    const [a] = backends;
    const channels = await Promise.all(
      Array.from({ length: 20 }, () => app.peers.acquire(a.endpoint)),
    );
    expect(new Set(channels).size).toBe(1);
    await Promise.all(channels.map((channel, i) => unary(channel, { message: `${i}` })));
    expect(a.proxy.accepted).toBe(1);
    expect(a.server.peers).toHaveLength(1);
    expect(a.server.callsByPeer.get(a.server.peers[0])).toBe(20);
    expect(app.peers.stats()).toMatchObject({ misses: 1, hits: 19, size: 1 });
    expect(diagnostics.channel(POOL_EVENTS.memberConnectionFailed).hasSubscribers).toBe(false);
  });

  it('a hit resolves with the same channel; tryAcquire gives it synchronously', async () => {
    const [a, b] = backends;
    expect(app.peers.tryAcquire(a.endpoint)).toBeUndefined();
    const channel = await app.peers.acquire(a.endpoint);
    await expect(app.peers.acquire(a.endpoint)).resolves.toBe(channel);
    expect(app.peers.tryAcquire(a.endpoint)).toBe(channel);
    expect(app.peers.tryAcquire(b.endpoint)).toBeUndefined();
    expect(app.peers.stats()).toMatchObject({ misses: 1, hits: 2, size: 1 });
  });

  it('a hanging miss never holds up calls to other endpoints, and rejects after connectTimeoutMs', async () => {
    // A connect timeout far above what the other endpoint's acquire and call take, even on a
    // loaded machine: the order of events, not a clock, shows nothing waited on the hang.
    await app.close();
    app = await startPeerApp({ connectTimeoutMs: 2_500 });
    const silent = await silentServer();
    try {
      const started = Date.now();
      let hangSettled = false;
      const hanging = app.peers
        .acquire(silent.endpoint)
        .catch((error: unknown) => error)
        .finally(() => (hangSettled = true));
      const reply = await unary(await app.peers.acquire(backends[0].endpoint), { message: 'ok' });
      expect(reply.message).toBe('ok');
      expect(hangSettled).toBe(false);

      const error = await hanging;
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_490);
      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect((error as Error).message).toContain(silent.endpoint);
      expect(app.peers.stats().size).toBe(1); // the failed attempt is not pooled
    } finally {
      await silent.stop();
    }
  });

  it('a refused connection rejects at its first failed attempt, not after connectTimeoutMs, naming the endpoint and the cause', async () => {
    // connectTimeoutMs at its default, 20 s: before the fix every refused acquire() waited it out.
    const peers = await startPeerApp({ name: 'refused' });
    try {
      const endpoint = `127.0.0.1:${await closedPort()}`;
      const started = Date.now();
      const [first, second] = await Promise.all([
        peers.peers.acquire(endpoint).catch((error: unknown) => error),
        peers.peers.acquire(endpoint).catch((error: unknown) => error),
      ]);
      const elapsedMs = Date.now() - started;
      expect(second).toBe(first);
      expect(first).toBeInstanceOf(PoolConnectError);
      expect(first).toMatchObject({ code: 'POOL_CONNECT_FAILED', pool: 'refused', endpoint });
      expect((first as PoolConnectError).lastError).toMatch(/ECONNREFUSED/);
      expect((first as Error).message).toMatch(
        new RegExp(`^gRPC peer pool "refused": could not connect to ${endpoint}: .*ECONNREFUSED`),
      );
      // Known within milliseconds on loopback; 5 s is a 5x margin over the 1 s promised.
      expect(elapsedMs).toBeLessThan(5_000);
      expect(peers.peers.stats()).toMatchObject({ size: 0, misses: 1, hits: 1 });
      // Not pooled: the next acquire() dials again.
      await expect(peers.peers.acquire(endpoint)).rejects.toBeInstanceOf(PoolConnectError);
      expect(peers.peers.stats()).toMatchObject({ size: 0, misses: 2 });
      // Listening for connection failures only while a miss connects: the event costs nothing again.
      expect(diagnostics.channel(POOL_EVENTS.memberConnectionFailed).hasSubscribers).toBe(false);
    } finally {
      await peers.close();
    }
  });

  it('with perEndpointSize 3, a refused endpoint rejects once every connection has failed', async () => {
    const peers = await startPeerApp({ name: 'refused3', perEndpointSize: 3 });
    try {
      const endpoint = `127.0.0.1:${await closedPort()}`;
      const started = Date.now();
      const error = await peers.peers.acquire(endpoint).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PoolConnectError);
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await peers.close();
    }
  });

  it('rejects unusable endpoints with PoolArgumentError naming the pool and the endpoint', async () => {
    await expect(app.peers.acquire('')).rejects.toThrow(
      new PoolArgumentError(
        'default',
        'acquire(endpoint)',
        'got "": expected "host:port", "dns:///host:port" or "unix:///path"',
      ),
    );
    await expect(app.peers.acquire(42 as unknown as string)).rejects.toThrow(/got 42/);
    await expect(app.peers.acquire('127.0.0.1:99999')).rejects.toThrow(
      /gRPC pool "default": acquire\(endpoint\) got "127.0.0.1:99999": port must be from 1 to 65535/,
    );
    expect(app.peers.stats()).toMatchObject({ size: 0, misses: 0 });
  });

  it('asks endpointOptions per endpoint and checks what it returns', async () => {
    const [a, b] = backends;
    const asked: string[] = [];
    const peers = await startPeerApp({
      name: 'resolved',
      channelOptions: { 'grpc.primary_user_agent': 'pool-wide' },
      endpointOptions: (endpoint) => {
        asked.push(endpoint);
        return endpoint === b.endpoint
          ? ({ channelOptions: 'nope' } as never)
          : { channelOptions: { 'grpc.primary_user_agent': 'per-endpoint' } };
      },
    });
    try {
      await unary(await peers.peers.acquire(a.endpoint), {});
      await peers.peers.acquire(a.endpoint);
      await expect(peers.peers.acquire(b.endpoint)).rejects.toThrow(
        new PoolConfigError(
          `resolved/${b.endpoint}`,
          'channelOptions',
          'is "nope": expected a plain object',
        ),
      );
      expect(asked).toEqual([a.endpoint, b.endpoint]);
    } finally {
      await peers.close();
    }
  });
});
