import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** The echo test proto, loaded the way Nest and most apps load protos. */
export const ECHO_PROTO = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));
const definition = protoLoader.loadSync(ECHO_PROTO, {
  keepCase: false,
  longs: String,
  defaults: true,
});
const echoPackage = grpc.loadPackageDefinition(definition).echo as grpc.GrpcObject;

/** The generated-style client constructor of `echo.Echo`. */
export const EchoClient = echoPackage.Echo as grpc.ServiceClientConstructor;

export interface EchoRequest {
  message?: string;
  delayMs?: number;
  count?: number;
  failCode?: number;
}

export interface EchoReply {
  message: string;
  peer: string;
  index: number;
  metadata: string;
}

export interface EchoServerOptions {
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Loopback address to bind (Linux routes all of 127/8 to lo); default 127.0.0.1. */
  host?: string;
  /** Server-side grpc options, e.g. `grpc.max_concurrent_streams`. */
  serverOptions?: grpc.ServerOptions;
  credentials?: grpc.ServerCredentials;
  /**
   * Adds more services to the server on every (re)listen, e.g. a health service:
   * `services: (server) => health.addToServer(server)` with grpc-health-check's HealthImplementation.
   */
  services?: (server: grpc.Server) => void;
}

/** A real grpc-js echo server on loopback that counts calls per client connection. */
export class EchoServer {
  /** Calls seen per client peer address (`127.0.0.1:port`, one per TCP connection). */
  readonly callsByPeer = new Map<string, number>();
  /** Calls currently being handled. */
  active = 0;
  /** Added to every unary call's requested delay: slows this server down (or not) mid-test. */
  extraDelayMs = 0;
  private server: grpc.Server | undefined;

  private constructor(
    readonly port: number,
    private readonly options: EchoServerOptions,
  ) {}

  get url(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  static async start(options: EchoServerOptions = {}): Promise<EchoServer> {
    const echo = new EchoServer(options.port ?? 0, options);
    await echo.listen();
    return echo;
  }

  /** Binds again on the same port after `stop()`. */
  async listen(): Promise<void> {
    const server = new grpc.Server(this.options.serverOptions);
    server.addService(EchoClient.service, this.handlers());
    this.options.services?.(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${this.options.host ?? '127.0.0.1'}:${this.port}`,
        this.options.credentials ?? grpc.ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    (this as { port: number }).port = port;
    this.server = server;
  }

  /** Kills the server at once: every connection and call is cut. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** Stops taking connections and lets calls in flight finish, as a rolling restart does. */
  async shutdownGracefully(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) =>
      server ? server.tryShutdown(() => resolve()) : resolve(),
    );
  }

  /** Distinct client connections that made calls. */
  get peers(): string[] {
    return [...this.callsByPeer.keys()];
  }

  private count(call: { getPeer(): string }): string {
    const peer = call.getPeer();
    this.callsByPeer.set(peer, (this.callsByPeer.get(peer) ?? 0) + 1);
    return peer;
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const reply = (
      request: EchoRequest,
      peer: string,
      metadata: grpc.Metadata,
      index = 0,
    ): EchoReply => ({
      message: request.message ?? '',
      peer,
      index,
      metadata: String(metadata.get('x-echo')[0] ?? ''),
    });
    const track = <T>(promise: Promise<T>): Promise<T> => {
      this.active++;
      return promise.finally(() => this.active--);
    };
    return {
      Unary: (
        call: grpc.ServerUnaryCall<EchoRequest, EchoReply>,
        callback: grpc.sendUnaryData<EchoReply>,
      ) => {
        const peer = this.count(call);
        void track(
          serverDelay((call.request.delayMs ?? 0) + this.extraDelayMs).then(() => {
            if (call.request.failCode) {
              callback({
                code: call.request.failCode,
                details: `failed on request: ${call.request.message}`,
              });
            } else {
              callback(null, reply(call.request, peer, call.metadata));
            }
          }),
        );
      },
      ServerStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
        const peer = this.count(call);
        void track(
          (async () => {
            let cancelled = false;
            call.on('cancelled', () => (cancelled = true));
            const count = call.request.count ?? 0;
            for (let i = 0; (count === 0 || i < count) && !cancelled; i++) {
              await serverDelay(call.request.delayMs ?? 0);
              if (!cancelled) call.write(reply(call.request, peer, call.metadata, i));
            }
            if (!cancelled) {
              if (call.request.failCode)
                call.emit('error', { code: call.request.failCode, details: 'stream failed' });
              else call.end();
            }
          })(),
        );
      },
      ClientStream: (
        call: grpc.ServerReadableStream<EchoRequest, EchoReply>,
        callback: grpc.sendUnaryData<EchoReply>,
      ) => {
        const peer = this.count(call);
        const messages: string[] = [];
        void track(
          new Promise<void>((resolve) => {
            call.on('data', (request: EchoRequest) => messages.push(request.message ?? ''));
            call.on('end', () => {
              callback(null, {
                message: messages.join(','),
                peer,
                index: messages.length,
                metadata: '',
              });
              resolve();
            });
            call.on('error', () => resolve());
            call.on('cancelled', () => resolve());
          }),
        );
      },
      Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
        const peer = this.count(call);
        let index = 0;
        void track(
          new Promise<void>((resolve) => {
            call.on('data', (request: EchoRequest) => {
              if (request.failCode)
                call.emit('error', { code: request.failCode, details: 'bidi failed' });
              else call.write(reply(request, peer, call.metadata, index++));
            });
            call.on('end', () => {
              call.end();
              resolve();
            });
            call.on('error', () => resolve());
            call.on('cancelled', () => resolve());
          }),
        );
      },
    };
  }
}

/** A handler's delay: unref'd so that a killed server's pending handlers never hold the process. */
function serverDelay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A unary Echo call on `channel` as a promise. */
export function unary(
  channel: grpc.ChannelInterface,
  request: EchoRequest,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
): Promise<EchoReply> {
  const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  return new Promise((resolve, reject) =>
    client.Unary(
      request,
      metadata,
      options,
      (error: grpc.ServiceError | null, response: EchoReply) =>
        error ? reject(error) : resolve(response),
    ),
  );
}

/** Polls `condition` every 10 ms until true; fails after `timeoutMs` with `what`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}
