import * as grpc from '@grpc/grpc-js';
import { PoolClosedError, type PoolService } from 'nestjs-grpc-pool';
import { firstValueFrom, type Observable } from 'rxjs';
import {
  ECHO_PROTO,
  EchoClient,
  EchoServer,
  unary,
  waitFor,
  type EchoReply,
  type EchoRequest,
} from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { errorProblems, outcomeOf, type ExpectedError } from './expect-error.js';

/**
 * Every way in after `close()`: the pool's own methods fail with `PoolClosedError`, and a
 * call made anyway (through `pool.channel`, Nest stubs, a client from `getClient()`, or a
 * client someone built on a member from `getChannel()` earlier) ends with UNAVAILABLE and a
 * message naming the closed pool, never a bare exception from inside grpc-js.
 */
const POOL = 'bad';
const CLOSED = new RegExp(`^gRPC pool "${POOL}" is closed and hands out no more channels$`);
const CALL_CLOSED = new RegExp(`gRPC pool "${POOL}" is closed`);

interface EchoService {
  unary(request: EchoRequest): Observable<EchoReply>;
}

const closedError = (how: 'threw' | 'rejected'): ExpectedError => ({
  how,
  type: PoolClosedError,
  code: 'POOL_CLOSED',
  message: CLOSED,
});

const METHOD_ROWS: ReadonlyArray<readonly [string, (pool: PoolService) => unknown, ExpectedError]> =
  [
    ['getChannel()', (pool) => pool.getChannel(), closedError('threw')],
    ['awaitReady()', (pool) => pool.awaitReady(), closedError('rejected')],
    ['awaitReady(100)', (pool) => pool.awaitReady(100), closedError('rejected')],
    ['awaitReady(0)', (pool) => pool.awaitReady(0), closedError('rejected')],
    ['scaleUp(1)', (pool) => pool.scaleUp(1), closedError('rejected')],
    ['scaleDown(1)', (pool) => pool.scaleDown(1), closedError('rejected')],
    ['resize(3)', (pool) => pool.resize(3), closedError('rejected')],
  ];

/** A unary call through `client` as a promise of its error (or of `undefined` on success). */
function callError(client: grpc.Client): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve, reject) => {
    try {
      (client as unknown as Record<string, (...args: unknown[]) => unknown>).Unary(
        { message: 'after close' },
        (error: grpc.ServiceError | null) => resolve(error ?? undefined),
      );
    } catch (error) {
      // A synchronous throw out of the client is itself a failure of this contract.
      reject(error);
    }
  });
}

describe('after close()', () => {
  let server: EchoServer;
  let app: PoolApp;
  /** Clients made while the pool was open. */
  let onMember: grpc.Client;
  let onPool: grpc.Client;
  let stubs: EchoService;

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({
      name: POOL,
      url: server.url,
      size: 2,
      package: 'echo',
      protoPath: ECHO_PROTO,
    });
    await waitFor(() => app.pool.status().ready === 2, 'a full pool');
    onMember = new EchoClient('ignored', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.getChannel(),
    });
    onPool = app.pool.getClient(EchoClient) as grpc.Client;
    stubs = app.pool.getService<EchoService>('Echo');
    await unary(app.pool.channel, { message: 'before close' });
    await app.close();
  });

  afterAll(() => server.stop());

  it.each(METHOD_ROWS)('%s fails with PoolClosedError', async (_call, run, expected) => {
    expect(errorProblems(await outcomeOf(() => run(app.pool)), expected)).toEqual([]);
  });

  it('tryGetChannel() gives undefined; close() again is the same settled promise', async () => {
    expect(app.pool.tryGetChannel()).toBeUndefined();
    await expect(app.pool.close()).resolves.toBeUndefined();
    expect(app.pool.close()).toBe(app.pool.close());
    expect(app.pool.status()).toMatchObject({ closed: true, size: 0, ready: 0, inFlight: 0 });
  });

  it('a call through pool.channel ends UNAVAILABLE naming the closed pool', async () => {
    await expect(unary(app.pool.channel, { message: 'x' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(CALL_CLOSED),
    });
  });

  it('a call through Nest stubs from getService() errors UNAVAILABLE naming the closed pool', async () => {
    await expect(firstValueFrom(stubs.unary({ message: 'x' }))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(CALL_CLOSED),
    });
  });

  it('a call through a client from getClient() (made before or after close) ends UNAVAILABLE', async () => {
    for (const client of [onPool, app.pool.getClient(EchoClient) as grpc.Client]) {
      await expect(callError(client)).resolves.toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: expect.stringMatching(CALL_CLOSED),
      });
    }
  });

  it('a call through a client built on getChannel() before close ends UNAVAILABLE naming the pool, not a thrown "Channel has been shut down"', async () => {
    await expect(callError(onMember)).resolves.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(CALL_CLOSED),
    });
  });
});

describe('a client built on getChannel() whose member is scaled down', () => {
  let server: EchoServer;
  let app: PoolApp;

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({ name: POOL, url: server.url, size: 3 });
    await waitFor(() => app.pool.status().ready === 3, 'a full pool');
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  it('keeps working: no call fails because the pool shrank', async () => {
    // One client on each member; scaleDown(2) retires two of them.
    const clients = [0, 1, 2].map(
      () =>
        new EchoClient('ignored', grpc.credentials.createInsecure(), {
          channelOverride: app.pool.getChannel(),
        }),
    );
    await expect(app.pool.scaleDown(2)).resolves.toBe(1);
    for (const client of clients) {
      await expect(callError(client)).resolves.toBeUndefined();
    }
    expect(app.pool.status()).toMatchObject({ size: 1, ready: 1, inFlight: 0 });
  });
});
