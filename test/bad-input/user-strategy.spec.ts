import * as grpc from '@grpc/grpc-js';
import type { PoolStrategy } from 'nestjs-grpc-pool';
import { EchoClient, EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { errorProblems, outcomeOf, titleOf } from './expect-error.js';

/**
 * A user's strategy that returns an index it must not: every way of picking a member
 * (getChannel, tryGetChannel, a call on pool.channel) fails with a RangeError that names the
 * pool, the strategy, what it returned and the allowed range, not with a TypeError from
 * reading `undefined.createCall` deep inside. The pool stays sound: nothing is counted.
 */
const POOL = 'bad';
const COUNT = 2;

/** What the strategy returns, and how the message must show it (a regex source). */
const BAD_PICKS: ReadonlyArray<readonly [unknown, string]> = [
  [COUNT, '2'],
  [7, '7'],
  [-1, '-1'],
  [1.5, '1\\.5'],
  [NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [2 ** 32, '4294967296'],
  ['0', '"0"'],
  [undefined, 'undefined'],
  [null, 'null'],
  [0n, '0n'],
];

describe('a user strategy that picks out of range', () => {
  let server: EchoServer;
  let app: PoolApp;
  let returns: unknown = 0;
  const strategy: PoolStrategy = { name: 'bad-pick', pick: () => returns as number };

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({ name: POOL, url: server.url, size: COUNT, strategy });
    await waitFor(() => app.pool.status().ready === COUNT, 'a full pool');
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  afterEach(() => {
    returns = 0;
    expect(app.pool.status()).toMatchObject({ ready: COUNT, inFlight: 0, strategy: 'bad-pick' });
  });

  describe.each(BAD_PICKS.map(([value, shown]) => [titleOf(value), value, shown] as const))(
    'pick() returns %s',
    (_title, value, shown) => {
      const expected = {
        type: RangeError,
        message: new RegExp(
          `^gRPC pool "${POOL}": strategy "bad-pick" picked ${shown}; pick\\(\\) must return a whole number from 0 to count-1 \\(count was ${COUNT}\\)$`,
        ),
      };

      it.each([
        ['getChannel()', () => app.pool.getChannel()],
        ['tryGetChannel()', () => app.pool.tryGetChannel()],
      ])('%s throws a RangeError naming pool and strategy', async (_call, run) => {
        returns = value;
        expect(errorProblems(await outcomeOf(run), { ...expected, how: 'threw' })).toEqual([]);
      });

      it('a call on pool.channel fails with that RangeError', async () => {
        returns = value;
        const client = new EchoClient('ignored', grpc.credentials.createInsecure(), {
          channelOverride: app.pool.channel,
        });
        const outcome = await outcomeOf(
          () =>
            new Promise((resolve, reject) =>
              client.Unary({}, (error: Error | null) => (error ? reject(error) : resolve(1))),
            ),
        );
        // grpc-js lets the error out of createCall synchronously; the promise wrapper turns
        // it into a rejection. Either way the caller sees the RangeError itself.
        expect(errorProblems(outcome, { ...expected, how: 'rejected' })).toEqual([]);
      });
    },
  );

  it('a strategy that picks in range works (the wrapper is not refusing everything)', async () => {
    returns = 1;
    expect(app.pool.getChannel()).toBe(app.pool.getChannel());
    await expect(unary(app.pool.channel, { message: 'in range' })).resolves.toMatchObject({
      message: 'in range',
    });
  });
});
