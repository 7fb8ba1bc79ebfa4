import * as grpc from '@grpc/grpc-js';
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

/**
 * The gRPC habits users bring, each through a real pool against a real loopback server:
 * pool-level interceptors, a service config (retry policy) and a default deadline.
 */

interface EchoService {
  unary(request: EchoRequest): Observable<EchoReply>;
}

type EchoStub = grpc.Client & {
  Unary(
    request: EchoRequest,
    callback: (error: grpc.ServiceError | null, reply: EchoReply) => void,
  ): grpc.ClientUnaryCall;
};

/** An interceptor that appends `tag` to the `x-echo` request metadata (the echo server returns it). */
const tagging =
  (tag: string): grpc.Interceptor =>
  (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        const before = metadata.get('x-echo')[0];
        metadata.set('x-echo', before === undefined ? tag : `${String(before)}>${tag}`);
        next(metadata, listener);
      },
    });

const callStub = (client: EchoStub, request: EchoRequest) =>
  new Promise<EchoReply>((resolve, reject) =>
    client.Unary(request, (error, reply) => (error ? reject(error) : resolve(reply))),
  );

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: grpc.ServiceError) => grpc.status[error.code],
  );

describe('pool-level interceptors', () => {
  let server: EchoServer;
  let app: PoolApp;

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({
      name: 'intercepted',
      url: server.url,
      size: 2,
      package: 'echo',
      protoPath: ECHO_PROTO,
      interceptors: [tagging('pool')],
    });
    await app.pool.awaitReady(10_000);
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  it('run on every call made through getService()', async () => {
    const echo = app.pool.getService<EchoService>('Echo');
    const reply = await firstValueFrom(echo.unary({ message: 'a' }));
    expect(reply.metadata).toBe('pool');
  });

  it('run on every call made through getClient()', async () => {
    const client = app.pool.getClient(EchoClient) as unknown as EchoStub;
    expect((await callStub(client, { message: 'b' })).metadata).toBe('pool');
  });

  it("run through createClient(), before the client's own interceptors", async () => {
    const client = app.pool.createClient(EchoClient, {
      interceptors: [tagging('own')],
    }) as unknown as EchoStub;
    expect((await callStub(client, { message: 'c' })).metadata).toBe('pool>own');
  });
});

/** A server whose Unary fails the first attempt of each message with UNAVAILABLE and answers the next. */
async function flakyServer(): Promise<{
  url: string;
  attempts: Map<string, number>;
  stop(): void;
}> {
  const attempts = new Map<string, number>();
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary: (
      call: grpc.ServerUnaryCall<EchoRequest, EchoReply>,
      callback: grpc.sendUnaryData<EchoReply>,
    ) => {
      const message = call.request.message ?? '';
      const attempt = (attempts.get(message) ?? 0) + 1;
      attempts.set(message, attempt);
      if (attempt === 1) {
        callback({ code: grpc.status.UNAVAILABLE, details: 'first attempt refused' });
      } else {
        callback(null, { message, peer: call.getPeer(), index: attempt, metadata: '' });
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { url: `127.0.0.1:${port}`, attempts, stop: () => server.forceShutdown() };
}

describe('serviceConfig', () => {
  const retryPolicy = {
    methodConfig: [
      {
        name: [{ service: 'echo.Echo' }],
        retryPolicy: {
          maxAttempts: 3,
          initialBackoff: '0.01s',
          maxBackoff: '0.1s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  };

  it('gives every member the retry policy: an UNAVAILABLE first attempt becomes a success', async () => {
    const server = await flakyServer();
    const app = await startPoolApp({
      name: 'retrying',
      url: server.url,
      size: 2,
      serviceConfig: retryPolicy,
    });
    try {
      await waitFor(() => app.pool.status().ready === 2, 'two ready members');
      // Through pool.channel, and on each member directly.
      const members = [app.pool.channel, app.pool.getChannel(), app.pool.getChannel()];
      const replies = await Promise.all(
        members.map((channel, i) => unary(channel, { message: `call-${i}` })),
      );
      expect(replies.map((reply) => reply.index)).toEqual([2, 2, 2]);
      expect([...server.attempts.values()]).toEqual([2, 2, 2]);
    } finally {
      await app.close();
      server.stop();
    }
  });

  it('without it the same server fails the call UNAVAILABLE (the control)', async () => {
    const server = await flakyServer();
    const app = await startPoolApp({ name: 'not-retrying', url: server.url, size: 1 });
    try {
      await app.pool.awaitReady(10_000);
      expect(await statusOf(unary(app.pool.channel, { message: 'once' }))).toBe('UNAVAILABLE');
    } finally {
      await app.close();
      server.stop();
    }
  });
});

describe('defaultDeadlineMs', () => {
  let server: EchoServer;
  let app: PoolApp;
  /** Long past every bound below: the handler never answers within the test. */
  const NEVER = 600_000;

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({
      name: 'deadlined',
      url: server.url,
      size: 2,
      defaultDeadlineMs: 1_000,
    });
    await waitFor(() => app.pool.status().ready === 2, 'two ready members');
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  it('ends a call with no deadline to a handler that never answers DEADLINE_EXCEEDED, through pool.channel and a member', async () => {
    const calls = [app.pool.channel, app.pool.getChannel()].map((channel) =>
      statusOf(unary(channel, { message: 'stuck', delayMs: NEVER })),
    );
    expect(await Promise.all(calls)).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED']);
    await waitFor(
      () => app.pool.status().members.every((member) => member.inFlight === 0),
      'no call left in flight',
    );
  });

  it('ends a getService() call with no deadline DEADLINE_EXCEEDED too', async () => {
    const pool = await startPoolApp({
      name: 'deadlined-service',
      url: server.url,
      size: 1,
      package: 'echo',
      protoPath: ECHO_PROTO,
      defaultDeadlineMs: 1_000,
    });
    try {
      await pool.pool.awaitReady(10_000);
      const echo = pool.pool.getService<EchoService>('Echo');
      const outcome = firstValueFrom(echo.unary({ message: 'stuck', delayMs: NEVER }));
      expect(await statusOf(outcome)).toBe('DEADLINE_EXCEEDED');
    } finally {
      await pool.close();
    }
  });

  it('keeps the deadline a call sets: one longer than the default lets a slower answer through', async () => {
    // 2.5x the default: were the default applied, the call would end at 1 s, 1.5 s early.
    const reply = await unary(
      app.pool.channel,
      { message: 'slow', delayMs: 2_500 },
      { deadline: Date.now() + 60_000 },
    );
    expect(reply.message).toBe('slow');
  });
});
