import type { PoolService, PoolStrategyName } from 'nestjs-grpc-pool';
import { EchoServer, unary } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/**
 * The latency-aware strategy against two real servers on 127.0.0.1, one of which is slowed
 * down and sped up again mid-run. `peakEwma.tauMs` is scaled down 10x (1 s instead of 10 s,
 * an internal tuning option), so the recovery that the benchmark times in seconds at
 * tau = 10 s takes a tenth of that here; every wait is counted in calls, bounded in time.
 */
const TAU_MS = 1_000;
const IN_FLIGHT = 8;
const WINDOW_CALLS = 200;
const SLOW_MS = 100;

/** Runs `calls` unary calls on the pool, `IN_FLIGHT` at a time (each end starts the next). */
async function closedLoop(pool: PoolService, calls: number): Promise<void> {
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < calls) {
      issued++;
      await unary(pool.channel, { message: 'x', delayMs: 2 });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** Windows of `WINDOW_CALLS` calls until `done(share of calls on server)`, or throws after `timeoutMs`. */
async function windowsUntil(
  pool: PoolService,
  fast: EchoServer,
  watched: EchoServer,
  done: (share: number) => boolean,
  what: string,
  timeoutMs: number,
): Promise<{ share: number; ms: number; windows: number[] }> {
  const started = performance.now();
  const windows: number[] = [];
  for (;;) {
    const before = [total(watched), total(fast)];
    await closedLoop(pool, WINDOW_CALLS);
    const onWatched = total(watched) - before[0];
    const share = onWatched / (onWatched + total(fast) - before[1]);
    windows.push(Math.round(share * 100));
    const ms = performance.now() - started;
    if (done(share)) {
      return { share, ms, windows };
    }
    if (ms > timeoutMs) {
      throw new Error(`${what}: not within ${timeoutMs} ms; shares by window: ${windows}%`);
    }
  }
}

function total(server: EchoServer): number {
  let calls = 0;
  for (const count of server.callsByPeer.values()) calls += count;
  return calls;
}

describe("strategy 'peak-ewma' against two real servers", () => {
  let fast: EchoServer;
  let other: EchoServer;
  let app: PoolApp | undefined;

  beforeEach(async () => {
    fast = await EchoServer.start();
    other = await EchoServer.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    fast.stop();
    other.stop();
  });

  async function startPool(strategy: PoolStrategyName): Promise<PoolService> {
    app = await startPoolApp({
      url: [fast.url, other.url],
      size: 4,
      strategy,
      ...(strategy === 'peak-ewma' && { peakEwma: { tauMs: TAU_MS, decayIntervalMs: 50 } }),
    });
    await app.pool.awaitReady();
    await closedLoop(app.pool, 4 * IN_FLIGHT); // every member connected and measured
    return app.pool;
  }

  it('moves calls away from a backend that slows down, and back when it is fast again', async () => {
    const pool = await startPool('peak-ewma');
    // Both fast: both get calls.
    const even = await windowsUntil(pool, fast, other, () => true, 'balanced', 0);
    expect(even.share).toBeGreaterThan(0.2);
    expect(even.share).toBeLessThan(0.8);

    other.extraDelayMs = SLOW_MS;
    // A slow answer raises its members' cost at once: expected within the first windows.
    const away = await windowsUntil(
      pool,
      fast,
      other,
      (share) => share < 0.1,
      'share of the slowed backend below 10 %',
      5 * TAU_MS,
    );
    const slowMember = pool.status().members.find((m) => m.target === other.url);
    expect(slowMember?.latencyMs).toBeGreaterThan(SLOW_MS / 2);

    other.extraDelayMs = 0;
    // Back: its members' costs decay toward 0 on the pool's timer, get tried, answer fast.
    // The benchmark's bound is 30 s at tau = 10 s: 3 s here, with a 5x margin.
    const back = await windowsUntil(
      pool,
      fast,
      other,
      (share) => share > 0.3,
      'share of the recovered backend back above 30 %',
      5 * 3 * TAU_MS,
    );
    process.stdout.write(
      `peak-ewma e2e: away after ${Math.round(away.ms)} ms (windows ${away.windows}%), back after ${Math.round(back.ms)} ms (windows ${back.windows}%)\n`,
    );
  }, 60_000);

  it('round-robin, for contrast, keeps sending half the calls to the slow backend', async () => {
    const pool = await startPool('round-robin');
    other.extraDelayMs = SLOW_MS;
    const slowed = await windowsUntil(pool, fast, other, () => true, 'one window', 0);
    expect(slowed.share).toBeGreaterThan(0.4);
  }, 30_000);

  it('shows each member’s latency in status() only for peak-ewma pools', async () => {
    const pool = await startPool('peak-ewma');
    for (const member of pool.status().members) {
      expect(member.latencyMs).toBeGreaterThan(0);
    }
    await app?.close();
    app = undefined;
    const plain = await startPool('least-loaded');
    expect(plain.status().members.every((member) => member.latencyMs === undefined)).toBe(true);
  }, 30_000);
});
