/**
 * Issue 18, defect 9: a member's health `Watch` must follow the member's current connection.
 * When the server sends GOAWAY (graceful shutdown, `tryShutdown`) and a new server takes the
 * port, the member reconnects to the new one; its Watch must be opened again there, so that
 * the new server's NOT_SERVING takes the member out, and the old stream must not hold the
 * old server's graceful shutdown open.
 *
 * Failure seen on the code before the lifecycle rewrite (commit 19fef65), run with
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     test/health-check/watch-follows-connection.e2e.spec.ts
 * the new server received 0 Watch streams, its NOT_SERVING took no member out within the
 * 20 s bound, and the old server's tryShutdown had not completed 10 s after it began (the
 * issue measured 18–21 s: the Watch stays open on the old connection).
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService, type ServingStatus } from 'grpc-health-check';
import {
  POOL_EVENTS,
  type MemberConnectedEvent,
  type MemberHealthEvent,
  type PoolService,
} from 'nestjs-grpc-pool';
import { collect } from '../adaptive/events.js';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp } from '../support/pool-app.js';

/** A `grpc.health.v1` service that counts the Watch streams opened on it. */
class CountingHealth {
  watches = 0;
  private readonly watchers = new Set<(status: ServingStatus) => void>();

  constructor(private status: ServingStatus) {}

  set(status: ServingStatus): void {
    this.status = status;
    for (const watcher of this.watchers) watcher(status);
  }

  readonly addToServer = (server: grpc.Server): void =>
    server.addService(healthService, {
      check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, { status: this.status }),
      watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        this.watches++;
        const watcher = (status: ServingStatus) => call.write({ status });
        this.watchers.add(watcher);
        call.on('cancelled', () => this.watchers.delete(watcher));
        call.write({ status: this.status });
      },
    });
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Binds a new server on `port` once the old one's listener is gone (bounded retries). */
async function restartOn(port: number, health: CountingHealth): Promise<EchoServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await EchoServer.start({ port, services: health.addToServer });
    } catch (error) {
      if (attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('the health Watch follows the member to its new connection', () => {
  it("after a graceful shutdown and a new server on the port: Watch reopened there, its NOT_SERVING honoured, the old server's shutdown not held", async () => {
    const health = collect<MemberHealthEvent>(POOL_EVENTS.memberHealth);
    cleanups.push(health.stop);
    const connected = collect<MemberConnectedEvent>(POOL_EVENTS.memberConnected);
    cleanups.push(connected.stop);

    const oldHealth = new CountingHealth('SERVING');
    const old = await EchoServer.start({ services: oldHealth.addToServer });
    cleanups.push(() => old.stop());
    const app = await startPoolApp({
      name: 'watch',
      url: old.url,
      size: 2,
      drainTimeoutMs: 100,
      backoff: { initialMs: 100, maxMs: 200 },
      healthCheck: { intervalMs: 200, timeoutMs: 2_000 },
    });
    cleanups.push(() => app.close());
    const pool: PoolService = app.pool;
    await waitFor(
      () => new Set(health.events.map((event) => event.memberId)).size === 2,
      'a Watch answer for both members',
    );
    expect(oldHealth.watches).toBe(2);

    // Graceful shutdown: GOAWAY to both connections, the listener closed at once.
    const connectedBefore = connected.events.length;
    const shutdownStarted = Date.now();
    let oldShutdownMs: number | undefined;
    void old.shutdownGracefully().then(() => (oldShutdownMs = Date.now() - shutdownStarted));
    const newHealth = new CountingHealth('SERVING');
    const fresh = await restartOn(old.port, newHealth);
    cleanups.push(() => fresh.stop());
    await waitFor(
      () => connected.events.length - connectedBefore >= 2 && pool.status().ready === 2,
      'both members connected to the new server',
      10_000,
    );

    // The new server says NOT_SERVING: every member must go out. Issue bound 4 s; 20 s here
    // (a loaded machine), and the time it took is logged.
    const notServingAt = Date.now();
    newHealth.set('NOT_SERVING');
    let outAfterMs: number | undefined;
    try {
      await waitFor(
        () => pool.status().members.filter((m) => m.out?.reason === 'NOT_SERVING').length === 2,
        "both members out on the new server's NOT_SERVING",
        20_000,
      );
      outAfterMs = Date.now() - notServingAt;
    } catch {
      outAfterMs = undefined;
    }
    // The old server's graceful shutdown: done within 10 s of its start, or held.
    await waitFor(
      () => oldShutdownMs !== undefined || Date.now() - shutdownStarted > 10_000,
      "the old server's shutdown, or 10 s",
      15_000,
    );
    console.log(
      `watch follows connection: new server Watch streams ${newHealth.watches}, ` +
        `members out after NOT_SERVING: ${outAfterMs === undefined ? 'not within 20 s' : `${outAfterMs} ms`}, ` +
        `old server shutdown: ${oldShutdownMs === undefined ? 'still open after 10 s' : `${oldShutdownMs} ms`}`,
    );

    expect({
      newServerWatches: newHealth.watches >= 2,
      outWithin20s: outAfterMs !== undefined,
      oldShutdownWithin10s: oldShutdownMs !== undefined && oldShutdownMs <= 10_000,
    }).toEqual({ newServerWatches: true, outWithin20s: true, oldShutdownWithin10s: true });
    expect(pool.status().ready).toBe(0);
  }, 60_000);
});
