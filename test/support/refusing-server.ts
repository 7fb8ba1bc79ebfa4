import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A bare HTTP/2 server that refuses streams, for the pool's and grpc-js's refused-stream paths. */
export interface RefusingServer {
  readonly url: string;
  /** Streams opened on it so far, refused or answered. */
  streams(): number;
  close(): void;
}

/**
 * A bare HTTP/2 server that refuses its first `refuse` streams (RST_STREAM REFUSED_STREAM,
 * as a server does for streams opened past a GOAWAY's last stream id), each after
 * `refuseAfterMs`, and answers the rest with an empty gRPC message and status OK.
 */
export async function refusingServer(refuse: number, refuseAfterMs = 0): Promise<RefusingServer> {
  let streams = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    // Node reports a stream it closed with an error code as an error on it: expected here.
    stream.on('error', () => {});
    if (streams++ < refuse) {
      const refuseIt = () => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      if (refuseAfterMs > 0) {
        setTimeout(refuseIt, refuseAfterMs);
      } else {
        refuseIt();
      }
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
