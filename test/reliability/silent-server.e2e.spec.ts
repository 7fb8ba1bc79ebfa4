import * as grpc from '@grpc/grpc-js';
import diagnostics from 'node:diagnostics_channel';
import { POOL_EVENTS, type GrpcPoolOptions, type MemberReconnectEvent } from 'nestjs-grpc-pool';
import { createTestCertificates, type TestCertificates } from '../support/certs.js';
import { waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { SilentServer } from '../support/silent-server.js';
import { echoCall, lateness } from './calls.js';

/**
 * A server that accepts TCP and never speaks HTTP/2 (a half-dead process, a misrouted port,
 * a TLS port dialled in plaintext). grpc-js waits for its SETTINGS frame forever and keeps
 * the socket open after `channel.close()`; the pool must not pile sockets up on it.
 */
describe('a server that accepts TCP and never speaks HTTP/2', () => {
  const POOL = 'silent';
  const reconnects: MemberReconnectEvent[] = [];
  const listener = (event: unknown) => {
    if ((event as MemberReconnectEvent).pool === POOL)
      reconnects.push(event as MemberReconnectEvent);
  };
  const timeouts = () => reconnects.filter((event) => event.reason === 'connect-timeout').length;
  let server: SilentServer;
  let app: PoolApp | undefined;
  let certs: TestCertificates | undefined;

  const start = (options: Partial<GrpcPoolOptions>) =>
    startPoolApp({ name: POOL, url: server.url, ...options });

  beforeAll(() => diagnostics.subscribe(POOL_EVENTS.memberReconnect, listener));
  afterAll(() => diagnostics.unsubscribe(POOL_EVENTS.memberReconnect, listener));
  beforeEach(async () => {
    server = await SilentServer.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    certs = undefined;
    reconnects.length = 0;
    await server.stop();
  });

  /** Waits for `rounds` connect timeouts per member, then checks the server never held more than one socket per member plus one per replacement. */
  const expectBoundedThroughReplacements = async (size: number, rounds: number) => {
    // Each connect timeout replaces the member's channel, which dials again: the first
    // attempt plus one per replacement (one outage, so one reconnect event per member).
    await waitFor(
      () => server.accepted >= size * (rounds + 1),
      `${rounds} connect timeouts per member`,
    );
    expect(timeouts()).toBe(size);
    // At most one attempt per member, plus one per member while its channel is replaced.
    expect(server.peak).toBeLessThanOrEqual(2 * size);
    expect(server.open).toBeLessThanOrEqual(2 * size);
    expect(app!.pool.status().ready).toBe(0);
  };

  it('holds at most one connection attempt per member (two during a replacement), and none after close()', async () => {
    app = await start({ size: 4, connectTimeoutMs: 300 });
    await expectBoundedThroughReplacements(4, 3);

    await app.close();
    app = undefined;
    await waitFor(() => server.open === 0, 'every socket closed at the server', 5_000);
  });

  it('releases a TLS connection attempt whose handshake never completes', async () => {
    certs = await createTestCertificates();
    app = await start({
      size: 2,
      connectTimeoutMs: 300,
      credentials: grpc.credentials.createSsl(certs.ca),
    });
    await expectBoundedThroughReplacements(2, 3);

    await app.close();
    app = undefined;
    await waitFor(() => server.open === 0, 'every socket closed at the server', 5_000);
  });

  it('a pool closed while its members are still connecting leaves no socket behind', async () => {
    app = await start({ size: 3, connectTimeoutMs: 60_000 });
    await waitFor(() => server.open === 3, 'one connection attempt per member');

    await app.close();
    app = undefined;
    await waitFor(() => server.open === 0, 'every socket closed at the server', 5_000);
    expect(timeouts()).toBe(0);
    expect(server.accepted).toBe(3);
  });

  it('a waitForReady call queued on a member replaced after connectTimeoutMs is re-issued once, then ends with a status naming the pool, the target and connectTimeoutMs', async () => {
    app = await start({ size: 1, connectTimeoutMs: 300 });
    const queued = await echoCall(
      app.pool.channel,
      { message: 'patient' },
      { timeoutMs: 10_000, waitForReady: true },
    );
    // Read in the same turn as the call's end: no replacement can come in between.
    const [member] = app.pool.status().members;

    expect(queued.code).toBe(grpc.status.UNAVAILABLE);
    expect(queued.details).toContain(`gRPC pool "${POOL}"`);
    expect(queued.details).toContain(server.url);
    expect(queued.details).toContain('connectTimeoutMs (300 ms)');
    expect(queued.details).not.toContain('Channel closed before call started');
    // It never left the client: the first replacement re-issued it on the new channel, the
    // second ended it (once is the bound: a silent server must not hold it to its deadline).
    expect(member.channels).toBe(3);
    expect(lateness(queued)).toBeLessThan(-5_000);
    // One call, counted once, ended once.
    expect(member.callsStarted).toBe(1);
    expect(member.callsByStatus).toEqual({ UNAVAILABLE: 1 });
    expect(member.inFlight).toBe(0);
    expect(timeouts()).toBeGreaterThanOrEqual(1);
  });
});
