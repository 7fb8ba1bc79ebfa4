import * as grpc from '@grpc/grpc-js';
import { PoolArgumentError } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/** Keeps `concurrency` unary calls in flight until stopped; counts outcomes. */
function steadyLoad(app: PoolApp, concurrency: number, delayMs: number) {
  const failures: unknown[] = [];
  let ok = 0;
  let running = true;
  const loop = async () => {
    // Bounded: stops when told, or after 20,000 calls per loop at the latest.
    for (let i = 0; running && i < 20_000; i++) {
      try {
        await unary(app.pool.getChannel(), { delayMs }, { deadline: Date.now() + 5_000 });
        ok++;
      } catch (error) {
        failures.push(error);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    failures,
    get ok() {
      return ok;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('scaling under load', () => {
  let server: EchoServer;
  let app: PoolApp;

  beforeEach(async () => {
    server = await EchoServer.start();
  });

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('scaleUp, scaleDown and resize with calls in flight fail no call', async () => {
    app = await startPoolApp({ url: server.url, size: 2, drainTimeoutMs: 5_000 });
    await waitFor(() => app.pool.status().ready === 2, 'two ready members');
    const load = steadyLoad(app, 50, 5);

    await expect(app.pool.scaleUp(4)).resolves.toBe(6);
    await waitFor(() => app.pool.status().ready === 6, 'six ready members');
    await expect(app.pool.scaleDown(3)).resolves.toBe(3);
    await expect(app.pool.resize(5)).resolves.toBe(5);
    await waitFor(() => app.pool.status().ready === 5, 'five ready members');
    await expect(app.pool.resize(1)).resolves.toBe(1);
    await load.stop();

    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(100);
    expect(app.pool.status()).toMatchObject({ size: 1, ready: 1, inFlight: 0 });
  });

  it('concurrent scale operations run one at a time and land on the last size asked', async () => {
    app = await startPoolApp({ url: server.url, size: 2 });
    const sizes = await Promise.all([
      app.pool.scaleUp(3),
      app.pool.scaleDown(1),
      app.pool.resize(8),
      app.pool.scaleDown(6),
    ]);
    expect(sizes).toEqual([5, 4, 8, 2]);
    await waitFor(() => app.pool.status().ready === 2, 'two ready members');
    expect(app.pool.members()).toHaveLength(2);
  });

  it('scaleDown removes idle members before busy ones', async () => {
    app = await startPoolApp({ url: server.url, size: 3, strategy: 'round-robin' });
    await waitFor(() => app.pool.status().ready === 3, 'three ready members');
    const busy = app.pool.getChannel();
    const slow = unary(busy, { delayMs: 300 });
    await waitFor(() => app.pool.status().inFlight === 1, 'one call in flight');
    const busyId = app.pool.members().find((member) => member.inFlight === 1)!.id;
    await app.pool.scaleDown(2);
    expect(app.pool.members().map((member) => member.id)).toEqual([busyId]);
    await expect(slow).resolves.toBeDefined();
  });

  it('rejects bad scale arguments with PoolArgumentError naming the method and the range', async () => {
    app = await startPoolApp({ url: server.url, size: 2 });
    await expect(app.pool.scaleDown(2)).rejects.toThrow(
      new PoolArgumentError(
        'default',
        'scaleDown(n)',
        'got 2: expected a whole number from 1 to 1 (pool size is 2)',
      ),
    );
    await expect(app.pool.scaleUp(0)).rejects.toThrow(
      /scaleUp\(n\) got 0: expected a whole number from 1 to 1022/,
    );
    await expect(app.pool.resize(Number.NaN)).rejects.toThrow(PoolArgumentError);
    await expect(app.pool.resize('3' as unknown as number)).rejects.toThrow(
      /resize\(size\) got "3"/,
    );
    expect(app.pool.status().size).toBe(2);
  });

  it('shutdown lets calls in flight finish within drainTimeoutMs and cancels the rest after it', async () => {
    app = await startPoolApp({ url: server.url, size: 2, drainTimeoutMs: 400 });
    await waitFor(() => app.pool.status().ready === 2, 'two ready members');
    const quick = Array.from({ length: 20 }, () => unary(app.pool.getChannel(), { delayMs: 100 }));
    const slow = Promise.allSettled(
      Array.from({ length: 4 }, () => unary(app.pool.getChannel(), { delayMs: 3_000 })),
    );
    await waitFor(() => server.active === 24, 'every call at the server');

    const started = Date.now();
    await app.close();
    const took = Date.now() - started;

    await expect(Promise.all(quick)).resolves.toHaveLength(20);
    for (const outcome of await slow) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: {
          code: grpc.status.CANCELLED,
          details: expect.stringMatching(/shut down.*drainTimeoutMs \(400 ms\)/),
        },
      });
    }
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(2_500);
  });
});
