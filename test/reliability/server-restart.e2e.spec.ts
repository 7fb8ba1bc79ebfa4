import * as grpc from '@grpc/grpc-js';
import { PoolNotReadyError } from 'nestjs-grpc-pool';
import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoCall, lateness, type CallOutcome } from './calls.js';

/**
 * How long past its deadline a call may end on a busy 2-core machine: these tests tell a
 * call that ends at its deadline from one left hanging, so the slack is wide.
 */
const SLACK_MS = 1_000;
const BACKOFF = { initialMs: 100, maxMs: 300 };
/**
 * How a call the server was handling ends when it is killed: `forceShutdown` resets each
 * stream with RST_STREAM(CANCEL), which grpc-js reports as CANCELLED "Call cancelled".
 */
const KILLED_AT_THE_SERVER = { ok: false, code: grpc.status.CANCELLED, details: 'Call cancelled' };

describe('server killed and restarted on the same port', () => {
  let server: EchoServer;
  let app: PoolApp;

  beforeEach(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({ url: server.url, size: 4, backoff: BACKOFF });
    await waitFor(() => app.pool.status().ready === 4, 'a full pool');
  });

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('fails calls in the gap fast with UNAVAILABLE, keeps waitForReady calls until it is back, and refills within the backoff', async () => {
    const { pool } = app;
    const inFlight = Array.from({ length: 20 }, () =>
      echoCall(pool.channel, { delayMs: 2_000 }, { timeoutMs: 5_000 }),
    );
    await waitFor(() => server.active === 20, 'calls in flight at the server');

    server.stop();
    const killedAt = Date.now();
    for (const outcome of await Promise.all(inFlight)) {
      expect(outcome).toMatchObject(KILLED_AT_THE_SERVER);
      expect(outcome.endedAt - killedAt).toBeLessThan(1_000);
    }
    await waitFor(() => pool.status().ready === 0, 'every member out of the slot table');
    expect(() => pool.getChannel()).toThrow(PoolNotReadyError);

    const waiting = Array.from({ length: 8 }, (_, i) =>
      echoCall(pool.channel, { message: `waited ${i}` }, { timeoutMs: 5_000, waitForReady: true }),
    );
    const waitingTooShort = Array.from({ length: 4 }, () =>
      echoCall(pool.channel, {}, { timeoutMs: 200, waitForReady: true }),
    );
    const gap = [];
    for (let i = 0; i < 10; i++) {
      gap.push(await echoCall(pool.channel, {}, { timeoutMs: 10_000 }));
    }
    for (const outcome of gap) {
      expect(outcome).toMatchObject({
        ok: false,
        code: grpc.status.UNAVAILABLE,
        details: expect.stringContaining('ECONNREFUSED'),
      });
      // Fast: no wait for the deadline, at most one connection attempt to a closed port
      // (maxMs +20 % jitter, with a 5x margin for a loaded machine).
      expect(outcome.endedAt - outcome.startedAt).toBeLessThan(5 * BACKOFF.maxMs * 1.2);
    }
    for (const outcome of await Promise.all(waitingTooShort)) {
      expect(outcome).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
      expect(lateness(outcome)).toBeLessThan(SLACK_MS);
    }
    expect(
      pool.status().members.every((member) => member.lastError?.includes('ECONNREFUSED')),
    ).toBe(true);

    await server.listen();
    const restartedAt = Date.now();
    await waitFor(() => pool.status().ready === 4, 'the pool to refill');
    // Each member's next attempt comes within maxMs (+20 % jitter) of its last failure; a
    // 5x margin for a loaded machine.
    expect(Date.now() - restartedAt).toBeLessThan(5 * BACKOFF.maxMs * 1.2);

    const waited = await Promise.all(waiting);
    expect(describeFailures(waited)).toEqual([]);
    for (const outcome of waited) expect(lateness(outcome)).toBeLessThan(0);

    const after = await Promise.all(
      Array.from({ length: 8 }, () => echoCall(pool.channel, {}, { timeoutMs: 2_000 })),
    );
    expect(describeFailures(after)).toEqual([]);
    expect(new Set(after.map((outcome) => outcome.peer)).size).toBe(4);
    await waitFor(() => pool.status().inFlight === 0, 'no call left in flight');
  });

  it('no call under steady load runs past its deadline across a kill and a restart', async () => {
    const { pool } = app;
    const outcomes: Promise<CallOutcome>[] = [];
    let running = true;
    const loops = Array.from({ length: 10 }, async (_, loop) => {
      for (let i = 0; running && i < 2_000; i++) {
        const call = echoCall(
          pool.channel,
          { delayMs: 20 },
          { timeoutMs: 400, waitForReady: loop % 2 === 0 },
        );
        outcomes.push(call);
        await call;
      }
    });
    await sleep(200);
    server.stop();
    const killedAt = Date.now();
    await sleep(500);
    await server.listen();
    const restartedAt = Date.now();
    await waitFor(() => pool.status().ready === 4, 'the pool to refill', 5_000);
    await sleep(200);
    running = false;
    await Promise.all(loops);

    const settled = await Promise.all(outcomes);
    const unexpected = describeFailures(settled).filter(
      (failure) =>
        !/^(UNAVAILABLE|DEADLINE_EXCEEDED): /.test(failure) &&
        failure !== 'CANCELLED: Call cancelled',
    );
    expect(unexpected).toEqual([]);
    for (const outcome of settled) expect(lateness(outcome)).toBeLessThan(SLACK_MS);
    // Calls went through before the kill and after the restart.
    expect(settled.some((outcome) => outcome.ok && outcome.endedAt < killedAt)).toBe(true);
    expect(settled.some((outcome) => outcome.ok && outcome.startedAt > restartedAt)).toBe(true);
    await waitFor(() => pool.status().inFlight === 0, 'no call left in flight');
  });
});
