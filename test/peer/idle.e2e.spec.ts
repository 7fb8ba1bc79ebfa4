import { sleep, unary, waitFor } from '../support/echo-server.js';
import {
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
  type PeerApp,
} from './peer-fixtures.js';

describe('peer pool: idle close', () => {
  const idleTimeoutMs = 300;
  let backends: Backend[];
  let app: PeerApp;

  beforeEach(async () => {
    backends = await startBackends(2);
    app = await startPeerApp({ idleTimeoutMs });
  });

  afterEach(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('closes a peer unused for idleTimeoutMs, not before, and keeps one in use', async () => {
    const [a, b] = backends;
    await unary(await app.peers.acquire(a.endpoint), {});
    const lastUseOfA = Date.now(); // the end of a call is a use
    await unary(await app.peers.acquire(b.endpoint), {});

    // b is used every 50 ms; a is left alone.
    let closedAfter: number | undefined;
    for (let i = 0; i < 16 && closedAfter === undefined; i++) {
      await sleep(50);
      app.peers.release(b.endpoint);
      if (!app.peers.connectedPeers().includes(a.endpoint)) closedAfter = Date.now() - lastUseOfA;
    }
    expect(closedAfter).toBeGreaterThanOrEqual(idleTimeoutMs);
    expect(closedAfter).toBeLessThan(idleTimeoutMs * 2);
    expect(app.peers.connectedPeers()).toEqual([b.endpoint]);
    expect(app.peers.stats()).toMatchObject({ idleCloses: 1, size: 1, evictions: 0 });
    await waitFor(() => a.proxy.open === 0, "a's connection to close");
    expect(b.proxy.open).toBe(1);
  });

  it('never closes a peer while a call is in flight; closes it idleTimeoutMs after the call ends', async () => {
    const [a] = backends;
    const channel = await app.peers.acquire(a.endpoint);
    const long = unary(channel, { message: 'long', delayMs: idleTimeoutMs * 3 });
    await sleep(idleTimeoutMs * 2);
    expect(app.peers.connectedPeers()).toEqual([a.endpoint]);
    await expect(long).resolves.toMatchObject({ message: 'long' });
    const ended = Date.now();
    await waitFor(() => app.peers.stats().size === 0, 'the idle close', 3_000);
    expect(Date.now() - ended).toBeGreaterThanOrEqual(idleTimeoutMs - 10);
    expect(app.peers.stats().idleCloses).toBe(1);
  });

  it('idleTimeoutMs 0 never closes idle peers', async () => {
    const never = await startPeerApp({ name: 'never', idleTimeoutMs: 0 });
    try {
      await never.peers.acquire(backends[0].endpoint);
      await sleep(400);
      expect(never.peers.stats()).toMatchObject({ size: 1, idleCloses: 0 });
    } finally {
      await never.close();
    }
  });
});
