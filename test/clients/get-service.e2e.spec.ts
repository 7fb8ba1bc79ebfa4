import * as grpc from '@grpc/grpc-js';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { PoolArgumentError } from 'nestjs-grpc-pool';
import { firstValueFrom, lastValueFrom, of, Subject, tap, toArray, type Observable } from 'rxjs';
import {
  ECHO_PROTO,
  EchoClient,
  EchoServer,
  waitFor,
  type EchoReply,
  type EchoRequest,
} from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/** The echo service as Nest's ClientGrpc stubs type it. */
interface EchoService {
  unary(request: EchoRequest, metadata?: grpc.Metadata): Observable<EchoReply>;
  serverStream(request: EchoRequest): Observable<EchoReply>;
  clientStream(requests: Observable<EchoRequest>): Observable<EchoReply>;
  bidi(requests: Observable<EchoRequest>): Observable<EchoReply>;
}

describe('getService(), getClientByServiceName() and getClient()', () => {
  let server: EchoServer;
  let app: PoolApp;
  let plain: ClientGrpcProxy;
  const inFlight = () => app.pool.status().members.map((member) => member.inFlight);

  beforeAll(async () => {
    server = await EchoServer.start();
    const nestOptions = {
      package: 'echo',
      protoPath: ECHO_PROTO,
      loader: { keepCase: false, defaults: true },
    };
    app = await startPoolApp({ url: server.url, size: 4, ...nestOptions });
    await waitFor(() => app.pool.status().ready === 4, 'four ready members');
    plain = new ClientGrpcProxy({ url: server.url, ...nestOptions });
  });

  afterAll(async () => {
    plain.close();
    await app.close();
    server.stop();
  });

  afterEach(async () => {
    await waitFor(
      () => inFlight().every((count) => count === 0),
      'every in-flight count back to 0',
      3_000,
    );
  });

  it('gives the same results as a plain ClientGrpcProxy for all four call kinds, spread over every member', async () => {
    const pooled = app.pool.getService<EchoService>('Echo');
    const direct = plain.getService<EchoService>('Echo');
    const strip = (reply: EchoReply) => ({ ...reply, peer: '' });
    for (const service of [pooled, direct]) {
      expect(strip(await firstValueFrom(service.unary({ message: 'hi' })))).toEqual({
        message: 'hi',
        peer: '',
        index: 0,
        metadata: '',
      });
      expect(
        (await lastValueFrom(service.serverStream({ message: 's', count: 3 }).pipe(toArray()))).map(
          (r) => r.index,
        ),
      ).toEqual([0, 1, 2]);
      expect(
        await firstValueFrom(service.clientStream(of({ message: 'a' }, { message: 'b' }))),
      ).toMatchObject({ message: 'a,b', index: 2 });
      expect(
        (
          await lastValueFrom(service.bidi(of({ message: 'x' }, { message: 'y' })).pipe(toArray()))
        ).map((r) => r.message),
      ).toEqual(['x', 'y']);
    }

    const before = app.pool.status().members.map((member) => member.callsStarted);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => firstValueFrom(pooled.unary({ message: `${i}` }))),
    );
    const after = app.pool.status().members.map((member) => member.callsStarted);
    expect(after.map((count, i) => count - before[i])).toEqual([10, 10, 10, 10]);
  });

  it('counts exactly through unsubscribe, deadline, server error and client-stream error', async () => {
    const pooled = app.pool.getService<EchoService>('Echo');
    const endless = pooled
      .serverStream({ count: 0, delayMs: 5 })
      .subscribe({ error: () => undefined });
    await waitFor(() => app.pool.status().inFlight === 1, 'the stream to be in flight');
    endless.unsubscribe();
    await waitFor(() => app.pool.status().inFlight === 0, 'the unsubscribed stream to end');

    await expect(
      firstValueFrom(pooled.unary({ failCode: grpc.status.PERMISSION_DENIED })),
    ).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });

    const raw = app.pool.getClientByServiceName<
      grpc.Client & Record<string, (...args: unknown[]) => unknown>
    >('Echo');
    await expect(
      new Promise((resolve, reject) =>
        raw.Unary(
          { delayMs: 500 },
          new grpc.Metadata(),
          { deadline: Date.now() + 50 },
          (error: Error | null) => (error ? reject(error) : resolve(1)),
        ),
      ),
    ).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });

    // Nest forwards an upstream error with call.emit('error'); the pool ends the call instead of leaving it open.
    const upstream = new Subject<EchoRequest>();
    const uploading = firstValueFrom(pooled.clientStream(upstream));
    upstream.next({ message: 'first' });
    await waitFor(() => app.pool.status().inFlight === 1, 'the client stream to be in flight');
    upstream.error(new Error('upstream broke'));
    await expect(uploading).rejects.toMatchObject({ code: grpc.status.CANCELLED });

    const chat = new Subject<EchoRequest>();
    const replies: string[] = [];
    const chatting = lastValueFrom(
      pooled.bidi(chat).pipe(tap((reply) => replies.push(reply.message))),
    );
    chat.next({ message: 'hello' });
    await waitFor(() => replies.length === 1, 'the first bidi reply');
    chat.error(new Error('upstream broke'));
    await expect(chatting).rejects.toThrow('upstream broke');
  });

  it('passes metadata, deadlines and interceptors through unchanged', async () => {
    const pooled = app.pool.getService<EchoService>('Echo');
    const metadata = new grpc.Metadata();
    metadata.set('x-echo', 'from-test');
    expect(await firstValueFrom(pooled.unary({ message: 'm' }, metadata))).toMatchObject({
      metadata: 'from-test',
    });

    const seen: string[] = [];
    const interceptor: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start: (meta, listener, next) => {
          seen.push(options.method_definition.path);
          meta.set('x-echo', 'from-interceptor');
          next(meta, listener);
        },
      });
    const client = app.pool.createClient(EchoClient, {
      interceptors: [interceptor],
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
    const reply = await new Promise<EchoReply>((resolve, reject) =>
      client.Unary({ message: 'i' }, (error: Error | null, r: EchoReply) =>
        error ? reject(error) : resolve(r),
      ),
    );
    expect(reply.metadata).toBe('from-interceptor');
    expect(seen).toEqual(['/echo.Echo/Unary']);
  });

  it('getClient builds any grpc-js client constructor on pool.channel, once per constructor', async () => {
    const client = app.pool.getClient(EchoClient) as grpc.Client &
      Record<string, (...args: unknown[]) => unknown>;
    expect(app.pool.getClient(EchoClient)).toBe(client);
    expect(grpc.getClientChannel(client)).toBe(app.pool.channel);
    const reply = await new Promise<EchoReply>((resolve, reject) =>
      client.Unary({ message: 'g' }, (error: Error | null, r: EchoReply) =>
        error ? reject(error) : resolve(r),
      ),
    );
    expect(reply.message).toBe('g');
  });

  it('an unknown service name gives a clear error naming the service and the services loaded', () => {
    expect(() => app.pool.getService('Nope')).toThrow(PoolArgumentError);
    expect(() => app.pool.getService('Nope')).toThrow(
      'gRPC pool "default": getService("Nope") found no such service in package "echo"; services loaded: Echo',
    );
    expect(() => app.pool.getClient(undefined as never)).toThrow(/getClient\(ctor\) got undefined/);
  });
});
