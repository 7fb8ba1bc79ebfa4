import * as grpc from '@grpc/grpc-js';
import { PoolArgumentError } from 'nestjs-grpc-pool';
import { unary, waitFor } from '../support/echo-server.js';
import {
  closedPort,
  silentServer,
  startBackends,
  startPeerApp,
  stopBackends,
  type Backend,
  type PeerApp,
} from './peer-fixtures.js';

const insecure = grpc.credentials.createInsecure();

describe('peer pool: put() adopts a channel', () => {
  let backends: Backend[];
  let app: PeerApp;

  beforeEach(async () => {
    backends = await startBackends(2);
    app = await startPeerApp({ maxConnections: 1, connectTimeoutMs: 5_000 });
  });

  afterEach(async () => {
    await app.close();
    await stopBackends(backends);
  });

  it('hands the adopted channel out on acquire, keeps it open past a client close() and closes it on invalidate', async () => {
    const [a] = backends;
    const adopted = new grpc.Channel(a.endpoint, insecure, {});
    app.peers.put(a.endpoint, adopted);
    const channel = await app.peers.acquire(a.endpoint);
    channel.close(); // a client's close() must not close a pooled connection
    expect(adopted.getConnectivityState(false)).not.toBe(grpc.connectivityState.SHUTDOWN);
    await expect(unary(channel, { message: 'adopted' })).resolves.toMatchObject({
      message: 'adopted',
    });
    // The call rode the adopted channel: it is the one connection made to the backend.
    expect(adopted.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    expect(a.proxy.accepted).toBe(1);
    expect(app.peers.stats()).toMatchObject({ hits: 1, misses: 0, size: 1 });

    app.peers.put(a.endpoint, adopted); // the same channel again: no-op, still open
    expect(adopted.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    await app.peers.invalidate(a.endpoint);
    expect(adopted.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
  });

  it('replaces a peer still connecting: those waiting on it get the adopted channel', async () => {
    const silent = await silentServer();
    try {
      const waiting = app.peers.acquire(silent.endpoint);
      const direct = new grpc.Channel(backends[0].endpoint, insecure, {});
      app.peers.put(silent.endpoint, direct);
      const channel = await waiting;
      await expect(unary(channel, { message: 'direct' })).resolves.toMatchObject({
        message: 'direct',
      });
      expect(app.peers.stats()).toMatchObject({ size: 1, misses: 1 });
    } finally {
      await silent.stop();
    }
  });

  it('counts toward maxConnections and is evicted like any peer', async () => {
    const [a, b] = backends;
    const adopted = new grpc.Channel(a.endpoint, insecure, {});
    app.peers.put(a.endpoint, adopted);
    await app.peers.acquire(b.endpoint);
    expect(app.peers.connectedPeers()).toEqual([b.endpoint]);
    await waitFor(
      () => adopted.getConnectivityState(false) === grpc.connectivityState.SHUTDOWN,
      'the evicted channel to close',
    );
    expect(app.peers.stats().evictions).toBe(1);
  });

  it('a channel kept past its peer being closed fails calls with UNAVAILABLE, saying what to do', async () => {
    const [a] = backends;
    app.peers.put(a.endpoint, new grpc.Channel(a.endpoint, insecure, {}));
    const pooledA = await app.peers.acquire(a.endpoint);
    await app.peers.invalidate(a.endpoint);
    await expect(unary(pooledA, {})).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: `the peer pool closed its connection to ${a.endpoint}; acquire() it again`,
    });

    const dialed = await app.peers.acquire(a.endpoint);
    await app.peers.invalidate(a.endpoint);
    await expect(unary(dialed, {})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('drops an adopted channel whose connection fails, even one failing already', async () => {
    const endpoint = `127.0.0.1:${await closedPort()}`;
    const failing = new grpc.Channel(endpoint, insecure, {});
    failing.getConnectivityState(true);
    await waitFor(
      () => failing.getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE,
      'the channel to fail',
    );
    app.peers.put(endpoint, failing);
    await waitFor(() => app.peers.stats().unhealthyCloses === 1, 'the failing peer to be dropped');
    expect(app.peers.stats().size).toBe(0);
    expect(failing.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);
  });

  it('rejects what is not a channel, or not an endpoint', () => {
    expect(() => app.peers.put('127.0.0.1:1', {} as grpc.Channel)).toThrow(
      new PoolArgumentError(
        'default',
        'put(endpoint, channel)',
        'got an object (Object) as channel: expected a grpc-js Channel, e.g. new Channel(target, credentials, {})',
      ),
    );
    expect(() => app.peers.put(' ', new grpc.Channel('127.0.0.1:1', insecure, {}))).toThrow(
      /put\(endpoint, channel\) got " "/,
    );
  });
});
