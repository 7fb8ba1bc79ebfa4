import * as grpc from '@grpc/grpc-js';
import { PoolClosedError } from 'nestjs-grpc-pool';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { echoCall } from '../reliability/calls.js';

/** Orchestrators size their grace period to the drain: shutdown must not take two. */
describe('close() while a scale-down drains (regression: up to twice drainTimeoutMs)', () => {
  let server: EchoServer;
  let app: PoolApp;

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('finishes within drainTimeoutMs plus a small constant; the scale-down settles; draining members stay in status()', async () => {
    const drainTimeoutMs = 5_000;
    server = await EchoServer.start();
    app = await startPoolApp({ url: server.url, size: 4, drainTimeoutMs });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 4, 'a full pool');
    // One call on each member that outlives every drain.
    const calls = [0, 1, 2, 3].map(() =>
      echoCall(pool.getChannel(), { delayMs: 60_000 }, { timeoutMs: 120_000 }),
    );
    await waitFor(() => server.active === 4, 'four calls at the server');

    const scaleDown = pool.scaleDown(2).then(
      (size) => ({ size }),
      (error: unknown) => ({ error }),
    );
    await waitFor(
      () => pool.status().members.filter((member) => member.draining).length === 2,
      'two members draining',
    );
    // While they drain, their calls are still counted and shown.
    expect(pool.status().inFlight).toBe(4);
    expect(pool.status().members).toHaveLength(4);

    const started = Date.now();
    await pool.close();
    const closeMs = Date.now() - started;
    console.log(
      `close() during a scale-down drain took ${closeMs} ms (drainTimeoutMs ${drainTimeoutMs})`,
    );
    // Before the fix: the scale-down's whole drain, then close()'s own (about 2x).
    expect(closeMs).toBeLessThan(drainTimeoutMs + 2_500);

    const settled = await scaleDown;
    expect('error' in settled ? settled.error : settled).toBeInstanceOf(PoolClosedError);
    const outcomes = await Promise.all(calls);
    expect(outcomes.map((outcome) => outcome.code)).toEqual(
      new Array(4).fill(grpc.status.CANCELLED),
    );
    expect(pool.status().members).toEqual([]);
  });
});
