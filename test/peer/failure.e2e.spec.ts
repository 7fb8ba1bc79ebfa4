import * as grpc from '@grpc/grpc-js';
import { PoolClosedError, PoolConnectError, PoolInvalidatedError } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { silentServer, startPeerApp, type PeerApp } from './peer-fixtures.js';

describe('peer pool: a peer that dies', () => {
  let server: EchoServer;
  let app: PeerApp;

  beforeEach(async () => {
    server = await EchoServer.start();
    app = await startPeerApp({ connectTimeoutMs: 400, backoff: { initialMs: 50, maxMs: 100 } });
  });

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('invalidate after a failed call; acquire fails while the server is down and reconnects when it returns', async () => {
    const channel = await app.peers.acquire(server.url);
    await unary(channel, { message: 'before' });
    const before = server.peers[0];

    server.stop();
    await expect(unary(channel, { message: 'dead' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    // The pool may have dropped the peer on its own already; then invalidate is a no-op.
    await app.peers.invalidate(server.url);
    expect(app.peers.connectedPeers()).toEqual([]);
    const down = await app.peers.acquire(server.url).catch((error: unknown) => error);
    expect(down).toBeInstanceOf(PoolConnectError);
    expect((down as Error).message).toContain(`could not connect to ${server.url}`);

    await server.listen();
    const again = await app.peers.acquire(server.url);
    expect(again).not.toBe(channel);
    await expect(unary(again, { message: 'after' })).resolves.toMatchObject({ message: 'after' });
    expect(server.peers.filter((peer) => peer !== before)).toHaveLength(1);
    expect(app.peers.stats()).toMatchObject({ misses: 3, size: 1 });
  });

  it('drops a peer on its own when its connection fails (no invalidate needed), then reconnects', async () => {
    const channel = await app.peers.acquire(server.url);
    await unary(channel, {});
    server.stop();
    await waitFor(() => app.peers.stats().unhealthyCloses === 1, 'the peer to be dropped');
    expect(app.peers.stats().size).toBe(0);
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.SHUTDOWN);

    await server.listen();
    await expect(unary(await app.peers.acquire(server.url), {})).resolves.toBeDefined();
    expect(app.peers.connectedPeers()).toEqual([server.url]);
  });

  it('invalidate of an unknown endpoint is a no-op', async () => {
    await expect(app.peers.invalidate('127.0.0.1:1')).resolves.toBeUndefined();
  });

  it('an acquire() racing invalidate() of the same endpoint gets PoolInvalidatedError, never PoolClosedError', async () => {
    const silent = await silentServer();
    try {
      const waiting = app.peers.acquire(silent.endpoint).catch((error: unknown) => error);
      await app.peers.invalidate(silent.endpoint);
      const error = await waiting;
      expect(error).toBeInstanceOf(PoolInvalidatedError);
      expect(error).not.toBeInstanceOf(PoolClosedError);
      expect(error).toMatchObject({
        code: 'POOL_INVALIDATED',
        pool: 'default',
        endpoint: silent.endpoint,
      });
      expect((error as Error).message).toBe(
        `gRPC peer pool "default": invalidate("${silent.endpoint}") closed the connection before ` +
          'it became ready; acquire() it again to dial afresh',
      );
      expect(app.peers.closed).toBe(false);
    } finally {
      await silent.stop();
    }
  });

  it('an acquire() racing invalidate() gets the new connection when one was asked for meanwhile', async () => {
    const first = app.peers.acquire(server.url);
    const invalidated = app.peers.invalidate(server.url);
    const second = app.peers.acquire(server.url);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    await invalidated;
    await expect(unary(a, { message: 'new' })).resolves.toMatchObject({ message: 'new' });
    expect(app.peers.stats()).toMatchObject({ misses: 2, size: 1 });
    expect(app.peers.connectedPeers()).toEqual([server.url]);
  });
});
