import { PoolClosedError, PoolEvictedError } from 'nestjs-grpc-pool';
import { sleep, unary, waitFor } from '../support/echo-server.js';
import {
  silentServer,
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
  type PeerApp,
} from './peer-fixtures.js';

describe('peer pool: LRU eviction under maxConnections', () => {
  let backends: Backend[];
  let app: PeerApp;
  const endpoint = (i: number) => backends[i].endpoint;
  const open = () => backends.map((backend) => backend.proxy.open);
  const call = async (i: number, delayMs = 0) =>
    unary(await app.peers.acquire(endpoint(i)), { message: `to ${i}`, delayMs });

  beforeEach(async () => {
    backends = await startBackends(5);
    app = await startPeerApp({ maxConnections: 3, drainTimeoutMs: 5_000 });
  });

  afterEach(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('evicts the least recently used peer, in LRU order, and closes its connection', async () => {
    for (const i of [0, 1, 2]) await call(i);
    expect(app.peers.connectedPeers()).toEqual([endpoint(0), endpoint(1), endpoint(2)]);
    expect(open()).toEqual([1, 1, 1, 0, 0]);

    await call(0); // 0 becomes the most recently used: 1 is now the oldest
    await call(3);
    expect(app.peers.connectedPeers()).toEqual([endpoint(2), endpoint(0), endpoint(3)]);
    app.peers.release(endpoint(2)); // a release counts as a use too: 0 is now the oldest
    await call(4);
    expect(app.peers.connectedPeers()).toEqual([endpoint(3), endpoint(2), endpoint(4)]);

    await waitFor(() => open().join() === '0,0,1,1,1', 'evicted connections to close');
    expect(app.peers.stats()).toMatchObject({ size: 3, misses: 5, evictions: 2 });
    expect(backends.map((backend) => backend.proxy.accepted)).toEqual([1, 1, 1, 1, 1]);
  });

  it('skips a peer with calls in flight while another can go, and lets the call finish', async () => {
    for (const i of [0, 1, 2]) await call(i);
    const slow = call(0, 400); // 0 is now the newest, but make it the oldest again:
    await waitFor(() => backends[0].server.active === 1, 'the slow call at server 0');
    await call(1);
    await call(2);
    // LRU order is 0, 1, 2, but 0 is busy: 1 goes.
    await call(3);
    expect(app.peers.connectedPeers()).toEqual([endpoint(0), endpoint(2), endpoint(3)]);
    await expect(slow).resolves.toMatchObject({ message: 'to 0' });
    expect(open()[0]).toBe(1);
  });

  it('when every peer is busy, evicts the oldest but drains its calls before closing', async () => {
    for (const i of [0, 1, 2]) await call(i);
    const slow = [0, 1, 2].map((i) => call(i, 300));
    await waitFor(
      () => backends.every((b, i) => i > 2 || b.server.active === 1),
      'three slow calls',
    );

    await call(3);
    expect(app.peers.connectedPeers()).toEqual([endpoint(1), endpoint(2), endpoint(3)]);
    await sleep(50);
    expect(open()[0]).toBe(1); // still draining
    await expect(Promise.all(slow)).resolves.toHaveLength(3);
    await waitFor(() => open()[0] === 0, 'the drained connection to close');
  });

  it('a peer evicted while still connecting rejects its acquire() with PoolEvictedError naming maxConnections, not PoolClosedError', async () => {
    const silent = await silentServer();
    const tight = await startPeerApp({
      name: 'tight',
      maxConnections: 1,
      connectTimeoutMs: 20_000,
    });
    try {
      const waiting = tight.peers.acquire(silent.endpoint).catch((error: unknown) => error);
      // The connecting peer is busy, but it is the only one: the new miss evicts it.
      await unary(await tight.peers.acquire(endpoint(0)), { message: 'room' });
      const error = await waiting;
      expect(error).toBeInstanceOf(PoolEvictedError);
      expect(error).not.toBeInstanceOf(PoolClosedError);
      expect(error).toMatchObject({
        code: 'POOL_EVICTED',
        pool: 'tight',
        endpoint: silent.endpoint,
        maxConnections: 1,
      });
      expect((error as Error).message).toBe(
        `gRPC peer pool "tight": the connection to ${silent.endpoint} was evicted before it ` +
          'became ready because maxConnections (1) was reached; acquire() it again, or raise maxConnections',
      );
      expect(tight.peers.closed).toBe(false);
      expect(tight.peers.stats()).toMatchObject({ evictions: 1, size: 1 });
      expect(tight.peers.connectedPeers()).toEqual([endpoint(0)]);
    } finally {
      await tight.close();
      await silent.stop();
    }
  });
});
