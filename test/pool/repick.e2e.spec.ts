import * as grpc from '@grpc/grpc-js';
import { EchoClient, EchoServer, waitFor, type EchoReply } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoCall, lateness } from '../reliability/calls.js';
import { refusingServer } from '../support/refusing-server.js';

/**
 * gRPC A6 transparent retry through the pool: a call that reached no server (never left the
 * client, or its stream refused) is re-picked on another serving member at once, with its
 * original deadline, counted once; a call a server answered is never sent again, whatever
 * its status text says.
 */
describe('re-picking a call that reached no server', () => {
  let app: PoolApp | undefined;
  const servers: Array<{ stop(): void }> = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const server of servers.splice(0)) server.stop();
  });

  const total = (counts: Iterable<number>) => [...counts].reduce((a, b) => a + b, 0);

  it('40 calls fired in the same tick as one backend’s graceful shutdown: none fails, each processed once, counted once', async () => {
    const a = await EchoServer.start();
    const b = await EchoServer.start();
    servers.push(a, b);
    app = await startPoolApp({ url: [a.url, b.url], size: 4 });
    const pool = app.pool;
    await waitFor(() => pool.status().ready === 4, 'all four members ready');

    const calls = Array.from({ length: 40 }, (_, i) =>
      echoCall(pool.channel, { message: `m${i}` }, { timeoutMs: 10_000 }),
    );
    const shutdown = a.shutdownGracefully();
    const outcomes = await Promise.all(calls);
    await shutdown;

    expect(describeFailures(outcomes)).toEqual([]);
    // No call twice: the servers processed exactly the 40.
    expect(total(a.callsByPeer.values()) + total(b.callsByPeer.values())).toBe(40);
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
    const status = pool.status();
    expect(status).toMatchObject({ callsStarted: 40, callsFailed: 0, inFlight: 0 });
    expect(total(status.members.map((m) => m.callsByStatus.OK ?? 0))).toBe(40);
  });

  describe('a server that answers UNAVAILABLE "Stream refused by server" (a relayed upstream error) processed the call', () => {
    let invocations = 0;

    beforeEach(async () => {
      invocations = 0;
      const refusedText = {
        code: grpc.status.UNAVAILABLE,
        details: 'Stream refused by server',
      };
      const server = new grpc.Server();
      server.addService(EchoClient.service, {
        Unary: (_call: unknown, callback: grpc.sendUnaryData<EchoReply>) => {
          invocations++;
          callback(refusedText);
        },
        ServerStream: (call: grpc.ServerWritableStream<unknown, EchoReply>) => {
          invocations++;
          call.emit('error', refusedText);
        },
        ClientStream: (
          call: grpc.ServerReadableStream<unknown, EchoReply>,
          callback: grpc.sendUnaryData<EchoReply>,
        ) => {
          call.on('data', () => {});
          call.on('end', () => {
            invocations++;
            callback(refusedText);
          });
        },
        Bidi: (call: grpc.ServerDuplexStream<unknown, EchoReply>) => call.end(),
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      servers.push({ stop: () => server.forceShutdown() });
      // Two members, so a re-pick would have somewhere else to go.
      app = await startPoolApp({ url: `127.0.0.1:${port}`, size: 2 });
      await waitFor(() => app!.pool.status().ready === 2, 'both members ready');
    });

    const client = () =>
      new EchoClient('relay', grpc.credentials.createInsecure(), {
        channelOverride: app!.pool.channel,
      });
    const deadline = () => ({ deadline: Date.now() + 10_000 });

    const kinds: Array<[string, () => Promise<grpc.ServiceError | null>]> = [
      [
        'unary',
        () =>
          new Promise((resolve) =>
            client().Unary({ message: 'u' }, new grpc.Metadata(), deadline(), resolve),
          ),
      ],
      [
        'server streaming',
        () =>
          new Promise((resolve) => {
            const call = client().ServerStream({ message: 's', count: 1 }, deadline());
            call.on('data', () => {});
            call.on('error', resolve);
            call.on('end', () => resolve(null));
          }),
      ],
      [
        'one-message client streaming',
        () =>
          new Promise((resolve) => {
            const call = client().ClientStream(new grpc.Metadata(), deadline(), resolve);
            call.write({ message: 'one' });
            call.end();
          }),
      ],
    ];

    it.each(kinds)(
      '%s: the caller gets its status, the handler ran exactly once',
      async (_kind, make) => {
        const error = await make();
        expect(error).toMatchObject({
          code: grpc.status.UNAVAILABLE,
          details: 'Stream refused by server',
        });
        expect(invocations).toBe(1);
        const status = app!.pool.status();
        expect(status).toMatchObject({ callsStarted: 1, callsFailed: 1, inFlight: 0 });
      },
    );
  });

  it('a re-picked call keeps its original deadline: the new member sees it, and it does not live past it', async () => {
    // Each refusal takes 400 ms: grpc-js's two tries re-pick the call ~800 ms after it started.
    const refusing = await refusingServer(Infinity, 400);
    servers.push({ stop: () => refusing.close() });
    const seen: number[] = [];
    const slow = new grpc.Server();
    slow.addService(EchoClient.service, {
      Unary: (call: grpc.ServerUnaryCall<unknown, EchoReply>) => {
        const at = call.getDeadline();
        seen.push(at instanceof Date ? at.getTime() : at);
        // Never answers: only the deadline ends the call.
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      slow.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    servers.push({ stop: () => slow.forceShutdown() });
    app = await startPoolApp({ url: [refusing.url, `127.0.0.1:${port}`], size: 2 });
    const pool = app.pool;
    await waitFor(() => pool.status().ready === 2, 'both members ready');

    // Round-robin over two members: one call lands on the refusing member, one on the slow.
    const outcomes = await Promise.all(
      ['a', 'b'].map((message) => echoCall(pool.channel, { message }, { timeoutMs: 1_500 })),
    );

    expect(refusing.streams()).toBe(2);
    // The direct call reached the slow server at once, the re-picked one ~800 ms later.
    expect(seen).toHaveLength(2);
    for (const outcome of outcomes) {
      expect(outcome.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      // Re-picked ~800 ms in: a deadline counted afresh would end it ~800 ms late.
      expect(lateness(outcome)).toBeLessThan(400);
    }
    // The server got the original deadline (both calls started in the same tick).
    expect(Math.abs(seen[1] - outcomes[0].deadline)).toBeLessThan(400);
    expect(pool.status()).toMatchObject({ callsStarted: 2, inFlight: 0 });
  });
});
