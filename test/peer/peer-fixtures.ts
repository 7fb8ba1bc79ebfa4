import net from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  getPeerPoolToken,
  GrpcPeerPoolModule,
  type GrpcPeerPoolOptions,
  type GrpcPoolModuleExtras,
  type PeerPoolService,
} from 'nestjs-grpc-pool';
import { EchoServer } from '../support/echo-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { closedPort } from '../support/closed-port.js';
export { closedPort };

/** A real Nest application context with one peer pool, initialized. */
export interface PeerApp {
  readonly app: TestingModule;
  readonly peers: PeerPoolService;
  close(): Promise<void>;
}

export async function startPeerApp(
  options: GrpcPeerPoolOptions & GrpcPoolModuleExtras = {},
): Promise<PeerApp> {
  const app = await Test.createTestingModule({
    imports: [GrpcPeerPoolModule.forRoot(options)],
  }).compile();
  await app.init();
  const peers = app.get<PeerPoolService>(getPeerPoolToken(options.name));
  return { app, peers, close: () => app.close() };
}

/** An echo server behind a TCP proxy: the proxy counts the connections a peer pool opens. */
export interface Backend {
  readonly server: EchoServer;
  readonly proxy: TcpProxy;
  /** What to acquire: the proxy's address. */
  readonly endpoint: string;
}

export async function startBackends(count: number): Promise<Backend[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const server = await EchoServer.start();
      const proxy = await new TcpProxy(server.port).start();
      return { server, proxy, endpoint: proxy.url };
    }),
  );
}

export async function stopBackends(backends: readonly Backend[]): Promise<void> {
  await Promise.all(
    backends.map(async ({ server, proxy }) => {
      await proxy.stop();
      server.stop();
    }),
  );
}

/** A TCP server that accepts connections and never says a word: an HTTP/2 handshake hangs. */
export async function silentServer(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `127.0.0.1:${port}`,
    stop: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
