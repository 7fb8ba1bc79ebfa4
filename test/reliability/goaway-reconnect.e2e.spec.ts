import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoCall, type CallOutcome } from './calls.js';

/**
 * A server that ends every connection after 200 ms with a GOAWAY (nginx
 * `keepalive_requests`, Envoy's max requests per connection and short max ages do the same
 * under load). Its connections live less than the initial reconnect backoff (1 s), but they
 * are healthy: each must reconnect at once, not be held back as a server that hangs up.
 */
describe('short-lived healthy connections (regression: GOAWAY treated as a hang-up)', () => {
  let server: EchoServer;
  let app: PoolApp;

  afterEach(async () => {
    await app?.close();
    server.stop();
  });

  it('200 callers on getChannel() for 10 s find no member ready in under 1 % of samples, and no call through pool.channel fails', async () => {
    server = await EchoServer.start({
      serverOptions: {
        'grpc.max_connection_age_ms': 200,
        'grpc.max_connection_age_grace_ms': 2_000,
      },
    });
    // Default backoff (initialMs 1,000): the defect held reconnects back by about that long.
    app = await startPoolApp({ url: server.url, size: 4 });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 4, 'a full pool');

    let samples = 0;
    let noMember = 0;
    const outcomes: CallOutcome[] = [];
    const until = Date.now() + 10_000;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (Date.now() < until) {
          samples++;
          if (pool.tryGetChannel() === undefined) {
            noMember++;
          }
          outcomes.push(await echoCall(pool.channel, { delayMs: 100 }, { timeoutMs: 5_000 }));
        }
      }),
    );
    // Every member was sent away many times meanwhile (about 50 times each).
    expect(
      pool.status().members.reduce((sum, member) => sum + member.disconnects, 0),
    ).toBeGreaterThan(40);
    expect(describeFailures(outcomes)).toEqual([]);
    expect(samples).toBeGreaterThan(2_000);
    const share = noMember / samples;
    console.log(
      `no member ready in ${noMember} of ${samples} samples (${(share * 100).toFixed(2)} %)`,
    );
    expect(share).toBeLessThan(0.01);
  });
});
