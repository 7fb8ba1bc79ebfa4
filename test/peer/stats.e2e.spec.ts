import * as grpc from '@grpc/grpc-js';
import { waitFor } from '../support/echo-server.js';
import {
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
  type PeerApp,
} from './peer-fixtures.js';

describe('peer pool: stats', () => {
  let backends: Backend[];
  let app: PeerApp;

  beforeEach(async () => {
    backends = await startBackends(3);
    app = await startPeerApp({ maxConnections: 2, idleTimeoutMs: 1_000 });
  });

  afterEach(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('counts exactly what a scripted sequence did', async () => {
    const [a, b, c] = backends.map((backend) => backend.endpoint);
    const { peers } = app;
    expect(peers.stats()).toEqual({
      hits: 0,
      misses: 0,
      evictions: 0,
      idleCloses: 0,
      unhealthyCloses: 0,
      size: 0,
      hitRate: 0,
    });

    await peers.acquire(a); // miss 1
    await peers.acquire(a); // hit 1
    await Promise.all([peers.acquire(b), peers.acquire(b), peers.acquire(b)]); // miss 2, hits 2-3
    expect(peers.tryAcquire(c)).toBeUndefined(); // counts nothing, starts nothing
    await peers.acquire(c); // miss 3, evicts a (oldest)
    expect(peers.connectedPeers()).toEqual([b, c]);
    expect(peers.tryAcquire(b)).toBeDefined(); // hit 4; c is now the oldest
    await peers.acquire(a); // miss 4, evicts c
    expect(peers.connectedPeers()).toEqual([b, a]);
    peers.release(b); // counts nothing
    await peers.invalidate(a); // counts nothing
    const adopted = new grpc.Channel(c, grpc.credentials.createInsecure(), {});
    peers.put(c, adopted); // counts nothing
    await peers.acquire(c); // hit 5

    expect(peers.stats()).toEqual({
      hits: 5,
      misses: 4,
      evictions: 2,
      idleCloses: 0,
      unhealthyCloses: 0,
      size: 2,
      hitRate: 5 / 9,
    });

    await waitFor(() => peers.stats().size === 0, 'both peers to close idle', 3_000);
    expect(peers.stats()).toEqual({
      hits: 5,
      misses: 4,
      evictions: 2,
      idleCloses: 2,
      unhealthyCloses: 0,
      size: 0,
      hitRate: 5 / 9,
    });
    expect(adopted.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
  });
});
