import net from 'node:net';

/**
 * What a proxied connection does with the bytes it reads: `pass` forwards them (after the
 * connection's latency), `blackhole` drops them both ways and keeps both sockets open, as a
 * dead network path does (no RST, no FIN).
 */
export type ForwardMode = 'pass' | 'blackhole';

/** What the proxy does with a connection as it accepts it. */
export type AcceptFault = ForwardMode | 'reset' | 'close';

export interface FaultProxyOptions {
  /** Upstream port on 127.0.0.1 (the proxy never dials anything but loopback). */
  targetPort: number;
  /** Latency added to each chunk, each way, on new connections. Default 0. */
  latencyMs?: number;
  /** Connections open at once; past it, new ones are reset at accept. Default 256. */
  maxConnections?: number;
}

/** Largest number of accepted connections a proxy remembers (the rest are only counted). */
const HISTORY_LIMIT = 10_000;
/** Bytes a direction may hold back for latency before it stops reading its source. */
const QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;

/** One direction of a proxied connection: forwards, delays or drops chunks, in order. */
class Pipe {
  private queue: Array<{ at: number; chunk: Buffer }> = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly connection: ProxyConnection,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    if (this.connection.mode === 'blackhole' || this.to.destroyed) {
      return;
    }
    const latency = this.connection.latencyMs;
    if (latency <= 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    // Never reorder: a chunk leaves no earlier than the one before it.
    this.lastAt = Math.max(Date.now() + latency, this.lastAt);
    this.queue.push({ at: this.lastAt, chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUE_LIMIT_BYTES) {
      this.from.pause();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) {
      return;
    }
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, this.queue[0].at - Date.now()),
    );
  }

  private flush(): void {
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      if (this.connection.mode === 'pass' && !this.to.destroyed) {
        this.write(chunk);
      }
    }
    if (this.queuedBytes <= QUEUE_LIMIT_BYTES && this.from.isPaused()) {
      this.from.resume();
    }
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (!this.to.write(chunk)) {
      this.from.pause();
      this.to.once('drain', () => this.from.resume());
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }
}

/** One accepted connection and its upstream twin; each fault acts on both sockets. */
export class ProxyConnection {
  /** Forwarding or dropping; switch with {@link pass} and {@link blackhole}. */
  mode: ForwardMode = 'pass';
  /** Latency added to each chunk, each way. */
  latencyMs: number;
  /** How the connection ended, once it has. */
  ended: 'closed' | 'reset' | 'peer' | undefined = undefined;
  /** Resolves when both sockets are closed. */
  readonly closed: Promise<void>;
  private readonly pipes: Pipe[];

  constructor(
    /** 0 for the first connection the proxy accepted, 1 for the next, … */
    readonly index: number,
    /** The socket the client (the pool member) connected. */
    readonly client: net.Socket,
    /** The proxy's socket to the server. */
    readonly upstream: net.Socket,
    latencyMs: number,
  ) {
    this.latencyMs = latencyMs;
    this.pipes = [new Pipe(client, upstream, this), new Pipe(upstream, client, this)];
    const whenClosed = (socket: net.Socket) =>
      new Promise<void>((resolve) =>
        socket.destroyed && socket.closed ? resolve() : socket.once('close', () => resolve()),
      );
    this.closed = Promise.all([whenClosed(client), whenClosed(upstream)]).then(() => {
      this.ended ??= 'peer';
      this.pipes.forEach((pipe) => pipe.stop());
    });
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ]) {
      socket.on('error', () => undefined);
      // A side that ends or dies takes the other with it, unless the path is blackholed:
      // then nothing, not even a FIN, gets through. destroy(), not end(): closing a socket
      // whose input is drained sends a FIN all the same, and a half-close (a pending
      // shutdown request) can leave Node spinning at exit when the peer vanishes first.
      socket.on('end', () => this.mode === 'pass' && other.destroy());
      socket.on('close', () => this.mode === 'pass' && other.destroy());
    }
  }

  /** True until both sockets are closed. */
  get open(): boolean {
    return !(this.client.closed && this.upstream.closed);
  }

  /**
   * The client address as the server sees it (`127.0.0.1:port` of the proxy's upstream
   * socket): compare with `EchoReply.peer` to find the connection a call went over.
   */
  get serverSidePeer(): string {
    return `${this.upstream.localAddress}:${this.upstream.localPort}`;
  }

  /** Forward again (bytes dropped meanwhile stay lost). */
  pass(): this {
    this.mode = 'pass';
    return this;
  }

  /** Stop forwarding: drop every byte both ways, keep both sockets open, send nothing. */
  blackhole(): this {
    this.mode = 'blackhole';
    return this;
  }

  /** Add `ms` of latency to each chunk from now on, each way. */
  delay(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  /** Abort both sockets with a TCP RST. */
  reset(): void {
    this.ended ??= 'reset';
    this.mode = 'blackhole';
    for (const socket of [this.client, this.upstream]) {
      if (!socket.destroyed) {
        // resetAndDestroy needs a connected socket; before that a plain destroy is all there is.
        if (socket.readyState === 'open') socket.resetAndDestroy();
        else socket.destroy();
      }
    }
  }

  /**
   * Close both sockets with a FIN (a clean TCP close): the proxy reads everything as it
   * arrives, so closing a socket leaves no unread input and the kernel sends a FIN, not an RST.
   */
  close(): void {
    this.ended ??= 'closed';
    this.mode = 'blackhole';
    this.client.destroy();
    this.upstream.destroy();
  }

  /** Ends the connection at once, for the proxy's own shutdown. */
  destroy(): void {
    this.pipes.forEach((pipe) => pipe.stop());
    this.client.destroy();
    this.upstream.destroy();
  }
}

/**
 * A fault-injecting TCP proxy on 127.0.0.1 for tests: point a pool at `proxy.url`, and the
 * proxy forwards each accepted connection to the target port, counts connections, and can
 * add latency to, blackhole, reset or close any one of them while the others stay up.
 *
 * A pool member is one TCP connection, so one member's connection is one
 * {@link ProxyConnection}: find it by accept order (`connection(n)`, members connect in the
 * order of their ids) or, exactly, by the peer the server saw (`connectionOfPeer`).
 *
 * @example
 * const proxy = await FaultProxy.start({ targetPort: server.port });
 * const app = await startPoolApp({ url: proxy.url, size: 4 });
 * proxy.connection(0).blackhole();
 */
export class FaultProxy {
  /** Connections accepted so far, faulty ones included. */
  accepted = 0;
  /** Time (Date.now()) of every accept, in order (the first {@link HISTORY_LIMIT}). */
  readonly acceptedAt: number[] = [];
  /** Every forwarded connection, in accept order (the first {@link HISTORY_LIMIT}). */
  readonly connections: ProxyConnection[] = [];
  /** What new connections get; faults of live connections are set on each one. */
  onAccept: AcceptFault = 'pass';
  /**
   * Called with each connection forwarded from now on, e.g. to cut it later:
   * `proxy.onConnection = (c) => setTimeout(() => c.close(), 50)`.
   */
  onConnection: ((connection: ProxyConnection) => void) | undefined = undefined;
  /** Latency given to new connections. */
  latencyMs: number;
  port = 0;
  private readonly maxConnections: number;
  private server: net.Server | undefined;
  private readonly live = new Set<ProxyConnection>();
  private readonly raw = new Set<net.Socket>();

  private constructor(private readonly options: FaultProxyOptions) {
    this.latencyMs = options.latencyMs ?? 0;
    this.maxConnections = options.maxConnections ?? 256;
  }

  /** Starts a proxy on a free loopback port. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections open now (accepted and not yet closed both ways). */
  get open(): number {
    return [...this.live].filter((connection) => connection.open).length;
  }

  /** The `n`th accepted connection (0-based); throws if there is none or it died at accept. */
  connection(n: number): ProxyConnection {
    const connection = this.connections.find((candidate) => candidate.index === n);
    if (!connection) {
      throw new Error(`the proxy has no forwarded connection #${n}; it accepted ${this.accepted}`);
    }
    return connection;
  }

  /** The open connection whose upstream socket the server saw as `peer` (an `EchoReply.peer`). */
  connectionOfPeer(peer: string): ProxyConnection {
    const found = [...this.live].find((connection) => peer.endsWith(connection.serverSidePeer));
    if (!found) {
      throw new Error(`no open proxy connection is the server-side peer ${peer}`);
    }
    return found;
  }

  /** Connections accepted within the last `ms` milliseconds, or between two times. */
  acceptedBetween(from: number, to = Date.now()): number {
    return this.acceptedAt.filter((at) => at >= from && at <= to).length;
  }

  /** Closes the listener and destroys every connection. */
  async stop(): Promise<void> {
    for (const connection of this.live) connection.destroy();
    for (const socket of this.raw) socket.destroy();
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private async listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    const index = this.accepted++;
    if (this.acceptedAt.length < HISTORY_LIMIT) {
      this.acceptedAt.push(Date.now());
    }
    client.on('error', () => undefined);
    const fault = this.onAccept;
    if (fault === 'reset' || fault === 'close' || this.live.size >= this.maxConnections) {
      // Never dial upstream for a connection that dies at accept.
      this.raw.add(client);
      client.once('close', () => this.raw.delete(client));
      if (fault === 'close') client.destroy();
      else client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.options.targetPort, '127.0.0.1');
    const connection = new ProxyConnection(index, client, upstream, this.latencyMs);
    connection.mode = fault;
    if (this.connections.length < HISTORY_LIMIT) {
      this.connections.push(connection);
    }
    this.live.add(connection);
    void connection.closed.then(() => this.live.delete(connection));
    this.onConnection?.(connection);
    // Nothing listening upstream: the client sees its connection reset, as through a real proxy.
    upstream.once('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
  }
}
