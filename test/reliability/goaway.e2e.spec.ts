import { EchoServer, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoCall, SteadyLoad } from './calls.js';

describe('server GOAWAY (grpc.max_connection_age_ms) under steady load', () => {
  let server: EchoServer;
  let proxy: FaultProxy;
  let app: PoolApp;

  afterEach(async () => {
    await app.close();
    await proxy.stop();
    server.stop();
  });

  it('fails no call while the server keeps ending connections', async () => {
    server = await EchoServer.start({
      serverOptions: {
        // grpc-js adds ±10 % jitter to the age; the grace covers a 50 ms call many times over.
        'grpc.max_connection_age_ms': 300,
        'grpc.max_connection_age_grace_ms': 1_000,
      },
    });
    proxy = await FaultProxy.start({ targetPort: server.port });
    app = await startPoolApp({
      url: proxy.url,
      size: 3,
      backoff: { initialMs: 100, maxMs: 300 },
    });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 3, 'a full pool');

    const viaPool = new SteadyLoad(() => pool.channel, 12, { delayMs: 50 }, { timeoutMs: 3_000 });
    // Members connected together are sent away together: there are instants with none
    // ready, when getChannel() throws PoolNotReadyError as documented. tryGetChannel() with
    // pool.channel as the fallback (it queues the call on a reconnecting member) never fails.
    const viaMember = new SteadyLoad(
      () => pool.tryGetChannel() ?? pool.channel,
      6,
      { delayMs: 20 },
      { timeoutMs: 3_000 },
    );
    // Every member sent away at least three times (waited for, not slept for)...
    await waitFor(() => proxy.accepted >= 3 * 4, 'every member sent away three times');
    await Promise.all([viaPool.stop(), viaMember.stop()]);

    // (At any instant one member may be between connections: wait for all three.)
    await waitFor(() => pool.status().ready === 3, 'every member ready again');
    // ...and not one call failed.
    expect(describeFailures([...viaPool.outcomes, ...viaMember.outcomes])).toEqual([]);
    expect(viaPool.ok + viaMember.ok).toBeGreaterThan(100);
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
  });

  it('a long call outlives its connection GOAWAY within the grace period', async () => {
    server = await EchoServer.start({
      serverOptions: {
        'grpc.max_connection_age_ms': 200,
        'grpc.max_connection_age_grace_ms': 2_000,
      },
    });
    proxy = await FaultProxy.start({ targetPort: server.port });
    app = await startPoolApp({ url: proxy.url, size: 2 });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 2, 'a full pool');
    // Two 700 ms calls in a row on each of four loops: each spans a 200 ms connection age.
    const outcomes = (
      await Promise.all(
        Array.from({ length: 4 }, async () => [
          await echoCall(pool.channel, { delayMs: 700 }, { timeoutMs: 3_000 }),
          await echoCall(pool.channel, { delayMs: 700 }, { timeoutMs: 3_000 }),
        ]),
      )
    ).flat();
    expect(describeFailures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(8);
    // The connections the first calls went over had been told to go away meanwhile.
    expect(proxy.accepted).toBeGreaterThan(2);
  });
});
