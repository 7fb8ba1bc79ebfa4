import * as grpc from '@grpc/grpc-js';
import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoBurst, openEndlessStream, SteadyLoad } from './calls.js';

/** 1,000 calls on a 50 ms handler finish in well under this on 2 cores. */
const DRAIN_TIMEOUT_MS = 4_000;
const IN_FLIGHT = 1_000;

describe('scaleDown, resize and shutdown with 1,000 calls in flight', () => {
  let server: EchoServer;
  let app: PoolApp;
  let closed = false;

  beforeEach(async () => {
    server = await EchoServer.start();
    closed = false;
  });

  afterEach(async () => {
    if (!closed) await app.close();
    server.stop();
  });

  const start = async (drainTimeoutMs = DRAIN_TIMEOUT_MS) => {
    app = await startPoolApp({ url: server.url, size: 4, drainTimeoutMs });
    await waitFor(() => app.pool.status().ready === 4, 'a full pool');
    return app.pool;
  };

  it('scaleDown fails no call: in flight on the removed members or started meanwhile', async () => {
    const pool = await start();
    const burst = echoBurst(pool.channel, IN_FLIGHT, { delayMs: 50 }, { timeoutMs: 20_000 });
    expect(pool.status().inFlight).toBe(IN_FLIGHT);
    const load = new SteadyLoad(() => pool.channel, 8, { delayMs: 10 }, { timeoutMs: 5_000 });

    const started = Date.now();
    await expect(pool.scaleDown(3)).resolves.toBe(1);
    // The removed members' calls all finished: nothing waited for the drain timeout.
    expect(Date.now() - started).toBeLessThan(DRAIN_TIMEOUT_MS);
    await load.stop();

    expect(describeFailures(await burst)).toEqual([]);
    expect(describeFailures(load.outcomes)).toEqual([]);
    expect(pool.status()).toMatchObject({ size: 1, ready: 1 });
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
  });

  it('resize down and back up fails no call', async () => {
    const pool = await start();
    const first = echoBurst(pool.channel, IN_FLIGHT, { delayMs: 50 }, { timeoutMs: 20_000 });
    await expect(pool.resize(2)).resolves.toBe(2);
    const second = echoBurst(pool.channel, IN_FLIGHT, { delayMs: 50 }, { timeoutMs: 20_000 });
    await expect(pool.resize(5)).resolves.toBe(5);
    await expect(pool.resize(1)).resolves.toBe(1);

    expect(describeFailures([...(await first), ...(await second)])).toEqual([]);
    expect(pool.status().size).toBe(1);
  });

  it('application shutdown (app.close) lets every call in flight finish', async () => {
    const pool = await start();
    const burst = echoBurst(pool.channel, IN_FLIGHT, { delayMs: 50 }, { timeoutMs: 20_000 });
    await waitFor(() => server.active > 0, 'calls at the server');

    const started = Date.now();
    await app.close();
    closed = true;
    expect(Date.now() - started).toBeLessThan(DRAIN_TIMEOUT_MS);

    const outcomes = await burst;
    expect(describeFailures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(IN_FLIGHT);
    expect(pool.status()).toMatchObject({ closed: true, inFlight: 0 });
  });

  it('shutdown cancels endless streams once drainTimeoutMs passes, naming the pool and the timeout', async () => {
    // Long enough for 1,000 calls on 2 busy cores (about 1 s), far shorter than a stream.
    const drainTimeoutMs = 2_500;
    const pool = await start(drainTimeoutMs);
    const streams = Array.from({ length: 8 }, () => openEndlessStream(pool.channel));
    await waitFor(() => streams.every((stream) => stream.received() > 0), 'every stream flowing');
    const burst = echoBurst(pool.channel, IN_FLIGHT, { delayMs: 50 }, { timeoutMs: 20_000 });

    const closing = Date.now();
    await app.close();
    closed = true;
    const took = Date.now() - closing;

    expect(describeFailures(await burst)).toEqual([]);
    for (const stream of streams) {
      const end = await stream.ended;
      expect(end.code).toBe(grpc.status.CANCELLED);
      expect(end.details).toBe(
        `gRPC pool "default" shut down and its drainTimeoutMs (${drainTimeoutMs} ms) passed`,
      );
      expect(end.at - closing).toBeGreaterThanOrEqual(drainTimeoutMs - 10);
    }
    expect(took).toBeGreaterThanOrEqual(drainTimeoutMs - 10);
    expect(took).toBeLessThan(drainTimeoutMs + 1_000);
    expect(pool.status().inFlight).toBe(0);
    await waitFor(() => server.active === 0, 'the server to see every stream end');
  });

  it("scaleDown cancels only the removed members' streams, after drainTimeoutMs; the others flow on", async () => {
    const drainTimeoutMs = 500;
    const pool = await start(drainTimeoutMs);
    // Round-robin: two streams on each member.
    const streams = Array.from({ length: 8 }, () => openEndlessStream(pool.channel));
    await waitFor(() => streams.every((stream) => stream.received() > 0), 'every stream flowing');

    const started = Date.now();
    await expect(pool.scaleDown(2)).resolves.toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(drainTimeoutMs - 10);

    const ends = await Promise.all(
      streams.map((stream) => Promise.race([stream.ended, sleep(200).then(() => undefined)])),
    );
    const cancelled = ends.filter((end) => end !== undefined);
    expect(cancelled).toHaveLength(4);
    for (const end of cancelled) {
      expect(end).toMatchObject({
        code: grpc.status.CANCELLED,
        details: `gRPC pool "default" scaled down and its drainTimeoutMs (${drainTimeoutMs} ms) passed`,
      });
    }
    const alive = streams.filter((_, i) => ends[i] === undefined);
    const counts = alive.map((stream) => stream.received());
    await sleep(150);
    alive.forEach((stream, i) => expect(stream.received()).toBeGreaterThan(counts[i]));
    expect(pool.status().inFlight).toBe(4);
  });
});
