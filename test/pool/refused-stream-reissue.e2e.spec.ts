import * as grpc from '@grpc/grpc-js';
import { EchoClient, EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { echoCall } from '../reliability/calls.js';
import { refusingServer } from '../support/refusing-server.js';

describe('a stream the server refused (REFUSED_STREAM: not processed)', () => {
  let app: PoolApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** One unary call through a pool of one member on `url`; resolves with its error, or null. */
  async function oneCall(url: string): Promise<grpc.ServiceError | null> {
    app = await startPoolApp({ url, size: 1 });
    await app.pool.awaitReady(10_000);
    const client = new EchoClient('refused', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.channel,
    });
    return new Promise((resolve) =>
      client.Unary({ message: 'x' }, (failure: grpc.ServiceError | null) => resolve(failure)),
    );
  }

  it('is re-picked on another member after grpc-js gave up on it: every call answers, counted once, on the member that answered', async () => {
    const refusing = await refusingServer(Infinity);
    const echo = await EchoServer.start();
    try {
      app = await startPoolApp({ url: [refusing.url, echo.url], size: 2 });
      const pool = app.pool;
      await pool.awaitReady(10_000);
      await waitFor(() => pool.status().ready === 2, 'both members ready');
      const picksBefore = pool.status().picks;

      // Round-robin over the two members: two of the four calls land on the refusing one.
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map(() => echoCall(pool.channel, { message: 'r' }, { timeoutMs: 10_000 })),
      );

      expect(outcomes.map((outcome) => outcome.details)).toEqual(['', '', '', '']);
      // grpc-js's own two tries for each of the two calls, then each went to the other member.
      expect(refusing.streams()).toBe(4);
      expect([...echo.callsByPeer.values()].reduce((a, b) => a + b, 0)).toBe(4);
      const byTarget = Object.fromEntries(pool.members().map((m) => [m.target, m]));
      // A re-picked call leaves the refusing member's count as if never started there.
      expect(byTarget[refusing.url]).toMatchObject({
        callsStarted: 0,
        inFlight: 0,
        callsByStatus: {},
      });
      expect(byTarget[echo.url]).toMatchObject({
        callsStarted: 4,
        inFlight: 0,
        callsByStatus: { OK: 4 },
      });
      expect(pool.status()).toMatchObject({ callsStarted: 4, callsFailed: 0, inFlight: 0 });
      // A re-pick is not a pick handed to a user.
      expect(pool.status().picks - picksBefore).toBe(4);
    } finally {
      await app?.close();
      app = undefined;
      refusing.close();
      echo.stop();
    }
  });

  it('in a pool of one, is re-issued once on the same member after grpc-js gave up on it, and the call succeeds, counted once', async () => {
    // grpc-js retries a refused stream once itself; the pool's re-issue is the third try.
    const server = await refusingServer(2);
    try {
      const error = await oneCall(server.url);
      expect(error).toBeNull();
      expect(server.streams()).toBe(3);
      const [member] = app!.pool.members();
      expect(member).toMatchObject({ callsStarted: 1, inFlight: 0, callsByStatus: { OK: 1 } });
    } finally {
      server.close();
    }
  });

  it('refused again after the re-issue, it fails UNAVAILABLE (re-issued once only)', async () => {
    const server = await refusingServer(10);
    try {
      const error = await oneCall(server.url);
      expect(error).toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: 'Stream refused by server',
      });
      // grpc-js's two tries, then the pool's one.
      expect(server.streams()).toBe(4);
      expect(app!.pool.members()[0]).toMatchObject({ callsStarted: 1, inFlight: 0 });
    } finally {
      server.close();
    }
  });
});
