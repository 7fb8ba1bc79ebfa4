import { PoolArgumentError, POOL_EVENTS, type AutoscaleDecisionEvent } from 'nestjs-grpc-pool';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, SteadyLoad } from '../reliability/calls.js';
import { collect } from './events.js';

/**
 * Autoscaling against a real server whose connections carry 4 streams at once
 * (`grpc.max_concurrent_streams`), with `streamsPerMember: 4`: the stream cap binds at a
 * few calls, so growth and shrink show in seconds.
 */
describe('autoscale (server capped at 4 streams per connection)', () => {
  let server: EchoServer;
  let app: PoolApp | undefined;
  let decisions: ReturnType<typeof collect<AutoscaleDecisionEvent>>;

  beforeEach(async () => {
    server = await EchoServer.start({ serverOptions: { 'grpc.max_concurrent_streams': 4 } });
    decisions = collect<AutoscaleDecisionEvent>(POOL_EVENTS.autoscaleDecision);
  });

  afterEach(async () => {
    decisions.stop();
    await app?.close();
    app = undefined;
    server.stop();
  });

  it('a burst grows the pool one member at a time up to max and never past it, failing no call', async () => {
    app = await startPoolApp({
      url: server.url,
      autoscale: { min: 1, max: 3, streamsPerMember: 4, cooldownMs: 50, sampleIntervalMs: 60_000 },
    });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 1, 'the first member');
    expect(pool.status().size).toBe(1);
    // 24 calls in flight want 6 members; max is 3.
    const load = new SteadyLoad(
      () => pool.channel,
      24,
      { delayMs: 100 },
      { timeoutMs: 20_000 },
      200,
    );
    const burstAt = Date.now();
    await waitFor(() => pool.status().ready === 3, 'three ready members', 15_000);
    console.log(JSON.stringify({ autoscaleBurst: { from: 1, to: 3, ms: Date.now() - burstAt } }));
    // Past max the busy members keep asking; give them many calls to try.
    const startedAt = pool.status().callsStarted;
    await waitFor(() => pool.status().callsStarted > startedAt + 200, '200 more calls', 15_000);
    await load.stop();

    expect(describeFailures(load.outcomes)).toEqual([]);
    expect(pool.status().size).toBe(3);
    const ups = decisions.events.filter((event) => event.action === 'scale-up');
    expect(ups.map((event) => [event.from, event.to])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    for (const event of ups) {
      expect(event.threshold).toBeGreaterThanOrEqual(3); // the mark: ceil(0.7 x 4)
      expect(event.reason).toMatch(/least-loaded ready member has \d+ calls in flight >= mark 3/);
    }
    expect(pool.status().autoscale).toMatchObject({
      min: 1,
      max: 3,
      mark: 3,
      lastDecision: { action: 'scale-up', from: 2, to: 3 },
    });
  });

  it('holds at a steady load between the marks, then shrinks to min after the load ends, one windowed step at a time', async () => {
    app = await startPoolApp({
      url: server.url,
      size: 3,
      // mark 3 to grow; a member fewer must fit at <= 0.6 x 4 each to shrink.
      autoscale: { min: 1, max: 4, streamsPerMember: 4, sampleIntervalMs: 200, windows: 2 },
    });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 3, 'three ready members');
    // 6 in flight: 2 per member (< mark 3: no growth); 2 members would need 3 each (> 2.4: no shrink).
    const load = new SteadyLoad(
      () => pool.channel,
      6,
      { delayMs: 20 },
      { timeoutMs: 10_000 },
      5_000,
    );
    const windowsBefore = Date.now();
    // Ten shrink windows (2 s) at the boundary.
    await waitFor(() => Date.now() - windowsBefore > 2_000, 'ten windows', 10_000);
    expect(decisions.events).toEqual([]);
    expect(pool.status().size).toBe(3);
    await load.stop();
    expect(describeFailures(load.outcomes)).toEqual([]);

    await waitFor(() => pool.status().size === 1, 'the pool back at min', 20_000);
    await waitFor(() => pool.status().members.length === 1, 'the drained members closed');
    expect(decisions.events.map((event) => [event.action, event.from, event.to])).toEqual([
      ['scale-down', 3, 2],
      ['scale-down', 2, 1],
    ]);
    expect(decisions.events[0].reason).toMatch(/in 2 window\(s\) in a row fits 2 member\(s\)/);
    // Never below min, however long the pool stays idle: three more shrink rounds.
    const idleSince = Date.now();
    await waitFor(() => Date.now() - idleSince > 1_200, 'three more shrink rounds');
    expect(pool.status().size).toBe(1);
    expect(decisions.events).toHaveLength(2);
  });

  it('manual scaling stays within [min, max] unless asked to move the bounds', async () => {
    app = await startPoolApp({ url: server.url, autoscale: { min: 2, max: 4 } });
    const { pool } = app;
    expect(pool.status().size).toBe(2);
    await expect(pool.resize(5)).rejects.toThrow(PoolArgumentError);
    await expect(pool.resize(5)).rejects.toThrow(
      /resize\(size\) would make the pool 5 member\(s\), outside its autoscale bounds \[2, 4\].*moveBounds/,
    );
    await expect(pool.scaleDown(1)).rejects.toThrow(/outside its autoscale bounds \[2, 4\]/);
    await expect(pool.scaleUp(2)).resolves.toBe(4);
    await expect(pool.resize(6, { moveBounds: true })).resolves.toBe(6);
    await expect(pool.resize(1, { moveBounds: true })).resolves.toBe(1);
    expect(pool.status().autoscale).toMatchObject({ min: 1, max: 6 });
  });
});
