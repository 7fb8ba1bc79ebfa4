import * as grpc from '@grpc/grpc-js';
import type { PoolService } from 'nestjs-grpc-pool';
import { EchoClient, EchoServer, type EchoReply } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { echoCall, type CallOutcome } from '../reliability/calls.js';

/**
 * A call waiting in a member's grpc-js channel for a connection when the pool replaces that
 * channel (here: `connectTimeoutMs` passed) never left the client. One whose whole request
 * the pool holds (unary, server streaming) is re-issued on the new channel; a client or bidi
 * stream fails as before. The proxy holds the member's first connection silent (no HTTP/2
 * SETTINGS), so it sits CONNECTING until the pool replaces its channel; later ones pass.
 */
describe('calls queued on a member whose channel the pool replaces', () => {
  const POOL = 'reissue';
  let server: EchoServer | undefined;
  let proxy: FaultProxy | undefined;
  let app: PoolApp | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await proxy?.stop();
    proxy = undefined;
    server?.stop();
    server = undefined;
  });

  /** A pool of one member whose first connection goes silent; its second passes to `port`. */
  const startSilentFirst = async (port: number, connectTimeoutMs: number) => {
    proxy = await FaultProxy.start({ targetPort: port });
    const silentFirst = proxy;
    silentFirst.onAccept = 'blackhole';
    silentFirst.onConnection = () => (silentFirst.onAccept = 'pass');
    app = await startPoolApp({ name: POOL, url: silentFirst.url, size: 1, connectTimeoutMs });
    return app.pool;
  };

  const client = (pool: PoolService) =>
    new EchoClient('pool', grpc.credentials.createInsecure(), { channelOverride: pool.channel });
  const patient = () => new grpc.Metadata({ waitForReady: true });
  const deadline = () => Date.now() + 20_000;

  /** A server stream's messages and how it ended. */
  const serverStream = (pool: PoolService) =>
    new Promise<{ messages: number; code: number }>((resolve) => {
      let messages = 0;
      const call = client(pool).ServerStream({ message: 's', count: 3 }, patient(), {
        deadline: deadline(),
      });
      call.on('data', () => messages++);
      call.on('error', (error: grpc.ServiceError) => resolve({ messages, code: error.code }));
      call.on('end', () => resolve({ messages, code: grpc.status.OK }));
    });

  it('re-issues queued unary calls (with and without waitForReady) and a server stream on the new channel: all answer, each counted once', async () => {
    server = await EchoServer.start();
    const pool = await startSilentFirst(server.port, 500);

    const [waiting, plain, stream] = await Promise.all([
      echoCall(pool.channel, { message: 'wait' }, { timeoutMs: 20_000, waitForReady: true }),
      echoCall(pool.channel, { message: 'plain' }, { timeoutMs: 20_000 }),
      serverStream(pool),
    ]);

    expect([waiting, plain].map((outcome: CallOutcome) => outcome.details)).toEqual(['', '']);
    expect(stream).toEqual({ messages: 3, code: grpc.status.OK });
    const [member] = pool.status().members;
    // One replacement: the calls rode the second channel, the server saw each once.
    expect(member.channels).toBe(2);
    expect([...server.callsByPeer.values()]).toEqual([3]);
    // A re-issued call is the same call: started once, ended once.
    expect(member.callsStarted).toBe(3);
    expect(member.callsByStatus).toEqual({ OK: 3 });
    expect(member.inFlight).toBe(0);
  });

  it('does not re-issue a client stream that sent two messages or a bidi stream still open: they fail with the pool’s status', async () => {
    server = await EchoServer.start();
    const pool = await startSilentFirst(server.port, 500);

    const clientStream = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client(pool).ClientStream(
        patient(),
        { deadline: deadline() },
        (error: grpc.ServiceError | null, _reply: EchoReply) => resolve(error),
      );
      call.write({ message: 'one' });
      call.write({ message: 'two' });
      call.end();
    });
    const bidi = new Promise<grpc.ServiceError>((resolve) => {
      const call = client(pool).Bidi(patient(), { deadline: deadline() });
      call.on('error', resolve);
      call.write({ message: 'hello' });
    });
    // The same situation, so the streams' failure is theirs alone: a unary call answers.
    const unary = echoCall(
      pool.channel,
      { message: 'u' },
      { timeoutMs: 20_000, waitForReady: true },
    );

    for (const error of await Promise.all([clientStream, bidi])) {
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error?.details).toContain(`gRPC pool "${POOL}"`);
      expect(error?.details).toContain('connectTimeoutMs (500 ms)');
    }
    expect((await unary).details).toBe('');
    expect([...server.callsByPeer.values()]).toEqual([1]);
    const [member] = pool.status().members;
    expect(member.callsStarted).toBe(3);
    expect(member.callsByStatus).toEqual({ OK: 1, UNAVAILABLE: 2 });
    expect(member.inFlight).toBe(0);
  });

  it('a re-issued call keeps its original deadline and metadata', async () => {
    const seen: Array<{ deadline: number; echo: string }> = [];
    const grpcServer = new grpc.Server();
    grpcServer.addService(EchoClient.service, {
      Unary: (
        call: grpc.ServerUnaryCall<unknown, EchoReply>,
        callback: grpc.sendUnaryData<EchoReply>,
      ) => {
        const at = call.getDeadline();
        seen.push({
          deadline: at instanceof Date ? at.getTime() : at,
          echo: String(call.metadata.get('x-echo')[0]),
        });
        callback(null, { message: 'ok', peer: '', index: 0, metadata: '' });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    try {
      const pool = await startSilentFirst(port, 1_000);
      const metadata = patient();
      metadata.set('x-echo', 'kept');
      const original = Date.now() + 20_000;
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        client(pool).Unary({ message: 'd' }, metadata, { deadline: original }, resolve),
      );

      expect(error).toBeNull();
      expect(seen).toHaveLength(1);
      expect(seen[0].echo).toBe('kept');
      // Re-issued after the 1 s connect timeout: a deadline counted afresh from the re-issue
      // would reach the server at least 1 s later than the original.
      expect(seen[0].deadline - original).toBeLessThan(500);
    } finally {
      grpcServer.forceShutdown();
    }
  });
});
