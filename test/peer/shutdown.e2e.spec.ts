import * as grpc from '@grpc/grpc-js';
import { PoolClosedError } from 'nestjs-grpc-pool';
import { unary, waitFor } from '../support/echo-server.js';
import {
  silentServer,
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
} from './peer-fixtures.js';

describe('peer pool: shutdown', () => {
  let backends: Backend[];
  const open = () => backends.reduce((sum, backend) => sum + backend.proxy.open, 0);

  beforeEach(async () => {
    backends = await startBackends(3);
  });

  afterEach(() => stopBackends(backends));

  it('app.close() drains calls in flight on every peer, closes every connection and rejects what waits', async () => {
    const app = await startPeerApp({ drainTimeoutMs: 5_000, connectTimeoutMs: 10_000 });
    const silent = await silentServer();
    try {
      const [a, b, c] = backends;
      const adopted = new grpc.Channel(c.endpoint, grpc.credentials.createInsecure(), {});
      app.peers.put(c.endpoint, adopted);
      const channels = await Promise.all([a, b, c].map((x) => app.peers.acquire(x.endpoint)));
      const calls = channels.map((channel, i) => unary(channel, { message: `${i}`, delayMs: 300 }));
      await waitFor(
        () => backends.every((backend) => backend.server.active === 1),
        'a call in flight at every server',
      );
      const waiting = app.peers.acquire(silent.endpoint).catch((error: unknown) => error);

      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);

      await expect(Promise.all(calls)).resolves.toMatchObject([
        { message: '0' },
        { message: '1' },
        { message: '2' },
      ]);
      expect(await waiting).toEqual(new PoolClosedError('default'));
      expect(app.peers.closed).toBe(true);
      expect(app.peers.stats().size).toBe(0);
      await waitFor(() => open() === 0, 'every connection to close');
      expect(adopted.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
      await expect(app.peers.acquire(a.endpoint)).rejects.toThrow(PoolClosedError);
      expect(() => app.peers.put(a.endpoint, adopted)).toThrow(PoolClosedError);
      expect(app.peers.close()).toBe(app.peers.close());
    } finally {
      await silent.stop();
    }
  });

  it('cancels what outlives drainTimeoutMs, naming why', async () => {
    const app = await startPeerApp({ drainTimeoutMs: 200 });
    const [a, , c] = backends;
    app.peers.put(c.endpoint, new grpc.Channel(c.endpoint, grpc.credentials.createInsecure(), {}));
    const slow = Promise.allSettled(
      [a, c].map(async ({ endpoint }) =>
        unary(await app.peers.acquire(endpoint), { delayMs: 5_000 }),
      ),
    );
    await waitFor(() => a.server.active === 1 && c.server.active === 1, 'two slow calls');
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    const [pooled, adopted] = await slow;
    expect(pooled).toMatchObject({
      status: 'rejected',
      reason: {
        code: grpc.status.CANCELLED,
        details: expect.stringMatching(/drainTimeoutMs \(200 ms\)/),
      },
    });
    expect(adopted).toMatchObject({
      status: 'rejected',
      reason: {
        code: grpc.status.CANCELLED,
        details: `gRPC peer pool "default" closed ${c.endpoint} and its drainTimeoutMs (200 ms) passed`,
      },
    });
  });
});
