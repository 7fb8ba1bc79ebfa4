import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

/**
 * A bare HTTP/2 server that refuses its first `refuse` streams (RST_STREAM REFUSED_STREAM,
 * as a server does for streams opened past a GOAWAY's last stream id) and answers the rest
 * with an empty gRPC message and status OK.
 */
async function refusingServer(
  refuse: number,
): Promise<{ url: string; streams: () => number; close: () => void }> {
  let streams = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    // Node reports a stream it closed with an error code as an error on it: expected here.
    stream.on('error', () => {});
    if (streams++ < refuse) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // One gRPC message: not compressed, length 0 (an empty EchoReply).
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `127.0.0.1:${port}`, streams: () => streams, close: () => server.close() };
}

describe('a stream the server refused (REFUSED_STREAM: not processed)', () => {
  let app: PoolApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** One unary call through a pool of one member on `url`; resolves with its error, or null. */
  async function oneCall(url: string): Promise<grpc.ServiceError | null> {
    app = await startPoolApp({ url, size: 1 });
    await app.pool.awaitReady(10_000);
    const client = new EchoClient('refused', grpc.credentials.createInsecure(), {
      channelOverride: app.pool.channel,
    });
    return new Promise((resolve) =>
      client.Unary({ message: 'x' }, (failure: grpc.ServiceError | null) => resolve(failure)),
    );
  }

  it('is re-issued once after grpc-js gave up on it, and the call succeeds, counted once', async () => {
    // grpc-js retries a refused stream once itself; the pool's re-issue is the third try.
    const server = await refusingServer(2);
    try {
      const error = await oneCall(server.url);
      expect(error).toBeNull();
      expect(server.streams()).toBe(3);
      const [member] = app!.pool.members();
      expect(member).toMatchObject({ callsStarted: 1, inFlight: 0, callsByStatus: { OK: 1 } });
    } finally {
      server.close();
    }
  });

  it('refused again after the re-issue, it fails UNAVAILABLE (re-issued once only)', async () => {
    const server = await refusingServer(10);
    try {
      const error = await oneCall(server.url);
      expect(error).toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: 'Stream refused by server',
      });
      // grpc-js's two tries, then the pool's one.
      expect(server.streams()).toBe(4);
      expect(app!.pool.members()[0]).toMatchObject({ callsStarted: 1, inFlight: 0 });
    } finally {
      server.close();
    }
  });
});
