import type * as grpc from '@grpc/grpc-js';
import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoCall, lateness, SteadyLoad } from './calls.js';

/**
 * How long past its deadline a call may end on a busy 2-core machine: these tests tell a
 * call that ends at its deadline from one left hanging, so the slack is wide.
 */
const SLACK_MS = 1_000;

/**
 * `grpc.Server.tryShutdown` of an EchoServer: stop taking new calls (GOAWAY, listener
 * closed), let the running ones finish. EchoServer keeps its grpc-js server private and has
 * no graceful stop of its own, hence the cast.
 */
function tryShutdown(echo: EchoServer): Promise<void> {
  const server = (echo as unknown as { server: grpc.Server }).server;
  return new Promise((resolve, reject) =>
    server.tryShutdown((error) => (error ? reject(error) : resolve())),
  );
}

describe('server tryShutdown during load', () => {
  let leaving: EchoServer;
  let staying: EchoServer;
  let app: PoolApp;

  beforeEach(async () => {
    leaving = await EchoServer.start();
    staying = await EchoServer.start();
    app = await startPoolApp({
      url: [leaving.url, staying.url],
      size: 4,
      backoff: { initialMs: 100, maxMs: 300 },
    });
    await waitFor(() => app.pool.status().ready === 4, 'a full pool');
  });

  afterEach(async () => {
    await app.close();
    leaving.stop();
    staying.stop();
  });

  it('lets in-flight calls finish, sends new calls to the other server, and fails none but cleanly', async () => {
    const { pool } = app;
    const load = new SteadyLoad(() => pool.channel, 16, { delayMs: 50 }, { timeoutMs: 2_000 });
    // Slow calls on every member, so the leaving server has some in flight when it stops.
    const slow = Array.from({ length: 8 }, () =>
      echoCall(pool.getChannel(), { delayMs: 400 }, { timeoutMs: 2_000 }),
    );
    await waitFor(() => leaving.active >= 4, 'slow calls running on the leaving server');
    await sleep(50);

    const shutdown = tryShutdown(leaving);
    await waitFor(() => pool.status().ready === 2, "the leaving server's members to leave", 2_000);
    // Its members now fail to reconnect, and say why.
    await waitFor(
      () =>
        pool
          .status()
          .members.filter((member) => member.target === leaving.url)
          .every((member) => member.lastError?.includes('ECONNREFUSED')),
      'the leaving members to report ECONNREFUSED',
      2_000,
    );
    await shutdown;
    const afterShutdown = Date.now();
    await sleep(300);
    await load.stop();

    const slowOutcomes = await Promise.all(slow);
    expect(describeFailures(slowOutcomes)).toEqual([]);
    // tryShutdown waited for the slow calls on the leaving server: each had ended (OK) by
    // the time it resolved (an order of events, not a wall-clock bound).
    const onLeaving = slowOutcomes.filter((outcome) => leaving.peers.includes(outcome.peer!));
    expect(onLeaving.length).toBeGreaterThanOrEqual(4);
    expect(onLeaving.every((outcome) => outcome.endedAt <= afterShutdown)).toBe(true);
    const everything = [...load.outcomes, ...slowOutcomes];
    for (const outcome of everything) expect(lateness(outcome)).toBeLessThan(SLACK_MS);
    // A call that picked a leaving member in the instant it was told to go may fail, and
    // then only as UNAVAILABLE (never CANCELLED, INTERNAL or a hang).
    const failures = describeFailures(load.outcomes);
    expect(failures.every((failure) => failure.startsWith('UNAVAILABLE: '))).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(16);
    // Once the leaving server is gone, every call goes to the other one.
    const later = load.outcomes.filter((outcome) => outcome.startedAt > afterShutdown);
    expect(later.length).toBeGreaterThan(10);
    expect(describeFailures(later)).toEqual([]);
    const stayingPeers = new Set(
      pool
        .status()
        .members.filter((member) => member.target === staying.url)
        .map((member) => member.id),
    );
    expect(stayingPeers.size).toBe(2);
    expect(staying.peers.length).toBe(2);
    expect(later.every((outcome) => staying.peers.includes(outcome.peer!))).toBe(true);
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
  });
});
