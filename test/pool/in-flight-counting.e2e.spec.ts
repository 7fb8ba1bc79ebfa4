import * as grpc from '@grpc/grpc-js';
import {
  EchoClient,
  EchoServer,
  sleep,
  unary,
  waitFor,
  type EchoReply,
} from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/** Every way a call can end takes it out of its member's count exactly once. */
describe('in-flight counting', () => {
  let server: EchoServer;
  let app: PoolApp;
  const inFlight = () => app.pool.status().members.map((member) => member.inFlight);
  const client = () =>
    new EchoClient('pool', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.getChannel(),
    });

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({ url: server.url, size: 2 });
    await app.pool.awaitReady(5_000);
  });

  afterAll(async () => {
    await app.close();
    server.stop();
  });

  afterEach(async () => {
    await waitFor(
      () => inFlight().every((count) => count === 0),
      'every in-flight count back to 0',
      3_000,
    );
    expect(inFlight()).toEqual([0, 0]);
  });

  it('counts a unary call while it runs and releases it on OK', async () => {
    const call = unary(app.pool.getChannel(), { message: 'slow', delayMs: 200 });
    await waitFor(() => server.active === 1, 'the call to reach the server');
    expect(app.pool.status().inFlight).toBe(1);
    await expect(call).resolves.toMatchObject({ message: 'slow' });
  });

  it('releases on an error status', async () => {
    await expect(
      unary(app.pool.getChannel(), { failCode: grpc.status.NOT_FOUND }),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('releases on a deadline', async () => {
    await expect(
      unary(app.pool.getChannel(), { delayMs: 1_000 }, { deadline: Date.now() + 100 }),
    ).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    });
  });

  it('releases on cancel', async () => {
    const call = client().Unary({ delayMs: 1_000 }, () => undefined);
    await waitFor(() => server.active === 1, 'the call to reach the server');
    expect(app.pool.status().inFlight).toBe(1);
    call.cancel();
  });

  it('releases a call whose start throws inside the member (an interceptor passing no metadata)', async () => {
    // A client interceptor that forgets the metadata makes grpc-js's own call throw in
    // start(), under the member's counting wrapper: the count taken there must be given back.
    const forgetsMetadata: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start: (_metadata, listener, next) => next(undefined as unknown as grpc.Metadata, listener),
      });
    const internalEndings = () =>
      app.pool
        .status()
        .members.reduce((sum, member) => sum + (member.callsByStatus.INTERNAL ?? 0), 0);
    const startedBefore = app.pool.status().callsStarted;
    const internalBefore = internalEndings();
    const broken = new EchoClient('pool', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.getChannel(),
      interceptors: [forgetsMetadata],
    });
    expect(() => broken.Unary({}, () => undefined)).toThrow(TypeError);
    // The wrapper counted the start and ended the call itself, as INTERNAL.
    expect(app.pool.status().callsStarted).toBe(startedBefore + 1);
    expect(internalEndings()).toBe(internalBefore + 1);
    expect(app.pool.status().inFlight).toBe(0);
  });

  it('releases when call credentials fail (grpc-js ends the started call with their error)', async () => {
    const failing = grpc.credentials.createFromMetadataGenerator((_params, callback) =>
      callback(new Error('no token today')),
    );
    await expect(
      new Promise((resolve, reject) =>
        client().Unary({}, new grpc.Metadata(), { credentials: failing }, (error: Error | null) =>
          error ? reject(error) : resolve(1),
        ),
      ),
    ).rejects.toMatchObject({ details: expect.stringContaining('no token today') });
  });

  it('releases when a server stream ends, errors or is cancelled', async () => {
    const replies: EchoReply[] = [];
    const ended = client().ServerStream({ count: 3 });
    ended.on('data', (reply: EchoReply) => replies.push(reply));
    await new Promise((resolve) => ended.on('status', resolve));
    expect(replies.map((reply) => reply.index)).toEqual([0, 1, 2]);

    const failed = client().ServerStream({ count: 1, failCode: grpc.status.ABORTED });
    failed.on('data', () => undefined);
    await expect(new Promise((_, reject) => failed.on('error', reject))).rejects.toMatchObject({
      code: grpc.status.ABORTED,
    });

    const endless = client().ServerStream({ count: 0, delayMs: 5 });
    endless.on('data', () => undefined);
    endless.on('error', () => undefined);
    await sleep(50);
    expect(app.pool.status().inFlight).toBe(1);
    endless.cancel();
  });

  it('releases client-streaming and bidi calls on end, error and cancel', async () => {
    const upload = await new Promise<EchoReply>((resolve, reject) => {
      const call = client().ClientStream((error: Error | null, reply: EchoReply) =>
        error ? reject(error) : resolve(reply),
      );
      call.write({ message: 'a' });
      call.write({ message: 'b' });
      call.end();
    });
    expect(upload).toMatchObject({ message: 'a,b', index: 2 });

    const abandoned = client().ClientStream(() => undefined);
    abandoned.write({ message: 'x' });
    await sleep(20);
    abandoned.cancel();

    const chat = client().Bidi();
    const echoed: string[] = [];
    chat.on('data', (reply: EchoReply) => echoed.push(reply.message));
    chat.write({ message: 'one' });
    chat.write({ message: 'two' });
    chat.end();
    await new Promise((resolve) => chat.on('status', resolve));
    expect(echoed).toEqual(['one', 'two']);

    const broken = client().Bidi();
    broken.on('data', () => undefined);
    broken.write({ failCode: grpc.status.INTERNAL });
    await expect(new Promise((_, reject) => broken.on('error', reject))).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
    });
  });

  it('never goes negative or leaks over a mixed burst of 500 calls, ending each once with its status', async () => {
    const byStatus = () => {
      const totals: Record<string, number> = {};
      for (const member of app.pool.status().members) {
        for (const [name, count] of Object.entries(member.callsByStatus)) {
          totals[name] = (totals[name] ?? 0) + count;
        }
      }
      return totals;
    };
    const startedBefore = app.pool.status().callsStarted;
    const endedBefore = byStatus();
    // Read at every call's end, while the rest of the burst is still running.
    let lowest = Infinity;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) =>
        unary(
          app.pool.getChannel(),
          { delayMs: i % 7, failCode: i % 5 === 0 ? grpc.status.UNKNOWN : 0 },
          i % 11 === 0 ? { deadline: Date.now() + 1 } : {},
        ).finally(() => (lowest = Math.min(lowest, ...inFlight()))),
      ),
    );
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThan(
      300,
    );
    // Every call counted once at start and once at its end, under the status its caller saw.
    const seen: Record<string, number> = {};
    for (const outcome of outcomes) {
      const code =
        outcome.status === 'fulfilled'
          ? grpc.status.OK
          : (outcome.reason as grpc.ServiceError).code;
      seen[grpc.status[code]] = (seen[grpc.status[code]] ?? 0) + 1;
    }
    const ended = byStatus();
    const endedNow = Object.fromEntries(
      Object.keys(ended)
        .map((name) => [name, ended[name] - (endedBefore[name] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
    expect(app.pool.status().callsStarted - startedBefore).toBe(500);
    expect(endedNow).toEqual(seen);
  });
});
