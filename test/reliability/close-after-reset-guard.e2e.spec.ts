import { createHook } from 'node:async_hooks';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { resetStorm } from '../support/reset-storm.js';
import { findGc, ResourceTracker } from '../soak/resources.js';

/**
 * grpc-js closes a connection gracefully (`session.close()`), and Node then half-closes the
 * socket and waits for the server's FIN. A server that stops reading never sends it: Node's
 * own HTTP/2 server does so once it has ended a connection for rapid reset. close() must
 * not depend on the server: no connection of the pool may outlive it.
 */
describe('no connection outlives close(), whatever the server did', () => {
  let server: EchoServer;
  let app: PoolApp | undefined;

  beforeEach(async () => {
    server = await EchoServer.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    server.stop();
  });

  it("close() ends a connection whose server never answers the client's close (a peer that stopped reading)", async () => {
    const proxy = await FaultProxy.start({ targetPort: server.port });
    const sockets = new LiveSockets();
    try {
      app = await startPoolApp({ url: proxy.url, size: 1 });
      await app.pool.awaitReady(10_000);
      // The server side stops reading, as Node's HTTP/2 server does once it has ended a
      // connection for rapid reset: it never sees the client's FIN, so never answers it.
      const connection = proxy.connection(0).blackhole();
      connection.client.pause();
      const memberPort = connection.client.remotePort;
      expect(sockets.localPorts()).toContain(memberPort);
      await app.close();
      // The member's own socket is gone once close() resolves (the paused peer cannot tell).
      await waitFor(
        () => !sockets.localPorts().includes(memberPort!),
        'the member socket closed',
        5_000,
      );
      expect(proxy.accepted).toBe(1);
    } finally {
      sockets.stop();
      for (const connection of proxy.connections) connection.destroy();
      await proxy.stop();
    }
  });

  it('a member whose connection the server ended for rapid reset leaves no socket or HTTP/2 session after close()', async () => {
    const { gc } = findGc();
    const tracker = new ResourceTracker().start();
    try {
      // Without the budget, so that the server does end the session (the point of this test).
      app = await startPoolApp({ url: server.url, size: 1, resetBudget: false });
      await app.pool.awaitReady(10_000);
      const pool = app.pool;
      // 150 expiring calls/s on one connection run Node's budget (1,000 + 33/s) dry in ~8.5 s.
      const storm = await resetStorm(pool.channel, {
        expiringPerSecond: 150,
        goodPerSecond: 20,
        durationMs: 45_000,
        stopWhen: () => pool.members()[0]!.disconnects > 0,
      });
      expect(pool.members()[0]!.disconnects).toBeGreaterThan(0);
      expect(storm.failures.join('\n')).toMatch(/Session closed with error code 2/);
      await app.close();
      app = undefined;
      // Resources the GC destroys (HTTP/2 session handles) go at the next collection.
      const alive = await tracker.measuring(async () => {
        const deadline = Date.now() + 5_000;
        for (;;) {
          gc?.();
          const { TCPWRAP = 0, HTTP2SESSION = 0 } = tracker.alive();
          if ((TCPWRAP === 0 && HTTP2SESSION === 0) || Date.now() > deadline) {
            return { TCPWRAP, HTTP2SESSION };
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      });
      expect(alive).toEqual({ TCPWRAP: 0, HTTP2SESSION: 0 });
    } finally {
      tracker.stop();
    }
  }, 90_000);
});

/** TCP handles alive in this process, by local port, from a hook on their life cycle. */
class LiveSockets {
  private readonly handles = new Map<number, { getsockname?(out: { port?: number }): number }>();
  private readonly hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (type === 'TCPWRAP') this.handles.set(id, resource as never);
    },
    destroy: (id) => this.handles.delete(id),
  }).enable();

  /** Local ports of the TCP handles alive now (those made before the hook are left out). */
  localPorts(): number[] {
    return [...this.handles.values()].map((handle) => {
      const out: { port?: number } = {};
      handle.getsockname?.(out);
      return out.port ?? -1;
    });
  }

  stop(): void {
    this.hook.disable();
  }
}
