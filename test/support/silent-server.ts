import net from 'node:net';

/**
 * A TCP server on 127.0.0.1 that accepts connections and never says a word: no HTTP/2
 * SETTINGS, no TLS handshake (a half-dead process, a misrouted port). It reads and drops what
 * it is sent, so it sees a client's FIN, and counts the connections it holds open.
 */
export class SilentServer {
  /** Connections accepted so far. */
  accepted = 0;
  /** Most connections ever open at once. */
  peak = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {
    server.on('connection', (socket) => {
      this.accepted++;
      this.sockets.add(socket);
      this.peak = Math.max(this.peak, this.sockets.size);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      socket.resume();
    });
  }

  static async start(): Promise<SilentServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new SilentServer(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections open right now, as the server sees them. */
  get open(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => this.server.close(resolve));
  }
}
