import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { POOL_EVENTS, type MemberReconnectEvent } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/** Where the worker steps in because grpc-js would not: an IDLE channel, a connection attempt that never ends. */
describe('member recovery beyond grpc-js', () => {
  const reconnects: MemberReconnectEvent[] = [];
  const listener = (event: unknown) => reconnects.push(event as MemberReconnectEvent);
  let app: PoolApp | undefined;

  beforeAll(() => diagnostics.subscribe(POOL_EVENTS.memberReconnect, listener));
  afterAll(() => diagnostics.unsubscribe(POOL_EVENTS.memberReconnect, listener));
  afterEach(async () => {
    await app?.close();
    reconnects.length = 0;
  });

  it('a member whose channel goes IDLE is woken at once and never sits idle unnoticed', async () => {
    const server = await EchoServer.start();
    try {
      // grpc-js's smallest idle timeout (1 s) instead of the pool's default of ~24 days.
      app = await startPoolApp({
        url: server.url,
        size: 1,
        channelOptions: { 'grpc.client_idle_timeout_ms': 1_000 },
      });
      await waitFor(() => app!.pool.status().ready === 1, 'a ready member');
      await unary(app.pool.getChannel(), {});
      await waitFor(
        () => reconnects.some((event) => event.reason === 'idle'),
        'the idle member to be woken',
        5_000,
      );
      await waitFor(() => app!.pool.status().ready === 1, 'the member ready again');
      await expect(unary(app.pool.getChannel(), { message: 'awake' })).resolves.toMatchObject({
        message: 'awake',
      });
    } finally {
      server.stop();
    }
  });

  it('a member stuck CONNECTING past connectTimeoutMs gets a fresh channel', async () => {
    // Accepts TCP and never speaks HTTP/2: grpc-js would wait for the handshake.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      app = await startPoolApp({ url: `127.0.0.1:${port}`, size: 1, connectTimeoutMs: 300 });
      await waitFor(
        () => reconnects.some((event) => event.reason === 'connect-timeout'),
        'a fresh channel after the connect timeout',
        5_000,
      );
      expect(reconnects[0]).toMatchObject({
        pool: 'default',
        memberId: 0,
        target: `127.0.0.1:${port}`,
      });
      expect(app.pool.status().ready).toBe(0);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
