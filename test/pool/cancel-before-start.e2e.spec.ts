import * as grpc from '@grpc/grpc-js';
import { EchoClient, EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/**
 * An interceptor that starts its call late (as an async auth-token interceptor does) while
 * the caller cancels first, or lets the deadline pass first. grpc-js reports no status for
 * a call ended before `start`; counting must still be exact.
 */
describe('calls ended before they start (regression: in-flight leak)', () => {
  let server: EchoServer;
  let app: PoolApp;
  const callsSeen = () => [...server.callsByPeer.values()].reduce((sum, n) => sum + n, 0);

  /** A client whose calls start only when `open()` is called. */
  function gatedClient(): {
    client: InstanceType<grpc.ServiceClientConstructor>;
    open: () => void;
  } {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const interceptor: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          void gate.then(() => next(metadata, listener));
        },
      });
    const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.channel,
      interceptors: [interceptor],
    }) as InstanceType<grpc.ServiceClientConstructor>;
    return { client, open };
  }

  beforeEach(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({ url: server.url, size: 2, drainTimeoutMs: 60_000 });
    await app.pool.awaitReady(10_000);
  });

  afterEach(async () => {
    await app.close();
    server.stop();
  });

  it('20 calls cancelled before their interceptor starts them leave inFlight at 0 and close() does not wait', async () => {
    const { client, open } = gatedClient();
    const endings: Array<Promise<grpc.ServiceError | null>> = [];
    for (let i = 0; i < 20; i++) {
      let call!: grpc.ClientUnaryCall;
      endings.push(
        new Promise((resolve) => {
          call = client.Unary({ message: `late ${i}` }, (error: grpc.ServiceError | null) =>
            resolve(error),
          );
        }),
      );
      call.cancel();
    }
    // The token arrives in a later turn of the event loop, as a fetched one would.
    await new Promise((resolve) => setImmediate(resolve));
    open();
    // Every caller hears CANCELLED (grpc-js alone would leave these callbacks hanging).
    const errors = await Promise.all(endings);
    expect(errors.map((error) => error?.code)).toEqual(new Array(20).fill(grpc.status.CANCELLED));
    // A call through the same gate after them: by its end every late start has run.
    const { client: after, open: openAfter } = gatedClient();
    openAfter();
    await new Promise((resolve, reject) =>
      after.Unary({ message: 'after' }, (error: Error | null) =>
        error ? reject(error) : resolve(1),
      ),
    );
    expect(app.pool.status().members.map((member) => member.inFlight)).toEqual([0, 0]);
    expect(callsSeen()).toBe(1);
    // Shutdown has no phantom call to wait for: far below drainTimeoutMs (60 s).
    const started = Date.now();
    await app.pool.close();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a call whose deadline passes before its interceptor starts it ends DEADLINE_EXCEEDED and is not left counted', async () => {
    const { client, open } = gatedClient();
    const deadline = Date.now() + 50;
    const ending = new Promise<grpc.ServiceError | null>((resolve) =>
      client.Unary({ message: 'late' }, new grpc.Metadata(), { deadline }, resolve),
    );
    await waitFor(() => Date.now() > deadline + 20, 'the deadline to pass');
    open();
    await expect(ending).resolves.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    await waitFor(() => app.pool.status().inFlight === 0, 'the expired call to leave the count');
    expect(app.pool.status().members.map((member) => member.inFlight)).toEqual([0, 0]);
    expect(callsSeen()).toBe(0);
  });

  it('a call started after a cancel in the same tick is counted once and released once', async () => {
    const member = app.pool.getChannel();
    const call = member.createCall('/echo.Echo/Unary', Infinity, undefined, null, undefined);
    call.cancelWithStatus(grpc.status.CANCELLED, 'cancelled before start');
    const status = await new Promise<grpc.StatusObject>((resolve) =>
      call.start(new grpc.Metadata(), {
        onReceiveMetadata: () => {},
        onReceiveMessage: () => {},
        onReceiveStatus: resolve,
      }),
    );
    expect(status).toMatchObject({
      code: grpc.status.CANCELLED,
      details: 'cancelled before start',
    });
    expect(app.pool.status().inFlight).toBe(0);
    expect(app.pool.status().callsStarted).toBe(0);
  });
});
