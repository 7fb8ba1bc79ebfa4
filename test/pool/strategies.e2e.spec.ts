import type { PoolStrategyName } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

describe('load-aware strategies against a real server', () => {
  let server: EchoServer;
  let app: PoolApp;

  beforeAll(async () => {
    server = await EchoServer.start();
  });

  afterAll(() => server.stop());

  afterEach(() => app.close());

  it.each<PoolStrategyName>(['power-of-two', 'least-loaded'])(
    '%s sends new calls away from a member busy with slow calls',
    async (strategy) => {
      app = await startPoolApp({ url: server.url, size: 2, strategy });
      await waitFor(() => app.pool.status().ready === 2, 'two ready members');

      // Pin 20 slow calls on one member by taking its channel once.
      const busy = app.pool.getChannel();
      const slow = Array.from({ length: 20 }, () => unary(busy, { delayMs: 400 }));
      await waitFor(() => app.pool.status().inFlight === 20, '20 slow calls in flight');

      const picks = Array.from({ length: 50 }, () => app.pool.getChannel());
      expect(picks.filter((channel) => channel === busy)).toHaveLength(0);

      // Under a burst, the load-aware pick keeps the two members within a few calls of each other.
      const burst = Array.from({ length: 40 }, () =>
        unary(app.pool.getChannel(), { delayMs: 100 }),
      );
      const loads = app.pool.status().members.map((member) => member.inFlight);
      expect(Math.abs(loads[0] - loads[1])).toBeLessThanOrEqual(1);
      await Promise.all([...slow, ...burst]);
    },
  );

  it('round-robin ignores load: it alternates even when one member is busy', async () => {
    app = await startPoolApp({ url: server.url, size: 2 });
    await waitFor(() => app.pool.status().ready === 2, 'two ready members');
    const busy = app.pool.getChannel();
    const slow = Array.from({ length: 5 }, () => unary(busy, { delayMs: 200 }));
    const picks = Array.from({ length: 10 }, () => app.pool.getChannel());
    expect(picks.filter((channel) => channel === busy)).toHaveLength(5);
    await Promise.all(slow);
  });
});
