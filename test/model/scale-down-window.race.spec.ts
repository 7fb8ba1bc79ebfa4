import * as grpc from '@grpc/grpc-js';
import type { PoolStrategyName } from 'nestjs-grpc-pool';
import { EchoClient, EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/**
 * A race a command-level model cannot hit: calls made in every microtask turn while a
 * scaleDown takes its victims out. Between the moment a victim stops taking calls of its
 * own and the moment it leaves the slot table, the strategy can still pick it; a call that
 * lands there must go to a live member, not back to the victim (with least-loaded or
 * power-of-two, an idle victim wins every pick: going back would recurse until the stack
 * overflows) and must not fail.
 */
const TURNS = 40;

type Outcome = 'ok' | string;

/** A unary call through `channel`; a synchronous throw counts as a failure too. */
function call(channel: grpc.ChannelInterface): Promise<Outcome> {
  const client = new EchoClient('ignored', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  return new Promise((resolve) => {
    try {
      client.Unary({ message: 'window' }, (error: grpc.ServiceError | null) =>
        resolve(error ? `${error.code} ${error.details}` : 'ok'),
      );
    } catch (error) {
      resolve(`threw ${(error as Error).name}: ${(error as Error).message}`);
    }
  });
}

describe.each<PoolStrategyName>(['least-loaded', 'power-of-two', 'round-robin', 'random'])(
  'calls in every microtask while scaleDown drains (%s)',
  (strategy) => {
    let server: EchoServer;
    let app: PoolApp;

    beforeAll(async () => {
      server = await EchoServer.start();
      app = await startPoolApp({ url: server.url, size: 4, strategy });
    });

    afterAll(async () => {
      await app.close();
      server.stop();
    });

    it.each([1, 2, 3])('scaleDown(%i) from 4: no call fails or recurses', async (n) => {
      await app.pool.resize(4);
      await waitFor(() => app.pool.status().ready === 4, 'four ready members');
      const outcomes: Array<Promise<Outcome>> = [];
      const scaling = app.pool.scaleDown(n);
      for (let turn = 0; turn < TURNS; turn++) {
        outcomes.push(call(app.pool.channel));
        const member = app.pool.tryGetChannel();
        if (member) outcomes.push(call(member));
        await Promise.resolve();
      }
      await expect(scaling).resolves.toBe(4 - n);
      const failures = (await Promise.all(outcomes)).filter((outcome) => outcome !== 'ok');
      expect(failures).toEqual([]);
      expect(app.pool.status()).toMatchObject({ size: 4 - n, inFlight: 0 });
    });
  },
);
