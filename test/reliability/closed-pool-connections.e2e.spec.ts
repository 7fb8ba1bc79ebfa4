import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

const BACKOFF = { initialMs: 200, maxMs: 200 };

describe('a closed pool or a removed member leaves no connection behind', () => {
  let server: EchoServer;
  let proxy: FaultProxy;
  let app: PoolApp;

  beforeEach(async () => {
    server = await EchoServer.start();
    proxy = await FaultProxy.start({ targetPort: server.port });
  });

  afterEach(async () => {
    await app.close();
    await proxy.stop();
    server.stop();
  });

  it('close() ends every connection of a ready pool and nothing reconnects', async () => {
    app = await startPoolApp({ url: proxy.url, size: 3, backoff: BACKOFF });
    await waitFor(() => app.pool.status().ready === 3, 'a full pool');
    await app.close();
    const closedAt = Date.now();
    await waitFor(() => proxy.open === 0, 'every connection closed', 1_000);
    await sleep(BACKOFF.maxMs * 1.2 + 200);
    expect(proxy.acceptedBetween(closedAt)).toBe(0);
  });

  it("scaleDown ends the removed members' connections and keeps the others", async () => {
    app = await startPoolApp({ url: proxy.url, size: 4, backoff: BACKOFF });
    await waitFor(() => app.pool.status().ready === 4, 'a full pool');
    await app.pool.scaleDown(3);
    await waitFor(() => proxy.open === 1, 'one connection left', 1_000);
    await sleep(BACKOFF.maxMs * 1.2 + 200);
    expect(proxy.accepted).toBe(4);
    expect(proxy.open).toBe(1);
  });

  /*
   * grpc-js 1.14 bug (subchannel.ts unref): a channel closed while its subchannel waits out
   * a reconnect backoff in TRANSIENT_FAILURE keeps the backoff timer; when it fires the
   * closed channel connects once more, and if that works the connection stays open for
   * good. Marked `failing` until grpc-js stops the backoff when the last ref goes; jest
   * reports it the day the fix lands.
   */
  it.failing(
    'close() of a pool whose members are failing: no connection attempt after it, none left open',
    async () => {
      proxy.onAccept = 'reset';
      app = await startPoolApp({ url: proxy.url, size: 2, backoff: BACKOFF });
      await waitFor(
        () => app.pool.status().members.every((member) => member.state === 'TRANSIENT_FAILURE'),
        'every member failing',
      );
      await app.close();
      const closedAt = Date.now();
      proxy.onAccept = 'pass';
      await sleep(BACKOFF.maxMs * 1.2 + 300);
      expect({ attempts: proxy.acceptedBetween(closedAt), open: proxy.open }).toEqual({
        attempts: 0,
        open: 0,
      });
    },
  );
});
